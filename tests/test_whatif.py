"""torcheck what-if: introduced, resolved, unchanged; input errors; nothing written; incremental == full."""
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from checker.cli import main
from checker.evaluate import evaluate
from checker.model import InputError
from checker.registry import load_registry
from checker.whatif import apply, evaluate_base, from_state, what_if

from .conftest import FACTS, ROOT, torcheck

AS_OF = "2026-11-28"
REG = "facts/u4ssc"  # as a user types it, from the repository's top


@pytest.fixture(autouse=True)
def _at_top(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args):
    """The command in this process; SQLite keeps it quick (tests below hold the engines to the same answer)."""
    r = CliRunner().invoke(main, ["what-if", "--engine", "sqlite", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def write(folder: Path, name: str, text: str) -> str:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def keys(vs):
    return sorted((v.rule, v.record) for v in vs)


@pytest.fixture(scope="module")
def base(rulebook):
    return load_registry(str(FACTS), rulebook.vocabulary, display="facts/u4ssc")


def proposed(rulebook, add=(), remove=()):
    return load_registry(str(FACTS), rulebook.vocabulary, display="facts/u4ssc", add_files=add, remove_ids=remove)


# ---------------------------------------------------------------- introduced, resolved, unchanged

MIXED = """\
partnerships:
  - id: ps-valmora          # replaces the planted city partnership with a UN one
    organization: itu
    since: 2020-01-01
publications:
  - id: pub-new
    title: A new report
    status: published
    published_on: 2026-10-01
    responsible: p-haddad
    logos: [u4ssc]
"""


def test_a_proposal_introduces_resolves_and_leaves_unchanged(rulebook, base, tmp_path):
    add = write(tmp_path, "proposal.yaml", MIXED)
    w = what_if(rulebook, base, proposed(rulebook, [add], ["ps-valmora", "a-ip-2025"]), AS_OF)
    # without the IP lead's appointment, the expert she selected was selected by no lead (20(c))
    assert keys(w.introduced) == [("expert-not-selected-by-lead", "a-exp-zhang"),
                                  ("publication-without-consent", "pub-new"),
                                  ("u4ssc-logo-without-approval", "pub-new")]
    # the city partnership is replaced; without the IP lead's appointment, her four breaches go too
    # (and her successor no longer overlaps her)
    assert keys(w.resolved) == [("ip-lead-event-without-partner", "ev-ip-mobility-roundtable-2026-03"),
                                ("ip-lead-missing-quarterly-meeting", "a-ip-2025"),
                                ("ip-lead-overlap", "a-ip-2027"),
                                ("ip-lead-partner-logo-without-consent", "pub-ip-case-studies-2026"),
                                ("partner-not-un-entity", "ps-valmora")]
    assert w.unchanged == 6
    assert (w.added, w.replaced, w.removed) == (("pub-new",), ("ps-valmora",), ("a-ip-2025",))
    # an introduced violation points at the proposal's file
    assert str(w.introduced[1].location) == f"{add}:6"


def test_json_keys_order_and_exit_status(tmp_path):
    add = write(tmp_path, "proposal.yaml", MIXED)
    code, out, _ = run(REG, "--as-of", AS_OF, "--add", add, "--remove", "ps-valmora", "--format", "json")
    data = json.loads(out)
    assert list(data) == ["as_of", "introduced", "resolved", "unchanged"]
    assert data["as_of"] == AS_OF and data["unchanged"] == 10
    assert [v["rule"] for v in data["introduced"]] == ["publication-without-consent", "u4ssc-logo-without-approval"]
    assert [v["record"] for v in data["resolved"]] == ["ps-valmora"]
    assert list(data["introduced"][0]) == ["rule", "clause", "severity", "record", "message", "because"]
    assert code == 1  # introduced errors
    assert run(REG, "--as-of", AS_OF, "--add", add, "--remove", "ps-valmora", "--fail-on", "never")[0] == 0


def test_a_replacement_that_fixes_a_breach_resolves_it_and_exits_0(tmp_path):
    fixed = write(tmp_path, "fix.yaml", """\
external_work:
  - id: ew-ieee-kpi-2026
    by: p-okafor
    forum: "IEEE Smart Cities technical community, working group on urban KPIs"
    started: 2026-04-01
    reported_on: 2026-05-01
""")
    code, out, _ = run(REG, "--as-of", AS_OF, "--add", fixed, "--remove", "ew-ieee-kpi-2026",
                       "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["introduced"] == []
    assert [(v["rule"], v["record"]) for v in data["resolved"]] == [("external-work-reported-late", "ew-ieee-kpi-2026")]
    assert data["unchanged"] == 10


def test_only_a_warning_introduced_fails_only_with_fail_on_warning(tmp_path):
    add = write(tmp_path, "rep.yaml", """\
representations:
  - id: rep-new
    person: p-haddad
    venue: Smart City Expo
    date: 2026-11-20
""")
    args = [REG, "--as-of", AS_OF, "--add", add]
    code, out, _ = run(*args)
    assert code == 0
    assert "+ warning  ToR 37  representation-without-notice  rep-new" in out
    assert run(*args, "--fail-on", "warning")[0] == 1


def test_a_removed_records_violations_count_as_resolved(rulebook, base):
    w = what_if(rulebook, base, proposed(rulebook, remove=["ew-ieee-kpi-2026"]), AS_OF, engine="sqlite")
    assert keys(w.resolved) == [("external-work-reported-late", "ew-ieee-kpi-2026")]
    assert w.introduced == () and w.unchanged == 10


def test_an_empty_proposal_changes_nothing(rulebook, base):
    w = what_if(rulebook, base, proposed(rulebook), AS_OF, engine="sqlite")
    assert (w.introduced, w.resolved, w.unchanged) == ((), (), 11)


def test_a_replacement_in_a_small_registry(rulebook, tmp_path):
    reg = tmp_path / "reg"
    reg.mkdir()
    write(reg, "r.yaml", """\
people:
  - id: p1
    name: One
external_work:
  - id: w1
    by: p1
    forum: A forum
    started: 2026-01-01
  - id: w2
    by: p1
    forum: Another forum
    started: 2026-01-01
    reported_on: 2026-01-10
""")
    add = write(tmp_path, "p.yaml", """\
external_work:
  - id: w1
    by: p1
    forum: A forum
    started: 2026-01-01
    reported_on: 2026-03-01
""")
    b = load_registry(str(reg), rulebook.vocabulary)
    p = load_registry(str(reg), rulebook.vocabulary, add_files=[add], remove_ids=["w1"])
    w = what_if(rulebook, b, p, "2026-06-01")
    assert keys(w.resolved) == [("external-work-not-reported", "w1")]
    assert keys(w.introduced) == [("external-work-reported-late", "w1")]
    assert w.unchanged == 0 and w.replaced == ("w1",)


# ---------------------------------------------------------------- the formats

def test_text_reads_as_a_diff(tmp_path):
    add = write(tmp_path, "proposal.yaml", MIXED)
    code, out, _ = run(REG, "--as-of", AS_OF, "--add", add, "--remove", "ps-valmora")
    lines = out.splitlines()
    assert lines[0] == "torcheck what-if: u4ssc rulebook, as of 2026-11-28"
    assert lines[1] == "the proposal adds 1 record (pub-new); replaces 1 record (ps-valmora)"
    body = [ln for ln in lines[3:-2]]
    assert body and all(ln[:2] in ("+ ", "- ") for ln in body)
    assert f"+ error    ToR 35  publication-without-consent  pub-new  {add}:6" in lines
    assert "- error    ToR 12  partner-not-un-entity  ps-valmora  facts/u4ssc/partnerships.yaml:63" in lines
    assert lines[-1] == "2 introduced (2 errors, 0 warnings, 0 notices), 1 resolved, 10 unchanged"


def test_markdown_is_a_decision_note(tmp_path):
    add = write(tmp_path, "proposal.yaml", MIXED)
    _, out, _ = run(REG, "--as-of", AS_OF, "--add", add, "--remove", "ps-valmora", "--format", "markdown")
    assert out.startswith("# What-if: a proposal against the u4ssc rulebook, as of 2026-11-28\n")
    assert "**Not compliant as proposed:** the proposal introduces 2 violations (2 errors, 0 warnings, 0 notices), " \
           "resolves 1 and leaves 10 unchanged." in out
    assert "- Adds `pub-new`\n- Replaces `ps-valmora`" in out
    assert "## Introduced (2)" in out and "## Resolved (1)" in out
    assert "- **error** ToR 12, `partner-not-un-entity`: `ps-valmora` at `facts/u4ssc/partnerships.yaml:63`" in out


# ---------------------------------------------------------------- input errors

def test_a_proposal_with_input_errors_names_its_file_and_line(tmp_path):
    bad = write(tmp_path, "bad.yaml", """\
publications:
  - id: pub-bad
    title: Bad
    status: publishd
    responsible: p-haddad
""")
    code, out, err = run(REG, "--add", bad)
    assert code == 2 and out == ""
    assert f"{bad}:4:13: error[bad-enum]" in err


def test_adding_an_id_the_registry_has_needs_its_removal(tmp_path):
    dup = write(tmp_path, "dup.yaml", "people:\n  - id: p-haddad\n    name: Someone else\n")
    code, _, err = run(REG, "--add", dup)
    assert code == 2
    assert f"{dup}:2: error[duplicate-id]" in err and "--remove p-haddad" in err


def test_removing_an_unknown_id_and_a_missing_proposal_file(tmp_path):
    code, _, err = run(REG, "--remove", "no-such-record", "--add", str(tmp_path / "missing.yaml"))
    assert code == 2
    assert "error[unknown-id]: cannot remove 'no-such-record'" in err
    assert "error[proposal-not-found]" in err


def test_removing_a_referenced_record_names_the_referrers():
    code, _, err = run(REG, "--remove", "p-lindqvist")
    assert code == 2
    assert "error[referenced-record]: cannot remove 'p-lindqvist': still referred to by" in err
    assert "appointment a-ip-2025 (field 'person', facts/u4ssc/appointments.yaml:69)" in err


def test_library_raises_input_error_for_a_referenced_record(rulebook):
    with pytest.raises(InputError) as e:
        proposed(rulebook, remove=["a-ip-2025", "p-lindqvist"])
    assert {d.code for d in e.value.diagnostics} == {"referenced-record"}


def test_no_file_is_written(tmp_path):
    reg = tmp_path / "registry"
    shutil.copytree(FACTS, reg)
    prop = tmp_path / "proposals"
    prop.mkdir()
    write(prop, "p.yaml", MIXED)
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def snapshot():
        return {str(p.relative_to(tmp_path)): (p.read_bytes(), p.stat().st_mtime_ns)
                for p in sorted(tmp_path.rglob("*")) if p.is_file()} | \
               {str(p.relative_to(tmp_path)): None for p in tmp_path.rglob("*") if p.is_dir()}

    before = snapshot()
    r = torcheck("what-if", str(reg), "--as-of", AS_OF, "--add", str(prop / "p.yaml"), "--remove", "ps-valmora",
                 cwd=cwd, env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("torcheck what-if: u4ssc rulebook, as of 2026-11-28\n")
    assert snapshot() == before


# ---------------------------------------------------------------- incremental == full

def _engine_rows(ev, rb):
    return {rel: ev.engine.query(rel) for rel in sorted(rb.program.relations)
            if rel.startswith(("rule:", "deadline:", "pred:"))}


def test_incremental_equals_full_evaluation_exactly(rulebook, base, tmp_path):
    # records dated in new years widen the calendar; a replacement and a removal narrow nothing else
    add = write(tmp_path, "later.yaml", MIXED + """\
events:
  - id: ev-2031
    title: A forum in 2031
    date: 2031-05-05
    organizer: p-haddad
    logos: [u4ssc]
""")
    prop = proposed(rulebook, [add], ["ps-valmora", "a-ip-2025", "ew-ieee-kpi-2026"])
    ev = evaluate_base(rulebook, base, AS_OF)
    ev.violations()
    inc = apply(ev, prop)
    # what the proposal cannot reach is answered as before, without asking the engine again
    kept = set(inc.engine.kept)
    # (41 reads appointments since revision 4, D4: a focal point counts as the secretariat)
    assert "rule:tor-not-submitted-by-secretariat:0" in kept
    assert not any(r.startswith(("rule:partner-not-un-entity", "rule:external-work", "rule:u4ssc-logo")) for r in kept)
    inc_rows, inc_vs = _engine_rows(inc, rulebook), inc.violations()
    full = evaluate(rulebook, prop, AS_OF)
    assert inc.facts == full.facts  # same rows in the same order, the calendar through 2031 included
    assert inc.facts["calendar_year"][-1][0] == 2031
    assert inc.provenance == full.provenance
    assert inc_rows == _engine_rows(full, rulebook)
    assert [(v.to_json(), v.location) for v in inc_vs] == [(v.to_json(), v.location) for v in full.violations()]
    assert ("u4ssc-logo-without-approval", "ev-2031") in {(v.rule, v.record) for v in inc_vs}


def test_what_if_incremental_and_full_agree_on_sqlite_too(rulebook, base, tmp_path):
    add = write(tmp_path, "proposal.yaml", MIXED)
    prop = proposed(rulebook, [add], ["ps-valmora", "a-ip-2025"])
    inc = what_if(rulebook, base, prop, AS_OF, engine="sqlite")
    assert inc == what_if(rulebook, base, prop, AS_OF, engine="sqlite", full=True)


# ---------------------------------------------------------------- property: what-if == the difference of two checks


def _referrers(records, vocab):
    """id -> ids of the records whose references name it."""
    out = {}
    for rec in records.values():
        kind = vocab.kinds[rec.kind]
        for fname, v in rec.values.items():
            f = kind.fields[fname]
            if f.type != "ref":
                continue
            for x in (v if isinstance(v, tuple) else (v,)):
                if x in records:
                    out.setdefault(x, set()).add(rec.id)
    return out


def _yaml_value(v):
    return list(v) if isinstance(v, tuple) else v


def _shift(value: str, years: int) -> str:
    y = int(value[:4]) + years
    day = "28" if value[5:] == "02-29" else value[8:]
    return f"{y:04d}-{value[5:7]}-{day}"


@pytest.fixture(scope="module")
def full_before(rulebook, base):
    return evaluate(rulebook, base, AS_OF, "sqlite").violations()


@pytest.fixture(scope="module")
def kept_state(rulebook, base, tmp_path_factory):
    """The database a check of the registry keeps (checker.memo), for what-if from it."""
    ev = evaluate(rulebook, base, AS_OF, "sqlite")
    ev.violations()
    path = tmp_path_factory.mktemp("state") / "state.sqlite"
    ev.engine.save(path)
    return path


# SQLite keeps 20 examples quick; test_incremental_equals_full_evaluation_exactly holds pyDatalog to the same
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_what_if_is_the_difference_of_two_checks(rulebook, base, full_before, kept_state, data):
    vocab = rulebook.vocabulary
    ids = sorted(base.records)
    referrers = _referrers(base.records, vocab)
    # removals, closed under "is referred to by", so that no remaining record refers to a removed one
    removed = set(data.draw(st.lists(st.sampled_from(ids), max_size=4), label="remove"))
    todo = list(removed)
    while todo:
        for r in referrers.get(todo.pop(), ()):
            if r not in removed:
                removed.add(r)
                todo.append(r)
    # additions: records of the registry, some replacing themselves, some copied under a new id,
    # with a date moved by a few years (possibly into years no record has)
    kept = [i for i in ids if i not in removed]
    picked = data.draw(st.lists(st.sampled_from(kept), max_size=4, unique=True), label="add")
    files: dict[str, list] = {}
    remove_ids = sorted(removed)
    for rid in picked:
        rec = base.records[rid]
        kind = vocab.kinds[rec.kind]
        values = {k: _yaml_value(v) for k, v in rec.values.items()}
        date_fields = [f for f in values if kind.fields[f].type == "date"]
        if date_fields and data.draw(st.booleans(), label=f"shift {rid}"):
            f = data.draw(st.sampled_from(date_fields))
            values[f] = _shift(values[f], data.draw(st.integers(-3, 5)))
        if data.draw(st.booleans(), label=f"replace {rid}"):
            remove_ids.append(rid)
        elif not referrers.get(rid):
            values["id"] = rid + "-copy"
        else:
            continue
        files.setdefault(rec.kind, []).append(values)
    with tempfile.TemporaryDirectory() as tmp:
        add = []
        if files:
            p = Path(tmp) / "proposal.yaml"
            p.write_text(yaml.safe_dump(files, sort_keys=False, allow_unicode=True), encoding="utf-8")
            add.append(str(p))
        prop = load_registry(str(FACTS), vocab, display="facts/u4ssc", add_files=add, remove_ids=remove_ids)
        w = what_if(rulebook, base, prop, AS_OF, engine="sqlite")
        full_after = evaluate(rulebook, prop, AS_OF, "sqlite").violations()
        # from a check's kept result and database, the same answer, explanations included
        assert what_if(rulebook, base, prop, AS_OF, engine="sqlite", before=full_before, state=kept_state) == w
        used = from_state(rulebook, base, prop, AS_OF, kept_state) is not None
        event(f"from the kept database {used}")
    before = {v.key() for v in full_before}
    after = {v.key() for v in full_after}
    assert [v.to_json() for v in w.introduced] == [v.to_json() for v in full_after if v.key() not in before]
    assert [v.to_json() for v in w.resolved] == [v.to_json() for v in full_before if v.key() not in after]
    assert w.unchanged == len(before & after)
    event(f"introduced {bool(w.introduced)}, resolved {bool(w.resolved)}")


def test_the_registry_is_read_once_and_its_base_is_the_registry_as_read(rulebook, base, tmp_path):
    add = write(tmp_path, "proposal.yaml", MIXED)
    prop = proposed(rulebook, [add], ["ps-valmora", "a-ip-2025"])
    assert prop.base.records == base.records and list(prop.base.records) == list(base.records)
    assert proposed(rulebook).base is None  # no proposal: the registry is its own base


def test_a_proposal_may_add_the_record_a_reference_of_the_registry_misses(tmp_path):
    """References are checked on the result (cli.md): the registry alone need not be whole."""
    reg = tmp_path / "reg"
    reg.mkdir()
    write(reg, "r.yaml", "external_work:\n  - id: w1\n    by: p-new\n    forum: F\n    started: 2026-01-01\n")
    add = write(tmp_path, "p.yaml", "people:\n  - id: p-new\n    name: New\n")
    code, out, err = run(str(reg), "--as-of", "2026-06-01", "--add", add, "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"as_of": "2026-06-01", "introduced": [], "resolved": [], "unchanged": 1}


def test_a_large_proposal_names_its_first_records(rulebook):
    from checker.whatif import WhatIf, render_markdown, render_text

    w = WhatIf("2026-11-28", "u4ssc", (), (), 3, added=tuple(f"r{i:02d}" for i in range(15)))
    assert "the proposal adds 15 records (r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11 and 3 more)" \
        in render_text(w)
    assert "- Adds `r00`, `r01`," in render_markdown(w) and "`r11` and 3 more" in render_markdown(w)
    assert render_text(w).endswith("\n0 introduced, 0 resolved, 3 unchanged\n")
