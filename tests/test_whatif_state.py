"""What-if from the SQLite database a check kept (checker.whatif.from_state): the same answers as from scratch."""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

import checker.whatif
from checker.cli import main
from checker.engines.sqlite import SQLiteEngine

from .conftest import torcheck
from .test_memo import PROPOSAL as LONG_TERM  # a lead's term of three years

ARGS = ("--as-of", "2026-11-28", "--engine", "sqlite")

REPLACED = """appointments:
  - id: a-lead-twins-2025
    person: p-roll
    role: lead
    start: 2025-03-01
    end: 2026-02-01
    appointed_by: secretariat
    group: digital twins
"""

PROPOSALS = {
    "adds a long term (a new year in the calendar)": (["--add", "long.yaml"]),
    "replaces a lead": (["--add", "replaced.yaml", "--remove", "a-lead-twins-2025"]),
    "removes a record of the calendar's first year": (["--remove", "a-fp-unece"]),
    "adds and removes": (["--add", "long.yaml", "--remove", "a-lead-twins-2025"]),
}


@pytest.fixture
def setup(facts_copy, cache_folder, tmp_path):
    (tmp_path / "long.yaml").write_text(LONG_TERM, encoding="utf-8")
    (tmp_path / "replaced.yaml").write_text(REPLACED, encoding="utf-8")
    r = torcheck("check", str(facts_copy), *ARGS, "--format", "json")
    assert r.returncode == 1
    states = list((cache_folder / "results").glob("*.sqlite"))
    assert len(states) == 1  # the check kept its database
    return facts_copy, tmp_path, states[0]


def what_if(reg, tmp_path, words, *extra):
    words = [str(tmp_path / w) if w.endswith(".yaml") else w for w in words]
    return torcheck("what-if", str(reg), *words, *ARGS, *extra)


@pytest.mark.parametrize("name", sorted(PROPOSALS))
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_what_if_from_the_kept_database_answers_as_from_scratch(setup, name, fmt):
    reg, tmp_path, _ = setup
    kept = what_if(reg, tmp_path, PROPOSALS[name], "--format", fmt)
    scratch = what_if(reg, tmp_path, PROPOSALS[name], "--format", fmt, "--no-cache")
    assert (kept.returncode, kept.stdout, kept.stderr) == (scratch.returncode, scratch.stdout, scratch.stderr)
    assert kept.returncode in (0, 1), kept.stderr


def test_the_kept_database_is_what_is_evaluated(setup, monkeypatch):
    """No evaluation from scratch at all: the database changed by the proposal gives the answer."""
    reg, tmp_path, _ = setup
    expected = json.loads(what_if(reg, tmp_path, PROPOSALS["adds and removes"], "--format", "json").stdout)
    assert [v["rule"] for v in expected["introduced"]] == ["term-exceeds-two-years"]

    def no(*args, **kwargs):
        raise AssertionError("evaluated from scratch")

    monkeypatch.setattr(checker.whatif, "evaluate", no)
    words = [str(tmp_path / "long.yaml") if w == "long.yaml" else w for w in PROPOSALS["adds and removes"]]
    r = CliRunner().invoke(main, ["what-if", str(reg), *words, *ARGS, "--format", "json"])
    assert r.exit_code == 1, r.output
    assert json.loads(r.output) == expected
    # a proposal that might narrow the calendar is evaluated from scratch: here, that is refused
    words = ["--remove", "a-fp-unece"]
    r = CliRunner().invoke(main, ["what-if", str(reg), *words, *ARGS, "--format", "json"])
    assert isinstance(r.exception, AssertionError)


@pytest.mark.parametrize("damage", ["garbage", "a view", "a trigger", "a table missing"])
def test_a_damaged_or_foreign_database_is_not_used(setup, damage):
    reg, tmp_path, state = setup
    if damage == "garbage":
        state.write_bytes(b"not a database" * 100)
    else:
        db = sqlite3.connect(state)
        if damage == "a view":
            db.execute("CREATE VIEW v AS SELECT 1")
        elif damage == "a trigger":
            db.execute("CREATE TABLE log (x)")
            db.execute("CREATE TRIGGER tr AFTER INSERT ON t1 BEGIN INSERT INTO log VALUES (1); END")
        else:
            db.execute("DROP TABLE t1")
        db.commit()
        db.close()
    words = PROPOSALS["adds and removes"]
    kept = what_if(reg, tmp_path, words, "--format", "json")
    scratch = what_if(reg, tmp_path, words, "--format", "json", "--no-cache")
    assert kept.returncode == scratch.returncode == 1 and kept.stdout == scratch.stdout


def test_restore_refuses_what_the_program_did_not_save_and_answers_only_what_it_kept(setup, rulebook, tmp_path):
    _, _, state = setup
    eng = SQLiteEngine.restore(rulebook.program, state)
    head = rulebook.rules[0].alternatives[0].head
    assert isinstance(eng.query(head), list)
    lost = sorted(eng.lost)
    assert lost  # relations no rule reads were never in the database
    with pytest.raises(RuntimeError):
        eng.query(lost[0])
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t0 (c0)").connection.close()
    with pytest.raises(sqlite3.DatabaseError):
        SQLiteEngine.restore(rulebook.program, other)
    # the same names, another definition
    redefined = tmp_path / "redefined.sqlite"
    redefined.write_bytes(state.read_bytes())
    db = sqlite3.connect(redefined)
    db.execute("DROP INDEX t1_c1")
    db.execute("CREATE INDEX t1_c1 ON t1 (c0)")
    db.commit()
    db.close()
    with pytest.raises(sqlite3.DatabaseError):
        SQLiteEngine.restore(rulebook.program, redefined)
