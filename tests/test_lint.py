"""`torcheck lint`: each finding on a small rulebook, and a clean shipped rulebook."""
import re
import textwrap

from click.testing import CliRunner

from checker.cli import main
from checker.lint import canonical, lint
from checker.parse import parse_text

from .conftest import torcheck

RULES = textwrap.dedent('''\
    kind things (thing) "Things" {
      id    id
      owner text "is owned by"
      start date "starts on"
    }

    parameter grace = 30 days
      reading "thirty days"

    parameter unused_grace = 10 days
      reading "never used"

    predicate owned(X) "{X} is owned" when
      thing(X), X.owner is present

    predicate lonely(X) "{X} is lonely" when
      thing(X), X.owner is absent

    predicate only_by_lonely(X) "used by an unused helper" when
      lonely(X)

    rule thing-unowned
      clause "1"
      modality obligation
      severity error
      quote "quoted"
      summary "s"
      record X
      message "{X}"
      when
        thing(X), not owned(X)

    rule thing-late
      clause "1"
      modality obligation
      severity error
      summary "no quote here"
      record T
      message "{T}"
      when
        thing(T),
        not (owned(T)) "an owner of {T}"

    rule thing-unowned
      clause "1"
      modality obligation
      severity error
      quote "   "
      summary "same id again, and the condition of thing-late"
      record X
      message "{X}"
      when
        thing(X), T.start = S, S > as_of + grace
    ''')


def write_rulebook(tmp_path, cases=True):
    rb = tmp_path / "rb"
    (rb / "tests").mkdir(parents=True)
    (rb / "things.rules").write_text(RULES, encoding="utf-8")
    if cases:
        case = textwrap.dedent('''\
            rule: {rule}
            cases:
              - name: violating - a thing
                as_of: 2026-01-01
                registry: {{things: [{{id: t-1}}]}}
                expect: [{{record: t-1, severity: error}}]
            ''')
        (rb / "tests" / "thing-unowned.yaml").write_text(case.format(rule="thing-unowned"), encoding="utf-8")
        (rb / "tests" / "old-rule.yaml").write_text(case.format(rule="old-rule"), encoding="utf-8")
    return rb


def findings(rb):
    r = CliRunner().invoke(main, ["lint", str(rb)])
    lines = [x for x in r.output.splitlines() if re.match(r"^\S+:\d+(:\d+)?: (error|warning)\[", x)]
    return r, lines


def test_the_shipped_rulebook_is_clean():
    r = torcheck("lint", "rules/u4ssc")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.fullmatch(r"rules/u4ssc: no finding \(41 rules, \d+ helpers, \d+ parameters, \d+ cases\)\n", r.stdout)


def test_every_finding_in_the_house_format(tmp_path):
    rb = write_rulebook(tmp_path)
    r, lines = findings(rb)
    assert r.exit_code == 1
    f = f"{rb.as_posix()}/things.rules"
    assert lines == [
        f"{rb.as_posix()}/tests/old-rule.yaml:1: warning[orphan-cases]: cases for rule 'old-rule', which the rulebook does not have",
        f"{f}:10:1: warning[unused-parameter]: parameter 'unused_grace' is not used by any condition",
        f"{f}:16:1: warning[unused-predicate]: helper predicate 'lonely' is not used by any rule",
        f"{f}:19:1: warning[unused-predicate]: helper predicate 'only_by_lonely' is not used by any rule",
        f"{f}:22:1: warning[missing-case-kind]: rule 'thing-unowned' has no near miss and no boundary case",
        f"{f}:33:1: warning[duplicate-condition]: rule 'thing-late' has the same condition as rule 'thing-unowned' ({f}:22)",
        f"{f}:33:1: warning[missing-quote]: rule 'thing-late' quotes no ToR text",
        f"{f}:33:1: warning[untested-rule]: rule 'thing-late' has no test case",
        f"{f}:44:1: warning[duplicate-rule]: rule 'thing-unowned' is already defined at {f}:22",
        f"{f}:44:1: warning[missing-quote]: rule 'thing-unowned' quotes no ToR text",
    ]
    # the source line and a caret follow each finding, then a count
    assert "\n    rule thing-late\n    ^\n" in r.output
    assert r.output.endswith("torcheck lint: 10 findings\n")


def test_conditions_compare_regardless_of_layout_wording_and_variable_names():
    def cond(src):
        tree, diags = parse_text("rule r\n  when\n" + src + "\n", "x.rules")
        assert not diags
        return tree.items[0].cond

    a = cond("    appointment(A), A.role = lead,\n    not (A.end is absent) \"an end of {A}\"")
    b = cond("appointment(X),   X.role = lead, not (X.end is absent) \"something else\"")
    c = cond("appointment(X), X.role = chair, not (X.end is absent)")
    d = cond("appointment(A), not (A.end is absent), A.role = lead")
    assert a != b  # names differ ...
    assert canonical(a) == canonical(b)  # ... the condition does not
    assert canonical(a) != canonical(c)
    assert canonical(a) != canonical(d)  # the order of literals counts


def test_a_rulebook_that_does_not_parse_exits_2(tmp_path):
    rb = write_rulebook(tmp_path, cases=False)
    (rb / "things.rules").write_text(RULES + "\nrule broken when\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["lint", str(rb)])
    assert r.exit_code == 2
    assert re.search(rf"^{re.escape(rb.as_posix())}/things.rules:\d+:\d+: error\[syntax\]", r.stderr, re.M)


def test_missing_folder_exits_2(tmp_path):
    r = CliRunner().invoke(main, ["lint", str(tmp_path / "nowhere")])
    assert r.exit_code == 2
    assert "error[rulebook-not-found]" in r.stderr


def test_lint_is_a_library_call(tmp_path):
    res = lint(str(write_rulebook(tmp_path)), "rb")
    assert [d.code for d in res.findings].count("duplicate-rule") == 1
    assert res.counts == {"rules": 3, "helpers": 3, "parameters": 2, "cases": 2}
