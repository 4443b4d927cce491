"""Markdown (GitHub flavoured), fit for a pull-request comment.

A title, a table by severity, a table by clause and rule, then the violations
by clause, each a list item with its `because` tree as a nested list. Text from
the registry or the rulebook is escaped: it never becomes markup.
"""
from __future__ import annotations

import re

from ..model import SEVERITIES, Report, Violation
from . import explain
from .common import by_clause, counts_sentence

# Characters that may start markup anywhere in a line (`|` splits table cells,
# `&` starts an entity, `<` an HTML tag or autolink).
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# What would make a list item's text a heading, a quote, a list or a thematic break.
_LINE_START = re.compile(r"^(\d+(?=[.)])|)([#+\-=.)])")


def text(s: object) -> str:
    """Free text, on one line, with every inline Markdown special character escaped."""
    s = " ".join(str(s).split())
    return _INLINE.sub(r"\\\1", s)


def line_start(s: str) -> str:
    """Escaped text that is to start a line: what would begin a block escaped too."""
    return _LINE_START.sub(r"\1\\\2", s, count=1)


def code(s: object) -> str:
    """A code span holding `s` literally, on one line; `|` escaped for table cells."""
    s = " ".join(str(s).split())
    ticks = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (ticks + 1)
    if s.startswith("`") or s.endswith("`"):
        s = f" {s} "
    return f"{fence}{s}{fence}".replace("|", "\\|")


def render(report: Report) -> str:
    summary = report.summary()
    out = [
        f"# torcheck: {text(report.rulebook)} rulebook, as of {text(report.as_of)}",
        "",
        text(counts_sentence(report)) + ".",
        "",
    ]
    if not report.violations:
        return "\n".join(out)

    out += ["| Severity | Violations |", "| --- | ---: |"]
    out += [f"| {sev} | {summary[sev]} |" for sev in SEVERITIES]
    out += ["", "| Clause | Rule | Violations |", "| --- | --- | ---: |"]
    for clause, violations in by_clause(report):
        counts: dict[str, int] = {}
        for v in violations:
            counts[v.rule] = counts.get(v.rule, 0) + 1
        out += [f"| {text(clause)} | {code(rule)} | {n} |" for rule, n in counts.items()]

    for clause, violations in by_clause(report):
        out += ["", f"## ToR {text(clause)}", ""]
        for v in violations:
            out += _violation(v)
    out.append("")
    return "\n".join(out)


def _violation(v: Violation) -> list[str]:
    where = f" at {code(v.location)}" if v.location is not None else ""
    lines = [
        f"- **{text(v.severity)}** {code(v.record)}{where} ({code(v.rule)}): {text(v.message)}"
    ]
    for depth, node in explain.walk(v.because):
        lines.append("  " * (depth + 1) + "- " + _node(node))
    return lines


def _node(node: dict) -> str:
    k = explain.kind(node)
    if k == "param":
        return f"parameter {code(node['param'])} = {text(explain.param_value(node.get('value')))}"
    src = explain.source(node)
    s = line_start(text(explain.phrase(node)))
    return f"{s} ({code(src)})" if src else s
