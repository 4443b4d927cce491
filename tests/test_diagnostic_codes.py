"""Issue 13: diagnostics have declared codes and a severity (checker.diagnostics.CODES).

Every code the source makes, and every code a test or a golden file expects, is in the table; every
code in the table is made somewhere. A code used without being declared is a typo or a new kind of
problem that users cannot look up.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from checker.diagnostics import CODES, Diagnostic, suggest
from checker.model import Location

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# the functions that make a diagnostic from a code given as their first argument
MAKERS = {"Diagnostic", "err", "find", "fail", "_ref_diag"}


def _codes_made_by_the_source() -> dict[str, set[str]]:
    made: dict[str, set[str]] = {}
    for p in sorted((ROOT / "checker").rglob("*.py")):
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not isinstance(n, ast.Call) or not n.args:
                continue
            name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
            first = n.args[0]
            if name in MAKERS and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                    and CODE.match(first.value):
                made.setdefault(first.value, set()).add(str(p.relative_to(ROOT)))
    return made


_EXPECTED = [
    re.compile(r"\b(?:error|warning)\[([a-z0-9-]+)\]"),
    re.compile(r"""["']code["']\s*[:\]]\s*(?:==\s*)?["']([a-z][a-z0-9-]*)["']"""),
    re.compile(r"""\bcode\s*==\s*["']([a-z][a-z0-9-]*)["']"""),
]


def _codes_expected_by_tests() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    files = [p for p in (ROOT / "tests").rglob("*") if p.is_file() and p.suffix in
             (".py", ".txt", ".json", ".sarif", ".md", ".xml", ".yaml")]
    for p in sorted(files):
        if p.name == Path(__file__).name:
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        for rx in _EXPECTED:
            for m in rx.finditer(text):
                found.setdefault(m.group(1), set()).add(str(p.relative_to(ROOT)))
    return found


def test_every_code_the_source_makes_is_declared():
    made = _codes_made_by_the_source()
    assert len(made) > 50  # the scan sees the stages' diagnostics
    undeclared = {c: sorted(w) for c, w in made.items() if c not in CODES}
    assert not undeclared


def test_every_code_a_test_or_golden_file_expects_is_declared():
    expected = _codes_expected_by_tests()
    assert "dangling-ref" in expected and "syntax" in expected  # the scan sees the tests
    undeclared = {c: sorted(w) for c, w in expected.items() if c not in CODES}
    assert not undeclared


def test_every_declared_code_is_made_somewhere():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "checker").rglob("*.py")
                       if p.name != "diagnostics.py")
    unused = [c for c in CODES if f'"{c}"' not in source and f"'{c}'" not in source and f"[{c}]" not in source
              and not (c.startswith("duplicate-") and 'f"duplicate-{what}"' in source)]
    assert not unused


def test_each_code_has_a_severity_a_stage_and_a_meaning():
    for code, c in CODES.items():
        assert CODE.match(code), code
        assert c.severity in ("error", "warning"), code
        assert c.stage and c.meaning, code


def test_a_diagnostic_renders_its_declared_severity():
    d = Diagnostic("dangling-ref", "refers to 'x'", Location("r/people.yaml", 3, 7), "  org: x", "did you mean 'y'?")
    assert d.severity == "error"
    assert d.render().splitlines() == ["r/people.yaml:3:7: error[dangling-ref]: refers to 'x'", "      org: x",
                                       "          ^", "    help: did you mean 'y'?"]
    assert Diagnostic("untested-rule", "rule 'r' has no test case").render() == \
        "warning[untested-rule]: rule 'r' has no test case"
    # a stage may say more strongly what the table's default is not: the compiler refuses a duplicate rule,
    # lint reports one
    assert Diagnostic("duplicate-rule", "x").severity == "error"
    assert Diagnostic("duplicate-rule", "x", severity="warning").render() == "warning[duplicate-rule]: x"


@pytest.mark.parametrize("word, known, n, cutoff, expected", [
    ("peeple", ["people", "events"], 1, 0.75, "did you mean 'people'?"),
    ("A-IP-2025", ["a-ip-2025", "a-ip-2023"], 3, 0.6, "did you mean 'a-ip-2025'?"),  # case first
    ("zzz", ["people"], 1, 0.75, None),
    ("a-ip-202", ["a-ip-2025", "a-ip-2023", "x"], 3, 0.6, "did you mean 'a-ip-2025' or 'a-ip-2023'?"),
])
def test_suggest_is_the_one_did_you_mean(word, known, n, cutoff, expected):
    assert suggest(word, known, n=n, cutoff=cutoff) == expected
