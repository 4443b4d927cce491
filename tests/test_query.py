"""torcheck query: the README's examples, exactly; diagnostics located in the condition; the answer's shape."""
import json
import re
import shlex

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.cli import main
from checker.model import InputError
from checker.query import ask, parse_condition, prepare
from checker.registry import load_registry

from .conftest import FACTS, ROOT


@pytest.fixture(autouse=True)
def _at_top(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args):
    r = CliRunner().invoke(main, ["query", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def readme_examples():
    """(command, expected output) of every console block in the README's "Questions" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Questions\n", 1)[1].split("\n## ", 1)[0]
    out = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.splitlines()
        assert lines[0].startswith("$ torcheck query "), lines[0]
        out.append((lines[0][2:], "\n".join(lines[1:]) + "\n"))
    return out


EXAMPLES = readme_examples()


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("command,expected", EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example(command, expected):
    argv = shlex.split(command)
    assert argv[:2] == ["torcheck", "query"]
    code, out, err = run(*argv[2:])
    assert out == expected, err
    assert code == (1 if expected == "no\n" else 0)


# ---------------------------------------------------------------- the answer


@pytest.fixture(scope="module")
def registry(rulebook):
    return load_registry(str(FACTS), rulebook.vocabulary, display="facts/u4ssc")


def answer(rulebook, registry, text, as_of="2026-11-28"):
    return ask(prepare(rulebook, text), registry, as_of, "pydatalog")


def test_json_rows_are_objects_in_column_order():
    code, out, _ = run("facts/u4ssc", "--as-of", "2026-11-28", "--format", "json",
                       "external_work(W), W.started = S, W.reported_on is absent")
    assert code == 0
    assert json.loads(out) == {
        "as_of": "2026-11-28",
        "condition": "external_work(W), W.started = S, W.reported_on is absent",
        "variables": ["W", "S"],
        "rows": [{"W": "ew-oecd-circular-2026", "S": "2026-11-10"}],
    }


def test_columns_are_the_named_variables_in_order_of_appearance(rulebook, registry):
    a = answer(rulebook, registry, "appointment(A), A.person = P, A.role = ip_lead, A.start = _S, A.end = _")
    assert a.columns == ("A", "P")
    assert a.rows == (("a-ip-2023", "p-adeyemi"),)


def test_a_variable_only_under_not_is_no_column(rulebook, registry):
    a = answer(rulebook, registry, 'centre(C), not (report(R), R.by = C, R.year = 2025)')
    assert a.columns == ("C",)
    assert a.rows == (("c-kestrel-bay",), ("c-porto-serrano",))


def test_rows_are_sorted_and_distinct_with_integers_and_parameters(rulebook, registry):
    a = answer(rulebook, registry, "report(R), R.kind in {centre_annual}, R.by = C, R.year = Y")
    assert a.rows == (("r-estravia-2024", "c-estravia", 2024), ("r-estravia-2025", "c-estravia", 2025),
                      ("r-porto-serrano-2024", "c-porto-serrano", 2024))
    # three reports, two centres: a row per distinct answer
    centres = answer(rulebook, registry, "report(R), R.kind = centre_annual, R.by = C, R.year = _Y")
    assert centres.columns == ("R", "C")
    assert answer(rulebook, registry, "report(_R), _R.kind = centre_annual, _R.by = C").rows == \
        (("c-estravia",), ("c-porto-serrano",))
    b = answer(rulebook, registry, "centre(C), C.approved_on = D, Due = date(year_of(D) + 1, annual_report_due)")
    assert ("c-porto-serrano", "2024-09-26", "2025-03-31") in b.rows


def test_yes_and_no(rulebook, registry):
    assert answer(rulebook, registry, 'holds("p-lindqvist", ip_lead, as_of)').rows == ((),)
    assert answer(rulebook, registry, 'holds("p-lindqvist", ip_lead, 2020-01-01)').rows == ()
    assert answer(rulebook, registry, "holds(P, ip_lead, as_of)", as_of="2024-01-01").rows == (("p-adeyemi",),)


def test_the_rulebook_is_left_as_it_was(rulebook):
    rules, rels, statics = len(rulebook.program.rules), dict(rulebook.program.relations), \
        dict(rulebook.program.static_facts)
    q = prepare(rulebook, "event(E), E.date in {2026-01-01}")
    assert q.heads and all(h.startswith("query:") for h in q.heads)
    assert len(rulebook.program.rules) == rules
    assert rulebook.program.relations == rels and rulebook.program.static_facts == statics


def test_the_same_question_on_both_engines(rulebook, registry):
    text = "holds(P, R, as_of), R in {chair, vice_chair, ip_lead}"
    q = prepare(rulebook, text)
    assert ask(q, registry, "2026-11-28", "pydatalog") == ask(q, registry, "2026-11-28", "sqlite")


# ---------------------------------------------------------------- diagnostics


@pytest.mark.parametrize("condition,code,column,words", [
    ("holds(P, ip_lead", "syntax", 17, "unexpected end of the condition"),
    ("holds(P, ip_lead, as_of) @", "syntax", 26, "unexpected character '@'"),
    ("event(E) event(F)", "syntax", 10, "unexpected 'event'"),
    ("", "syntax", 1, "the condition is empty"),
    ("hold(P, ip_lead, as_of)", "unknown-predicate", 1, "did you mean 'holds'?"),
    ("event(E), E.logo = L", "unknown-field", 11, "did you mean 'logos'?"),
    ("event(E), E.organizer = nobody", "unknown-name", 25, "unknown name 'nobody'"),
    ("X > 3", "unbound-variable", 1, "variable X is not bound"),
    ("holds(P, ip_lead, as_of) or event(E)", "unbound-variable", 7,
     "variable P is bound on one side of an `or` but not on the other"),
    ("holds(P, ip_lead)", "arity", 1, "holds takes 3 arguments, given 2"),
    ('(event(E)) "events"', "syntax", 1, "only means something after `not`"),
])
def test_problems_are_located_in_the_condition(rulebook, condition, code, column, words):
    with pytest.raises(InputError) as e:
        prepare(rulebook, condition)
    d = e.value.diagnostics[0]
    rendered = d.render()
    assert rendered.startswith(f"<condition>:1:{column}: error[{code}]:"), rendered
    assert words in rendered


def test_a_bad_condition_exits_2_with_a_caret():
    code, out, err = run("facts/u4ssc", "event(E), E.logo = L")
    assert code == 2 and out == ""
    assert err.splitlines()[:3] == [
        "<condition>:1:11: error[unknown-field]: kind 'events' has no field 'logo'",
        "    event(E), E.logo = L",
        "              ^",
    ]


def test_parse_condition_never_raises_on_odd_text():
    for text in ["(", ")", "not", "\"unterminated", "a.b", "X.", "1 +", "\n\n", "{", "event(E),"]:
        cond, diags = parse_condition(text)
        assert cond is None and diags and diags[0].code == "syntax"


_WORDS = ["holds", "event", "appointment", "E", "P", "_", "A.role", "E.logos", "ip_lead", "u4ssc", "as_of",
          "not", "or", "in", "is", "absent", "(", ")", ",", "{", "}", "=", "<", "+", "1 day", "2026-01-01", '"x"',
          "date", "year_of", "quarter", "is_partner", ".", "X", "nobody"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join), st.text(max_size=30)))
def test_any_condition_compiles_or_gives_clean_diagnostics(rulebook, text):
    """Runs of the language's words, and any text: a question or diagnostics, never a traceback."""
    try:
        q = prepare(rulebook, text)
    except InputError as e:
        assert e.diagnostics and all(d.location is not None and d.location.path == "<condition>"
                                     for d in e.diagnostics if d.code in ("syntax",))
    else:
        assert all(h.startswith("query:") for h in q.heads)
