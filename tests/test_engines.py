"""The two engines agree: pyDatalog and SQLite give the same violations, row for row.

Differential tests over every rule case of the rulebook, over small registries
Hypothesis makes from the vocabulary, and over the example registry; then the
SQLite engine's own semantics on hand-written programs (recursion, nested
negation, assignments, incremental changes, bad programs, hostile values).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker import ir
from checker.cases import load_cases, run_case
from checker.engines import get_engine
from checker.engines.checks import ProgramError, problems
from checker.engines.pydatalog import PyDatalogEngine
from checker.engines.sqlite import SQLiteEngine
from checker.evaluate import evaluate
from checker.registry import load_registry
from checker.render import render

from .conftest import FACTS, RULES

ENGINES = ("pydatalog", "sqlite")
CASES = load_cases(str(RULES))
V, K = ir.V, ir.K


def _key(vs):
    return [(v.rule, v.record, v.severity, v.message, v.because) for v in vs]


# ---------------------------------------------------------------- the rule cases


def test_every_rule_case_gives_the_same_violations_on_both_engines(rulebook):
    differ = []
    for case in CASES:
        out = {e: run_case(rulebook, case, e) for e in ENGINES}
        assert out["sqlite"].error is None, out["sqlite"].error
        if _key(out["pydatalog"].actual) != _key(out["sqlite"].actual):
            differ.append(f"{case.file}:{case.line} {case.id}")
        assert out["sqlite"].passed == out["pydatalog"].passed, case.id
    assert len(CASES) > 300
    assert not differ, "\n".join(differ)


def test_the_example_registry_gives_the_same_json_report_on_both_engines(rulebook):
    reg = load_registry(str(FACTS), rulebook.vocabulary, display="facts/u4ssc")
    reports = {e: render(evaluate(rulebook, reg, "2026-11-28", e).report(), "json") for e in ENGINES}
    assert reports["pydatalog"] == reports["sqlite"]
    assert '"violations": [\n    {' in reports["sqlite"]  # the example has violations to agree on


def test_what_if_applied_incrementally_on_sqlite_equals_a_fresh_evaluation(rulebook):
    from checker.whatif import apply

    reg = load_registry(str(FACTS), rulebook.vocabulary, display="facts/u4ssc")
    records = dict(reg.records)
    victim = next(i for i, r in records.items() if r.kind == "approvals")
    smaller = type(reg)(reg.path, {i: r for i, r in records.items() if i != victim})
    ev = evaluate(rulebook, reg, "2026-11-28", "sqlite")
    before = ev.violations()
    after = apply(ev, smaller).violations()
    fresh = evaluate(rulebook, smaller, "2026-11-28", "sqlite").violations()
    assert _key(after) == _key(fresh)
    assert _key(after) != _key(before)  # removing an approval changes something
    back = apply(evaluate(rulebook, smaller, "2026-11-28", "sqlite"), reg).violations()
    assert _key(back) == _key(before)


# ---------------------------------------------------------------- registries from Hypothesis

DATES = ("2023-12-31", "2024-01-01", "2024-02-29", "2024-03-31", "2024-06-30", "2024-07-01", "2025-01-01",
         "2025-03-31", "2025-06-01", "2025-12-31", "2026-01-01", "2026-04-01", "2026-06-01", "2026-11-28",
         "2027-01-01")


@st.composite
def registries(draw, vocab):
    """A valid registry dict over the vocabulary: a few records of each kind, references that resolve."""
    kinds = list(vocab.kinds.values())
    ids = {}
    for k in kinds:
        n = draw(st.integers(0, 4 if k.name in ("appointments", "partnerships", "organizations", "people") else 2))
        ids[k.name] = [f"{k.singular.replace('_', '-')}-{i}" for i in range(n)]

    def pool(fld):
        out = []
        for t in fld.targets:
            if t == "any":
                out += [i for k in kinds for i in ids[k.name]] + list(vocab.bodies)
            elif t == "body":
                out += list(vocab.bodies)
            elif t == "logo":
                out += list(vocab.logos)
            elif t in vocab.kinds:
                out += ids[t]
            else:
                out.append(t)
        return sorted(set(out))

    def value(fld):
        if fld.type == "ref":
            options = pool(fld)
            if not options:
                return None
            if fld.is_list:
                return draw(st.lists(st.sampled_from(options), max_size=3, unique=True))
            return draw(st.sampled_from(options))
        one = {
            "text": lambda: draw(st.sampled_from(["A", "No", "x: y"])),
            "date": lambda: draw(st.sampled_from(DATES)),
            "year": lambda: draw(st.sampled_from([2023, 2024, 2025, 2026])),
            "boolean": lambda: draw(st.sampled_from(["true", "false"])),
            "enum": lambda: draw(st.sampled_from(list(fld.values))),
        }[fld.type]
        return [one() for _ in range(draw(st.integers(0, 2)))] if fld.is_list else one()

    changed = True
    while changed:  # a kind whose required reference has nothing to refer to has no records
        changed = False
        for k in kinds:
            if ids[k.name] and any(f.required and f.type == "ref" and not pool(f) for f in k.fields.values()):
                ids[k.name] = []
                changed = True
    out = {}
    for k in kinds:
        recs = []
        for rid in ids[k.name]:
            rec = {"id": rid}
            for fname, fld in k.fields.items():
                if fname == "id":
                    continue
                if fld.required or draw(st.booleans()):
                    v = value(fld)
                    if v is not None:
                        rec[fname] = v
            for fname, fld in k.fields.items():
                if fld.required_when and fname not in rec:
                    other, want = fld.required_when
                    if str(rec.get(other)) == want:
                        rec[fname] = value(fld)
            recs.append(rec)
        if recs:
            out[k.name] = recs
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_registries_give_the_same_report_on_both_engines(rulebook, data):
    reg_dict = data.draw(registries(rulebook.vocabulary))
    as_of = data.draw(st.sampled_from(DATES))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "registry.yaml").write_text(yaml.safe_dump(reg_dict or {"people": []}, sort_keys=False),
                                              encoding="utf-8")
        reg = load_registry(tmp, rulebook.vocabulary, display="generated")
    reports = {e: render(evaluate(rulebook, reg, as_of, e).report(), "json") for e in ENGINES}
    assert reports["pydatalog"] == reports["sqlite"]


# ---------------------------------------------------------------- the engine on hand-written programs


def program(relations: dict, edb, rules, static=None):
    p = ir.Program()
    for name, arity in relations.items():
        p.add_relation(name, arity, edb=name in edb)
    p.rules.extend(rules)
    p.static_facts.update(static or {})
    return p


def both(p, facts):
    out = {}
    for name in ENGINES:
        eng = get_engine(name)(p)
        eng.load(facts)
        out[name] = eng
    return out


def reach_program():
    return program({"edge": 2, "reach": 2, "unreached": 2, "node": 1}, {"edge", "node"}, [
        ir.Rule("reach", (V("X"), V("Y")), (ir.Pos("edge", (V("X"), V("Y"))),)),
        ir.Rule("reach", (V("X"), V("Y")), (ir.Pos("reach", (V("X"), V("Z"))), ir.Pos("edge", (V("Z"), V("Y"))))),
        ir.Rule("unreached", (V("X"), V("Y")), (ir.Pos("node", (V("X"),)), ir.Pos("node", (V("Y"),)),
                                                ir.Neg((ir.Pos("reach", (V("X"), V("Y"))),)))),
    ])


def test_recursion_over_a_cycle_and_negation_of_the_result():
    facts = {"edge": [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], "node": [("a",), ("b",), ("c",), ("d",)]}
    engines = both(reach_program(), facts)
    reach = engines["sqlite"].query("reach")
    assert len(reach) == 12 and ("d", "a") not in reach and ("a", "a") in reach
    assert engines["sqlite"].query("unreached") == [("d", "a"), ("d", "b"), ("d", "c"), ("d", "d")]
    for rel in ("reach", "unreached"):
        assert engines["sqlite"].query(rel) == engines["pydatalog"].query(rel)


def test_retract_and_load_recompute_the_derived_relations():
    eng = SQLiteEngine(reach_program())
    eng.load({"edge": [("a", "b"), ("b", "c")], "node": [("a",), ("b",), ("c",)]})
    assert ("a", "c") in eng.query("reach")
    eng.retract({"edge": [("b", "c")]})
    assert eng.query("reach") == [("a", "b")]
    assert ("a", "c") in eng.query("unreached")
    eng.load({"edge": [("b", "c")]})
    assert eng.query("reach") == [("a", "b"), ("a", "c"), ("b", "c")]


def test_changes_recompute_only_what_they_reach_and_agree_with_a_fresh_evaluation():
    import random

    p = reach_program()
    p.add_relation("tag", 1, edb=True)
    p.add_relation("tagged", 1)
    p.rules.append(ir.Rule("tagged", (V("X"),), (ir.Pos("tag", (V("X"),)), ir.Neg((ir.Pos("edge", (V("X"), K("z"))),)))))
    rng = random.Random(7)
    nodes = "abcdz"
    facts = {"edge": set(), "node": {(n,) for n in nodes}, "tag": set()}
    eng = SQLiteEngine(p)
    eng.load({k: sorted(v) for k, v in facts.items()})
    for _ in range(40):
        rel = rng.choice(["edge", "tag"])
        row = (rng.choice(nodes), rng.choice(nodes)) if rel == "edge" else (rng.choice(nodes),)
        if row in facts[rel]:
            facts[rel].discard(row)
            eng.retract({rel: [row]})
        else:
            facts[rel].add(row)
            eng.load({rel: [row]})
        fresh = SQLiteEngine(p)
        fresh.load({k: sorted(v) for k, v in facts.items()})
        for q in ("reach", "unreached", "tagged"):
            assert eng.query(q) == fresh.query(q)
    # a change to `tag` leaves the reach stratum alone: a row planted there survives the re-evaluation
    eng.db.execute(f"INSERT INTO {eng.c.table['reach']} VALUES ('planted', 'row')")
    eng.load({"tag": [("q",)]})
    assert ("q",) in eng.query("tagged") and ("planted", "row") in eng.query("reach")
    eng.load({"edge": [("q", "q")]})
    assert ("planted", "row") not in eng.query("reach")


def test_mutual_recursion_reaches_its_fixpoint():
    p = program({"n": 1, "succ": 2, "even": 1, "odd": 1}, {"n", "succ"}, [
        ir.Rule("even", (K(0),), ()),
        ir.Rule("odd", (V("Y"),), (ir.Pos("even", (V("X"),)), ir.Pos("succ", (V("X"), V("Y"))))),
        ir.Rule("even", (V("Y"),), (ir.Pos("odd", (V("X"),)), ir.Pos("succ", (V("X"), V("Y"))))),
    ])
    eng = SQLiteEngine(p)
    eng.load({"succ": [(i, i + 1) for i in range(20)]})
    assert eng.query("even") == [(i,) for i in range(0, 21, 2)]
    assert eng.query("odd") == [(i,) for i in range(1, 21, 2)]


def test_nested_negation_assignments_and_dates_functions_agree():
    # late(A): an appointment whose approval, if any, is more than 30 days after it, unless some waiver
    # names it; ends(A, E): its start plus two years
    p = program({"appt": 2, "appr": 2, "waiver": 1, "late": 1, "ends": 2, "leap": 1}, {"appt", "appr", "waiver"}, [
        ir.Rule("late", (V("A"),), (
            ir.Pos("appt", (V("A"), V("S"))),
            ir.Let(V("D"), ir.Fn("add_days", (V("S"), K(30)))),
            ir.Neg((ir.Pos("appr", (V("A"), V("T"))), ir.Cmp("<=", V("T"), V("D")),
                    ir.Neg((ir.Pos("waiver", (V("T"),)),)))),
        )),
        ir.Rule("ends", (V("A"), V("E")), (ir.Pos("appt", (V("A"), V("S"))),
                                          ir.Let(V("E"), ir.Fn("add_years", (V("S"), K(2)))))),
        ir.Rule("leap", (V("A"),), (ir.Pos("appt", (V("A"), V("S"))), ir.Cmp("=", ir.Fn("year_of", (V("S"),)),
                                                                             K(2024)))),
    ])
    facts = {"appt": [("a1", "2024-02-29"), ("a2", "2025-01-31"), ("a3", "2025-05-01")],
             "appr": [("a1", "2024-03-01"), ("a2", "2025-03-15"), ("a3", "2025-05-02")],
             "waiver": [("2025-05-02",)]}
    engines = both(p, facts)
    assert engines["sqlite"].query("late") == [("a2",), ("a3",)]
    assert ("a1", "2026-02-28") in engines["sqlite"].query("ends")
    assert engines["sqlite"].query("leap") == [("a1",)]
    for rel in ("late", "ends", "leap"):
        assert engines["sqlite"].query(rel) == engines["pydatalog"].query(rel)


def test_integers_and_text_never_compare_equal():
    p = program({"a": 1, "b": 1, "both": 1}, {"a", "b"}, [
        ir.Rule("both", (V("X"),), (ir.Pos("a", (V("X"),)), ir.Pos("b", (V("X"),))))])
    engines = both(p, {"a": [(2025,), ("010",)], "b": [("2025",), (10,), ("010",)]})
    assert engines["sqlite"].query("both") == [("010",)] == engines["pydatalog"].query("both")


def test_values_are_data_never_sql():
    hostile = "x'); DROP TABLE t0; --"
    p = program({"a": 1, "b": 1}, {"a"}, [ir.Rule("b", (V("X"),), (ir.Pos("a", (V("X"),)),
                                                                     ir.Cmp("!=", V("X"), K("' OR 1=1 --"))))])
    eng = SQLiteEngine(p)
    eng.load({"a": [(hostile,), ("' OR 1=1 --",)]})
    assert eng.query("b") == [(hostile,)]
    assert eng.query("a") == [("' OR 1=1 --",), (hostile,)]


def test_relation_names_never_reach_sql():
    name = 'a"; DROP TABLE t0; --'
    p = program({name: 1, "b]": 1}, {name}, [ir.Rule("b]", (V("X"),), (ir.Pos(name, (V("X"),)),))])
    eng = SQLiteEngine(p)
    eng.load({name: [("v",)]})
    assert eng.query("b]") == [("v",)]


def test_a_failing_date_function_drops_the_row():
    # Year 9999 + 1 is no date: the function fails and the row is dropped, on both engines (SQLite: the
    # call gives NULL, which nothing equals; pyDatalog: a failed value, which nothing equals).
    p = program({"d": 1, "later": 2}, {"d"}, [
        ir.Rule("later", (V("X"), V("Y")), (ir.Pos("d", (V("X"),)), ir.Let(V("Y"), ir.Fn("add_years", (V("X"), K(1))))))])
    engines = both(p, {"d": [("2024-02-29",), ("9999-06-01",)]})
    assert engines["sqlite"].query("later") == [("2024-02-29", "2025-02-28")] == engines["pydatalog"].query("later")


def test_zero_arity_relations():
    p = program({"flag": 0, "seen": 1, "any": 0}, {"flag", "seen"}, [ir.Rule("any", (), (ir.Pos("seen", (V("X"),)),
                                                                                          ir.Pos("flag", ())))])
    eng = SQLiteEngine(p)
    eng.load({"seen": [("a",)]})
    assert eng.query("any") == []
    eng.load({"flag": [()]})
    assert eng.query("any") == [()]


def test_programs_without_a_meaning_are_refused():
    cyclic = program({"p": 1, "q": 1, "r": 1}, {"r"}, [
        ir.Rule("p", (V("X"),), (ir.Pos("r", (V("X"),)), ir.Neg((ir.Pos("q", (V("X"),)),)))),
        ir.Rule("q", (V("X"),), (ir.Pos("r", (V("X"),)), ir.Neg((ir.Pos("p", (V("X"),)),)))),
    ])
    with pytest.raises(ProgramError, match="through negation"):
        SQLiteEngine(cyclic)
    unsafe = program({"p": 2, "r": 1}, {"r"}, [ir.Rule("p", (V("X"), V("Y")), (ir.Pos("r", (V("X"),)),))])
    with pytest.raises(ProgramError, match="Y is not bound"):
        SQLiteEngine(unsafe)
    early = program({"p": 1, "r": 1}, {"r"}, [ir.Rule("p", (V("X"),), (ir.Cmp("<", V("X"), K(3)), ir.Pos("r", (V("X"),))))])
    assert problems(early) == ["rule 1 (p): variable X is not bound by a positive atom before it is used"]


def test_the_rulebook_passes_the_program_checks(rulebook):
    assert problems(rulebook.program) == []


def test_engine_classes_are_found_by_name():
    assert get_engine("sqlite") is SQLiteEngine and get_engine("pydatalog") is PyDatalogEngine
