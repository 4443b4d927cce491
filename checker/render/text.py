"""The text report: what a secretariat officer reads first.

    ToR 30 (centre-without-partner, centre-missing-annual-report)
      error    ctr-1  facts/u4ssc/centres.yaml:4  [centre-without-partner]
        Centre ctr-1 works with no partner
        why: no evidence that o-city is a partner on 2026-11-28 found

    1 error, 1 warning, 0 notices in 42 records checked against 5 rules
    The facts behind a violation, with their files and lines: torcheck explain REGISTRY RECORD

One line of reason per violation (explain.crisp); the whole `because` tree is
`torcheck explain`'s. Colours only when asked (the CLI asks on a terminal).
"""
from __future__ import annotations

from ..model import SEVERITIES, Report, Violation
from . import explain
from .common import by_clause, counts_sentence, rule_ids, style

_SEVERITY_WIDTH = max(len(s) for s in SEVERITIES)


def render(report: Report, *, color: bool = False) -> str:
    def paint(s: str, what: str) -> str:
        return style(s, what) if color else s

    lines = [f"torcheck: {report.rulebook} rulebook, as of {report.as_of}", ""]
    for clause, violations in by_clause(report):
        rules = rule_ids(violations)
        lines.append(paint(f"ToR {clause} ({', '.join(rules)})", "head"))
        for v in violations:
            lines.extend(_violation(v, paint, show_rule=len(rules) > 1))
        lines.append("")
    lines.append(paint(counts_sentence(report), "head"))
    if report.violations:
        lines.append(HINT)
    return "\n".join(lines) + "\n"


HINT = "The facts behind a violation, with their files and lines: torcheck explain REGISTRY RECORD"


def _violation(v: Violation, paint, *, show_rule: bool) -> list[str]:
    severity = paint(v.severity, v.severity if v.severity in SEVERITIES else "head")
    head = [severity + " " * (_SEVERITY_WIDTH - len(v.severity)), v.record]
    if v.location is not None:
        head.append(str(v.location))
    if show_rule:
        head.append(f"[{v.rule}]")
    out = ["  " + "  ".join(head), f"    {_one_line(v.message)}"]
    if v.because:
        out.append(f"    why: {_one_line(explain.crisp(v.because))}")
    return out


def _one_line(s: str) -> str:
    return " ".join(s.split())
