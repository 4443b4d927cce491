"""Every rule's cases (rules/u4ssc/tests/*.yaml): violating, near miss and boundary.

The cases are data, next to the rules (docs/rule-tests.md); this test runs each
one and compares the violations of the rule under test with the expectation.
"""
from collections import Counter

import pytest

from checker.cases import load_cases, run_case

from .conftest import RULES

CASES = load_cases(str(RULES))


def test_every_rule_has_violating_near_miss_and_boundary_cases(rulebook):
    kinds = {}
    for c in CASES:
        kinds.setdefault(c.rule, set()).add(c.name.split(" ")[0] if not c.name.startswith("near miss") else "near miss")
    for r in rulebook.rules:
        assert {"violating", "near miss", "boundary"} <= kinds.get(r.info.id, set()), r.info.id


def test_cases_name_only_known_rules(rulebook):
    ids = {r.info.id for r in rulebook.rules}
    assert {c.rule for c in CASES} == ids
    assert len(ids) == 41


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}:{i}" for i, c in enumerate(CASES)])
def test_case(rulebook, case):
    out = run_case(rulebook, case)
    assert out.error is None, out.error
    detail = "\n".join(
        [f"missing: {m}" for m in out.missing]
        + [f"unexpected: {v.record} {v.severity} {v.message}" for v in out.unexpected]
    )
    assert out.passed, f"{case.file}:{case.line} {case.name}\n{detail}"
