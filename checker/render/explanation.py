"""The output of `torcheck explain`: one record's violations, each with its whole `because` tree.

Text, for a reader:

    a-ip-2025 (facts/u4ssc/appointments.yaml:68), as of 2026-11-28: 1 violation

    error  ToR Annex I.5  ip-lead-missing-quarterly-meeting
      Implementation Programme lead p-lindqvist held no e-meeting with the secretariat in 2026-Q2
      the rule: In every quarter wholly within a holding period, the Implementation Programme lead ...
      because
      ├── p-lindqvist holds ip_lead without a break from 2025-04-08 until the day before 2026-11-29
      │   ├── appointment a-ip-2025 is to the role ip_lead (facts/u4ssc/appointments.yaml:70)
      ...
      └── no e-meeting in 2026-Q2 with p-lindqvist and the secretariat among its participants found

JSON, for a program: the list of the violations, each exactly as in the JSON
report of `torcheck check` (cli.md), in the report's order.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from ..model import Location, RuleInfo, Violation
from . import explain
from .common import has_style, plural, style


def render(
    violations: Sequence[Violation],
    fmt: str,
    *,
    record: str,
    as_of: str,
    location: Location | None = None,
    rule: str | None = None,
    rules: Sequence[RuleInfo] = (),
    color: bool = False,
) -> str:
    """`violations` are the record's (of `rule` alone when given), in the report's order;
    `rules`, the rulebook's, give each violation the summary of its rule."""
    if fmt == "json":
        return json.dumps([v.to_json() for v in violations], ensure_ascii=False, indent=2) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}: expected text or json")

    def paint(s: str, what: str) -> str:
        return style(s, what) if color and s and has_style(what) else s

    summaries = {r.id: r.summary for r in rules}
    who = record + (f" ({location})" if location is not None else "")
    of_rule = f" of rule {rule}" if rule else ""
    if not violations:
        return f"{who} has no violations{of_rule} as of {as_of}\n"
    lines = [paint(f"{who}, as of {as_of}: {plural(len(violations), 'violation')}{of_rule}", "head")]
    for v in violations:
        lines += [
            "",
            f"{paint(v.severity, v.severity)}  ToR {v.clause}  {paint(v.rule, 'head')}",
            "  " + " ".join(v.message.split()),
        ]
        info = summaries.get(v.rule)
        if info:
            lines.append("  the rule: " + " ".join(info.split()))
        if v.because:
            lines.append("  because")
            lines += ["  " + line for line in explain.tree(v.because, paint)]
    return "\n".join(lines) + "\n"
