"""`torcheck explain REGISTRY RECORD` and the explanations it prints.

Golden transcripts: tests/data/golden/explain-<record>.txt (and .json) on the
golden registry as of 2025-10-15; re-record with

    TORCHECK_RECORD=1 pytest tests/test_explain.py

and review the diff by eye. Beyond the transcripts, properties every
explanation has, checked on the golden registry and on every violating case of
the rulebook's own tests: each fact has its file and line, and that line holds
it; helper conclusions carry their grounds; a negated condition says in words
what was looked for; the parameters used are named; the order is canonical.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml

from checker.cases import load_cases, rulebook_for
from checker.evaluate import evaluate
from checker.registry import load_registry
from checker.render import explain as nodes

from .conftest import ROOT, RULES, torcheck
from .test_check_cli import ANSI, AS_OF, REGISTRY, run_on_terminal

GOLDEN = Path(__file__).parent / "data" / "golden"
RECORD = os.environ.get("TORCHECK_RECORD") == "1"


def explain(*args, env=None):
    return torcheck("explain", *args, env=env)


def assert_clean_failure(r, code=2):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "" and "Traceback" not in r.stderr


# --- golden transcripts -----------------------------------------------------------------


@pytest.mark.parametrize("record, fmt", [
    ("a-ip-2025", "text"), ("a-ip-2025", "json"), ("st-kim", "text"), ("c-porto", "text"),
])
def test_golden(record, fmt):
    r = explain(REGISTRY, record, "--as-of", AS_OF, "--format", fmt)
    assert (r.returncode, r.stderr) == (0, "")
    path = GOLDEN / f"explain-{record}.{'txt' if fmt == 'text' else 'json'}"
    if RECORD:
        path.write_bytes(r.stdout.encode("utf-8"))
    assert r.stdout == path.read_bytes().decode("utf-8"), "re-record with TORCHECK_RECORD=1 if the change is wanted"


def test_json_is_the_check_reports_violations_of_the_record():
    report = json.loads(torcheck("check", REGISTRY, "--as-of", AS_OF, "--format", "json").stdout)
    for record in ("a-ip-2025", "st-kim", "ps-city"):
        r = explain(REGISTRY, record, "--as-of", AS_OF, "--format", "json")
        assert r.returncode == 0
        assert json.loads(r.stdout) == [v for v in report["violations"] if v["record"] == record]


# --- the command ------------------------------------------------------------------------


def test_unknown_record_is_a_clean_error_with_a_suggestion():
    r = explain(REGISTRY, "a-ip-205", "--as-of", AS_OF)
    assert_clean_failure(r)
    assert "error[unknown-record]: the registry tests/data/golden/registry has no record 'a-ip-205'" in r.stderr
    assert "help: did you mean 'a-ip-2025'" in r.stderr
    # a different case is suggested first
    r = explain(REGISTRY, "ST-KIM", "--as-of", AS_OF)
    assert_clean_failure(r)
    assert "help: did you mean 'st-kim'?" in r.stderr
    # nothing close: no suggestion, still clean
    r = explain(REGISTRY, "zzzzzzzz", "--as-of", AS_OF)
    assert_clean_failure(r)
    assert "help:" not in r.stderr


def test_unknown_rule_is_a_clean_error_with_a_suggestion():
    r = explain(REGISTRY, "st-kim", "--rule", "unauthorized-statement", "--as-of", AS_OF)
    assert_clean_failure(r)
    assert "error[unknown-rule]: the rulebook has no rule 'unauthorized-statement'" in r.stderr
    assert "did you mean 'unauthorised-statement'?" in r.stderr


def test_a_record_without_violations_says_so():
    r = explain(REGISTRY, "p-lee", "--as-of", AS_OF)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"p-lee ({REGISTRY}/people.yaml:2) has no violations as of {AS_OF}\n"
    r = explain(REGISTRY, "p-lee", "--as-of", AS_OF, "--format", "json")
    assert (r.returncode, r.stdout) == (0, "[]\n")


def test_rule_narrows_to_one_rule():
    r = explain(REGISTRY, "st-kim", "--rule", "unauthorised-statement", "--as-of", AS_OF, "--format", "json")
    assert [v["rule"] for v in json.loads(r.stdout)] == ["unauthorised-statement"]
    r = explain(REGISTRY, "st-kim", "--rule", "partner-not-un-entity", "--as-of", AS_OF)
    assert r.returncode == 0
    assert r.stdout == (f"st-kim ({REGISTRY}/conduct.yaml:3) has no violations of rule "
                        f"partner-not-un-entity as of {AS_OF}\n")


def test_as_of_decides_what_is_explained():
    # before the quarter ended there was nothing to explain
    r = explain(REGISTRY, "a-ip-2025", "--as-of", "2025-06-30")
    assert r.returncode == 0 and "has no violations as of 2025-06-30" in r.stdout
    assert_clean_failure(explain(REGISTRY, "a-ip-2025", "--as-of", "2025-13-01"))


def test_an_unusable_registry_is_exit_2(tmp_path):
    (tmp_path / "r.yaml").write_text("people:\n  - {id: p-1}\n", encoding="utf-8")
    r = explain(str(tmp_path), "p-1")
    assert_clean_failure(r)
    assert "error[missing-field]" in r.stderr


def test_coloured_only_on_a_terminal():
    code, out = run_on_terminal(["explain", REGISTRY, "st-kim", "--as-of", AS_OF])
    assert code == 0
    assert "\x1b[33mwarning\x1b[0m" in out  # 39 is a warning since rulebook revision 4
    assert ANSI.sub("", out) == (GOLDEN / "explain-st-kim.txt").read_text(encoding="utf-8")
    code, out = run_on_terminal(["explain", REGISTRY, "st-kim", "--as-of", AS_OF], {"NO_COLOR": "1"})
    assert out == (GOLDEN / "explain-st-kim.txt").read_text(encoding="utf-8")


# --- what an explanation holds, on the golden registry ------------------------------------


@pytest.fixture(scope="module")
def golden_violations(rulebook):
    reg = load_registry(str(ROOT / REGISTRY), rulebook.vocabulary, display=REGISTRY)
    return {(v.rule, v.record): v for v in evaluate(rulebook, reg, AS_OF).violations()}


def test_a_holding_period_lists_the_appointments_that_make_it_up(golden_violations):
    v = golden_violations[("ip-lead-missing-quarterly-meeting", "a-ip-2025")]
    period = v.because[0]
    assert period["holds"] == "p-lee holds ip_lead without a break from 2024-10-01 until the day before 2025-10-16"
    reach = period["because"][0]
    assert reach["holds"].startswith("p-lee holds ip_lead through overlapping or touching appointments")
    facts = [(n["fact"], n["source"]) for n in reach["because"] if "fact" in n]
    assert ("appointment a-ip-2024 ends on 2025-04-01", f"{REGISTRY}/appointments.yaml:7") in facts
    assert ("appointment a-ip-2025 starts on 2025-04-01", f"{REGISTRY}/appointments.yaml:13") in facts
    assert reach["because"][-1] == {"absent": "end of appointment a-ip-2025"}
    # what the period's maximality looked for, in words (that nothing reaches into its first day
    # is part of the recursive conclusion's own sentence: the merge starts only from such a day)
    assert period["because"][1:] == [
        {"absent": "ip_lead appointment of p-lee running on past the day before 2025-10-16"},
    ]


def test_a_defaulted_field_says_so_and_points_where_its_value_is(golden_violations, rulebook, tmp_path):
    st = golden_violations[("unauthorised-statement", "st-kim")]
    assert st.because[0] == {
        "fact": "statement st-kim is on behalf of u4ssc: on_behalf_of not given, u4ssc by default",
        "source": f"{REGISTRY}/conduct.yaml:3",  # the record: the default is nowhere in the file
    }
    (tmp_path / "r.yaml").write_text(
        "people:\n  - {id: p-cai, name: Cai}\n"
        "appointments:\n"
        "  - id: a-lead\n    person: p-cai\n    role: lead\n    start: 2025-06-01\n"
        "    appointed_by: secretariat\n    consulted: [secretariat]\n", encoding="utf-8")
    reg = load_registry(str(tmp_path), rulebook.vocabulary, display="reg")
    (v,) = [v for v in evaluate(rulebook, reg, "2025-10-01").violations() if v.rule == "lead-not-appointed-by-chair"]
    made_on = [n for n in v.because if n.get("fact", "").startswith("appointment a-lead was made on")]
    assert made_on == [{"fact": "appointment a-lead was made on 2025-06-01: appointed_on not given, taken from start",
                        "source": "reg/r.yaml:7"}]  # the line of start


def test_parameters_used_are_named_with_their_values(golden_violations):
    late = golden_violations[("external-work-reported-late", "ew-iso")]
    assert late.because[-1] == {"param": "immediately_days", "value": "30 days"}
    due = golden_violations[("centre-missing-annual-report", "c-porto")]
    assert due.because[-1] == {"param": "annual_report_due", "value": "--03-31"}
    assert nodes.phrase(due.because[-1]) == "parameter annual_report_due = --03-31 (31 March every year)"


def test_a_helper_conclusion_rests_on_its_facts(rulebook, tmp_path):
    # the brief's example: "p-lee holds the role ip_lead on 2026-03-04", the appointment under it
    (tmp_path / "r.yaml").write_text("""
people:
  - {id: p-lee, name: Lee}
appointments:
  - id: a-ip
    person: p-lee
    role: ip_lead
    start: 2025-06-01
    appointed_by: annual_meeting
events:
  - id: ev-ws
    title: Workshop
    date: 2026-03-04
    organizer: p-lee
""", encoding="utf-8")
    reg = load_registry(str(tmp_path), rulebook.vocabulary, display="reg")
    (v,) = [v for v in evaluate(rulebook, reg, "2026-06-01").violations()
            if v.rule == "ip-lead-event-without-partner"]
    (held,) = [n for n in v.because if "holds" in n]
    assert held == {"holds": "p-lee holds the role ip_lead on 2026-03-04", "because": [
        {"fact": "appointment a-ip appoints p-lee", "source": "reg/r.yaml:6"},
        {"fact": "appointment a-ip is to the role ip_lead", "source": "reg/r.yaml:7"},
        {"fact": "appointment a-ip starts on 2025-06-01", "source": "reg/r.yaml:8"},
        {"absent": "end of appointment a-ip"},
    ]}
    assert v.because[-1] == {"absent": "co-organizer of ev-ws that is a partner on 2026-03-04"}


def test_several_witnesses_are_all_listed_side_by_side(rulebook, tmp_path):
    (tmp_path / "r.yaml").write_text("""
organizations:
  - {id: o-itu, name: ITU, type: un_entity}
partnerships:
  - {id: ps-1, organization: o-itu, since: 2016-05-01}
  - {id: ps-2, organization: o-itu, since: 2020-05-01}
people:
  - {id: p-lee, name: Lee}
appointments:
  - {id: a-ip, person: p-lee, role: ip_lead, start: 2025-06-01, appointed_by: annual_meeting}
representations:
  - {id: rep-1, person: p-lee, venue: Expo, date: 2026-05-10, on_behalf_of: o-itu, secretariat_informed_on: 2026-05-01}
""", encoding="utf-8")
    reg = load_registry(str(tmp_path), rulebook.vocabulary, display="reg")
    (v,) = [v for v in evaluate(rulebook, reg, "2026-06-01").violations() if v.rule == "ip-lead-represents-partner"]
    partner = [(i, n) for i, n in enumerate(v.because) if n.get("holds") == "o-itu is a partner on 2026-05-10"]
    assert [i for i, _ in partner] == [partner[0][0], partner[0][0] + 1]  # adjacent
    assert [n["because"][0]["fact"] for _, n in partner] == [
        "partnership ps-1 is the partnership of o-itu", "partnership ps-2 is the partnership of o-itu"]


# --- properties, on every violating case of the rulebook's tests ---------------------------

CASES = [c for c in load_cases(str(RULES)) if c.expect]


def _plain(x):
    if hasattr(x, "isoformat"):
        return x.isoformat()
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


class _Reversed:
    """An engine that answers the same rows in the opposite order."""

    def __init__(self, engine):
        self.engine = engine

    def query(self, rel):
        return list(reversed(self.engine.query(rel)))


@pytest.fixture(scope="module")
def case_explanations(rulebook):
    out = []
    with tempfile.TemporaryDirectory() as d:
        for i, case in enumerate(CASES):
            folder = Path(d) / str(i)
            folder.mkdir()
            text = getattr(case, "registry_text", None)
            if text is None:
                text = yaml.safe_dump(_plain(case.registry), sort_keys=False, allow_unicode=True)
            (folder / "registry.yaml").write_text(text, encoding="utf-8")
            reg = load_registry(str(folder), rulebook.vocabulary, display=str(folder))
            # the rulebook cut to the rule under test gives it the violations the whole one does
            ev = evaluate(rulebook_for(rulebook, {case.rule}), reg, case.as_of)
            vs = ev.violations()
            ev.engine, ev._rows = _Reversed(ev.engine), {}
            again = ev.violations()
            out.append((case, vs, again, (folder / "registry.yaml").read_text(encoding="utf-8").splitlines()))
        yield out


def test_cases_explain_something(case_explanations):
    assert len(case_explanations) > 100
    assert all(vs for _, vs, _, _ in case_explanations)


def _written_values(lines: list[str], line: int) -> list[str]:
    """The values written on a registry line: `key: value`, a flow list or mapping, or the
    items of a block list below a bare `key:`."""
    text = lines[line - 1].strip().removeprefix("- ")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:  # a line of a flow mapping written over several lines: its words
        return [w for w in re.split(r"[\s,{}\[\]]+|:\s", text) if w and not w.endswith(":")]
    if not isinstance(data, dict):
        return [str(data)]
    out = []
    for value in data.values():
        if value is None:  # a block list follows
            for below in lines[line:]:
                if not below.strip().startswith("- "):
                    break
                out.append(str(yaml.safe_load(below.strip().removeprefix("- "))))
        elif isinstance(value, list):
            out += [str(v) for v in value]
        else:
            out.append(str(value))
    return [v.strip("{}[] ") for v in out]  # the last line of a flow mapping ends in "}"


def test_every_fact_has_a_source_whose_line_holds_it(case_explanations):
    for case, vs, _, lines in case_explanations:
        for v in vs:
            for _, node in nodes.walk(v.because):
                if nodes.kind(node) != "fact":
                    continue
                path, line = nodes.split_source(node["source"])
                assert path.endswith("registry.yaml") and line is not None, (case.id, node)
                values = _written_values(lines, line)
                fact = node["fact"].lower()
                assert any(x and x.lower() in fact for x in values), (case.id, node, lines[line - 1])


def test_every_text_is_filled_in(case_explanations):
    for case, vs, _, _ in case_explanations:
        for v in vs:
            for _, node in nodes.walk(v.because):
                text = nodes.phrase(node)
                assert not re.search(r"\{[A-Za-z_$][A-Za-z0-9_$]*\}", text), (case.id, text)
                assert "None" not in text and not re.search(r"\bas_of\b", text), (case.id, text)
                assert "  " not in text and text == text.strip(), (case.id, text)


def test_every_helper_conclusion_has_its_grounds(case_explanations):
    calendar = re.compile(r"^\d{4}(-Q\d)? runs from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d$")
    for case, vs, _, _ in case_explanations:
        for v in vs:
            for _, node in nodes.walk(v.because):
                if nodes.kind(node) == "holds" and not calendar.match(node["holds"]):
                    assert node["because"], (case.id, node["holds"])


def test_every_parameter_of_the_rule_is_named(case_explanations, rulebook):
    params = {r.info.id: {p.name for p in r.info.params} for r in rulebook.rules}
    for case, vs, _, _ in case_explanations:
        for v in vs:
            named = {n["param"] for n in v.because if nodes.kind(n) == "param"}
            assert named <= set(rulebook.params), case.id
            # a rule with declared parameters names at least one of them
            assert not params[v.rule] or named, (case.id, v.rule)


def test_the_order_is_canonical_whatever_the_engines_row_order(case_explanations):
    for case, vs, again, _ in case_explanations:
        assert [v.to_json() for v in vs] == [v.to_json() for v in again], case.id


# --- engines and scale ----------------------------------------------------------------------


def test_explanations_are_the_same_on_both_engines(rulebook):
    reg = load_registry(str(ROOT / REGISTRY), rulebook.vocabulary, display=REGISTRY)
    on = {engine: [v.to_json() for v in evaluate(rulebook, reg, AS_OF, engine).violations()]
          for engine in ("pydatalog", "sqlite")}
    assert on["pydatalog"] == on["sqlite"]


def test_a_long_holding_period_is_explained_in_full(rulebook, tmp_path):
    # thirty overlapping or touching terms: the period's proof goes thirty steps deep
    import datetime as dt

    apps = []
    for k in range(30):
        start = dt.date(2020, 1, 1) + dt.timedelta(days=60 * k)
        apps.append({"id": f"a-{k:02}", "person": "p-lee", "role": "ip_lead", "start": start.isoformat(),
                     "end": (start + dt.timedelta(days=60 + (k % 3) * 10)).isoformat(),
                     "appointed_by": "annual_meeting"})
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(
        {"people": [{"id": "p-lee", "name": "Lee"}], "appointments": apps}, sort_keys=False), encoding="utf-8")
    reg = load_registry(str(tmp_path), rulebook.vocabulary, display="r")
    # SQLite: pyDatalog takes minutes over this many overlapping terms of one person
    vs = [v for v in evaluate(rulebook, reg, "2025-01-01", "sqlite").violations()
          if v.rule == "ip-lead-missing-quarterly-meeting"]
    assert vs
    for v in vs:
        period = v.because[0]
        assert period["holds"] == "p-lee holds ip_lead without a break from 2020-01-01 until the day before 2024-12-25"
        reach = period["because"][0]["because"]
        assert [n["fact"] for n in reach if n.get("fact", "").endswith("appoints p-lee")] == [
            f"appointment a-{k:02} appoints p-lee" for k in range(30)]


def test_the_renderer_colours_only_when_asked(golden_violations, rulebook):
    from checker.render.explanation import render

    vs = [golden_violations[("ip-lead-missing-quarterly-meeting", "a-ip-2025")]]
    kw = dict(record="a-ip-2025", as_of=AS_OF, rules=[r.info for r in rulebook.rules])
    plain, coloured = render(vs, "text", **kw), render(vs, "text", color=True, **kw)
    assert "\x1b[" not in plain
    assert "\x1b[1;31merror\x1b[0m" in coloured and "\x1b[2m(" in coloured  # sources dimmed
    assert ANSI.sub("", coloured) == plain
    assert render(vs, "json", color=True, **kw) == render(vs, "json", **kw)
    with pytest.raises(ValueError, match="unknown format"):
        render(vs, "sarif", **kw)
