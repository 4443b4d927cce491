"""`torcheck test`: the rulebook's cases, pass or fail with a diff, JUnit, and clean diagnostics."""
import re
import shutil

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml

from checker.cli import main

from .conftest import RULES, torcheck

CASE = "rules/u4ssc/tests/term-exceeds-two-years.yaml"


def run(*args):
    return CliRunner().invoke(main, ["test", *args], catch_exceptions=False)


@pytest.fixture
def rulebook_copy(tmp_path):
    dst = tmp_path / "u4ssc"
    shutil.copytree(RULES, dst)
    return dst


def break_expectation(rb_dir):
    """The first case of term-exceeds-two-years now expects a warning where the rule gives an error."""
    p = rb_dir / "tests" / "term-exceeds-two-years.yaml"
    text = p.read_text(encoding="utf-8")
    old = "    expect:\n      - {record: a-lead, severity: error}\n"
    assert text.count(old) >= 1
    p.write_text(text.replace(old, old.replace("error", "warning"), 1), encoding="utf-8")
    return p


def test_the_shipped_rulebook_passes_every_case():
    r = torcheck("test", "rules/u4ssc")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    last = r.stdout.splitlines()[-1]
    m = re.fullmatch(r"(\d+) cases of (\d+) rules: (\d+) passed, 0 failed", last)
    assert m and m.group(1) == m.group(3) and int(m.group(1)) >= 3 * int(m.group(2)), last
    assert all(line.startswith("ok    ") for line in r.stdout.splitlines()[:-2])


def test_without_an_argument_the_shipped_rulebook_is_tested():
    r = run("--rule", "partner-not-un-entity", "--quiet")
    assert r.exit_code == 0
    assert re.fullmatch(r"\d+ cases of 1 rule: (\d+) passed, 0 failed\n", r.output)


def test_a_broken_expectation_fails_with_a_diff(rulebook_copy):
    p = break_expectation(rulebook_copy)
    r = run(str(rulebook_copy), "--quiet", "--rule", "term-exceeds-two-years", "--rule", "partner-not-un-entity")
    assert r.exit_code == 1
    shown = f"{rulebook_copy.as_posix()}/tests/term-exceeds-two-years.yaml"
    assert r.output.startswith(
        "FAIL  term-exceeds-two-years: violating - a lead appointed for three years\n"
        f"      {shown}:3, as of 2026-06-01\n"
        "      --- expected\n"
        "      +++ reported\n"
        "      - a-lead  warning\n"
        "      + a-lead  error  Appointment a-lead of p-cai as lead runs beyond two years from 2025-01-01\n")
    assert re.search(r"\n\d+ cases of 2 rules: \d+ passed, 1 failed\n$", r.output)
    assert p.read_text(encoding="utf-8").splitlines()[2].startswith("  - name: violating - a lead appointed")


def test_matched_violations_are_shown_as_context(rulebook_copy):
    p = rulebook_copy / "tests" / "term-exceeds-two-years.yaml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace("      - {record: a-ip, severity: error}\n",
                              "      - {record: a-ip, severity: error}\n"
                              "      - {record: a-ghost, severity: error, message_contains: beyond}\n", 1),
                 encoding="utf-8")
    r = run(str(rulebook_copy), "--rule", "term-exceeds-two-years", "--quiet")
    assert r.exit_code == 1
    assert "      - a-ghost  error  message containing 'beyond'\n" in r.output
    assert "        a-chair  error  Appointment a-chair of p-ana as chair runs beyond two years" in r.output


def test_junit_report(rulebook_copy, tmp_path):
    break_expectation(rulebook_copy)
    out = tmp_path / "rule-tests.xml"
    r = run(str(rulebook_copy), "--format", "junit", "-o", str(out),
            "--rule", "term-exceeds-two-years", "--rule", "partner-not-un-entity")
    assert r.exit_code == 1
    xml = JUnitXml.fromfile(str(out))
    suites = {s.name: s for s in xml}
    assert set(suites) == {"term-exceeds-two-years", "partner-not-un-entity"}
    assert suites["term-exceeds-two-years"].failures == 1
    assert suites["partner-not-un-entity"].failures == 0
    failed = [c for c in suites["term-exceeds-two-years"] if not c.is_passed]
    assert [c.name for c in failed] == ["violating - a lead appointed for three years"]
    assert "+ a-lead  error  Appointment a-lead" in failed[0].result[0].text
    # the same input gives the same report, byte for byte
    again = tmp_path / "again.xml"
    run(str(rulebook_copy), "--format", "junit", "-o", str(again),
        "--rule", "term-exceeds-two-years", "--rule", "partner-not-un-entity")
    assert again.read_bytes() == out.read_bytes()


def _diagnostics(r):
    assert r.exit_code == 2, r.output
    return [line for line in r.stderr.splitlines() if re.search(r"(^|: )error\[", line)]


def test_a_case_file_that_is_not_yaml(rulebook_copy):
    p = rulebook_copy / "tests" / "partner-not-un-entity.yaml"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[4] = "    as_of: [2026-06-01"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _runner().invoke(main, ["test", str(rulebook_copy)])
    diags = _diagnostics(r)
    assert len(diags) == 1
    assert re.match(rf"{re.escape(p.as_posix())}:\d+:\d+: error\[case-yaml\]: not valid YAML", diags[0])


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


def test_every_problem_of_shape_is_listed_with_its_line(rulebook_copy):
    p = rulebook_copy / "tests" / "partner-not-un-entity.yaml"
    text = p.read_text(encoding="utf-8")
    text = text.replace("  - name: violating - a city declared a partner\n    as_of: 2026-06-01\n",
                        "  - name: violating - a city declared a partner\n    as_of: 2026-13-01\n", 1)
    text = text.replace("      - {record: ps-city, severity: error}\n",
                        "      - {record: ps-city, severity: fatal, why: x}\n", 1)
    p.write_text(text, encoding="utf-8")
    q = rulebook_copy / "tests" / "no-such-rule.yaml"
    q.write_text("rule: no-such-rule\ncases:\n  - name: violating - x\n    registry: {}\n    expect: []\n",
                 encoding="utf-8")
    r = _runner().invoke(main, ["test", str(rulebook_copy)])
    diags = _diagnostics(r)
    codes = [re.search(r"error\[([a-z-]+)\]", d).group(1) for d in diags]
    assert codes == ["unknown-rule", "case-shape", "case-date", "case-severity", "case-shape"], diags
    assert diags[0].startswith(f"{q.as_posix()}:1:7: ")
    assert diags[1].startswith(f"{q.as_posix()}:3:5: ") and "no `as_of`" in diags[1]
    assert diags[2].startswith(f"{p.as_posix()}:4:12: ") and "YYYY-MM-DD" in diags[2]
    assert "'fatal'" in diags[3] and "'why'" in diags[4]
    assert "nothing was checked" in r.stderr
    assert r.stdout == ""


def test_an_invalid_registry_in_a_case_is_reported_at_its_line_in_the_case_file(rulebook_copy):
    p = rulebook_copy / "tests" / "partner-not-un-entity.yaml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace("{id: o-city, name: Some City, type: city}",
                              "{id: o-city, name: Some City, type: town}", 1), encoding="utf-8")
    line = text.splitlines().index("        - {id: o-city, name: Some City, type: city}") + 1
    r = _runner().invoke(main, ["test", str(rulebook_copy), "--rule", "partner-not-un-entity"])
    diags = _diagnostics(r)
    assert len(diags) == 1
    assert diags[0].startswith(f"{p.as_posix()}:{line}:47: error[bad-enum]: ")
    assert "        - {id: o-city, name: Some City, type: town}" in r.stderr


def test_unknown_rule_option():
    r = _runner().invoke(main, ["test", "--rule", "no-such-rule"])
    assert _diagnostics(r) == ["error[unknown-rule]: --rule no-such-rule: the rulebook has no rule 'no-such-rule'"]


def test_a_rulebook_that_does_not_compile(tmp_path):
    (tmp_path / "x.rules").write_text("rule broken\n  when\n", encoding="utf-8")
    r = _runner().invoke(main, ["test", str(tmp_path)])
    assert _diagnostics(r)[0].startswith(f"{tmp_path.as_posix()}/x.rules:")
