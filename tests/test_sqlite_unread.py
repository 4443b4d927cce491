"""SQLite keeps the facts of relations no rule reads out of its tables, and still answers for them."""
from __future__ import annotations

from checker import ir
from checker.engines.pydatalog import PyDatalogEngine
from checker.engines.sqlite import SQLiteEngine


def program():
    p = ir.Program()
    p.add_relation("person", 1, edb=True)
    p.add_relation("person.name", 2, edb=True)  # read by no rule
    p.add_relation("person.role", 2, edb=True)
    p.add_relation("lead", 1)
    x, r = ir.V("X"), ir.V("R")
    p.rules.append(ir.Rule("lead", (x,), (ir.Pos("person", (x,)), ir.Pos("person.role", (x, ir.K("lead"))))))
    return p


FACTS = {"person": [("p1",), ("p2",)], "person.name": [("p1", "Ada"), ("p2", "Bo")],
         "person.role": [("p1", "lead"), ("p2", "member")]}


def test_an_unread_relation_is_not_loaded_until_asked_for_and_then_answers_like_pydatalog():
    p = program()
    eng = SQLiteEngine(p)
    eng.load(FACTS)
    table = eng.c.table["person.name"]
    assert eng.db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)  # kept out of the table
    assert eng.query("lead") == [("p1",)]
    ref = PyDatalogEngine(p)
    ref.load(FACTS)
    assert eng.query("person.name") == ref.query("person.name") == [("p1", "Ada"), ("p2", "Bo")]
    # changes before and after it was asked for
    eng.retract({"person.name": [("p1", "Ada")]})
    eng.load({"person.name": [("p3", "Cy")], "person": [("p3",)], "person.role": [("p3", "lead")]})
    assert eng.query("person.name") == [("p2", "Bo"), ("p3", "Cy")]
    assert eng.query("lead") == [("p1",), ("p3",)]


def test_retracting_an_unread_relation_before_it_is_asked_for():
    eng = SQLiteEngine(program())
    eng.load(FACTS)
    eng.retract({"person.name": [("p2", "Bo")]})
    assert eng.query("person.name") == [("p1", "Ada")]
