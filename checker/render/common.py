"""What several renderers say alike: the clause groups, the rule lookup, the counts."""
from __future__ import annotations

from ..model import SEVERITIES, Report, RuleInfo, Violation


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts_sentence(report: Report) -> str:
    """ "3 errors, 1 warning, 0 notices in 214 records checked against 37 rules",
    or "No violations in 214 records checked against 37 rules"."""
    s = report.summary()
    scope = (
        f"in {plural(report.records, 'record')} checked against "
        f"{plural(len(report.rules), 'rule')}"
    )
    if not report.violations:
        return f"No violations {scope}"
    return ", ".join(plural(s[sev], sev) for sev in SEVERITIES) + " " + scope


def by_clause(report: Report) -> list[tuple[str, list[Violation]]]:
    """The violations grouped by clause, groups in the order the report first names them."""
    groups: dict[str, list[Violation]] = {}
    for v in report.violations:
        groups.setdefault(v.clause, []).append(v)
    return list(groups.items())


def rule_ids(violations: list[Violation]) -> list[str]:
    """The distinct rules of some violations, in their order."""
    return list(dict.fromkeys(v.rule for v in violations))


def rules_by_id(report: Report) -> dict[str, RuleInfo]:
    return {r.id: r for r in report.rules}
