"""A standalone HTML report: one file, no network, readable on screen and on paper.

A summary, then one section per clause: its violations, each with its reason
and the `because` tree in a <details> element, and beside them the clause's
ToR text (report.clause_texts), or, without it, the text the rules quote.

The page is templates/report.html.j2 with templates/report.css and
templates/print.js inlined; this module only gathers the values. Every value
reaches the template as plain data and is escaped there (autoescape).
"""
from __future__ import annotations

import re
from urllib.parse import quote

from ..model import SEVERITIES, Report, RuleInfo, Violation
from . import explain
from .common import by_clause, counts_sentence, rule_ids, rules_by_id
from .templating import render as render_template


def render(report: Report, *, docs_base: str | None = None) -> str:
    rules = rules_by_id(report)
    groups = by_clause(report)
    anchors = _anchors([clause for clause, _ in groups])

    def rule_href(rule_id: str) -> str:
        return docs_base.rstrip("/") + "/rules/" + quote(rule_id, safe="") + ".html"

    summary = None
    if report.violations:
        counts = report.summary()
        summary = {
            "counts": [(sev, counts[sev]) for sev in SEVERITIES],
            "rows": [{"anchor": anchors[clause], "clause": clause, "rule": rule_id,
                      "n": sum(1 for v in violations if v.rule == rule_id)}
                     for clause, violations in groups for rule_id in rule_ids(violations)],
        }
    clauses = []
    for clause, violations in groups:
        ids = rule_ids(violations)
        clauses.append({
            "anchor": anchors[clause],
            "clause": clause,
            "rules": [{"id": rule_id, "info": rules.get(rule_id)} for rule_id in ids],
            "show_rule": len(ids) > 1,
            "violations": [_violation(v) for v in violations],
            "tor": _tor_text(report, clause, [rules[r] for r in ids if r in rules]),
        })
    return render_template(
        "report.html.j2",
        title=f"torcheck: {report.rulebook} rulebook, as of {report.as_of}",
        counts=counts_sentence(report),
        summary=summary,
        clauses=clauses,
        rulebook=report.rulebook,
        as_of=report.as_of,
        docs_base=docs_base,
        rule_href=rule_href,
    )


def _anchors(clauses: list[str]) -> dict[str, str]:
    """A fragment id per clause ("10(a)" -> "clause-10-a"), distinct."""
    out: dict[str, str] = {}
    for clause in clauses:
        base = "clause-" + (re.sub(r"[^0-9A-Za-z]+", "-", clause).strip("-") or "x")
        anchor, n = base, 1
        while anchor in out.values():
            n += 1
            anchor = f"{base}-{n}"
        out[clause] = anchor
    return out


def _tor_text(report: Report, clause: str, infos: list[RuleInfo]) -> dict | None:
    text = report.clause_texts.get(clause)
    if text:
        heading = f"ToR {clause}"
    else:
        quotes = list(dict.fromkeys(r.quote for r in infos if r.quote))
        if not quotes:
            return None
        text, heading = "\n\n".join(quotes), f"ToR {clause}, as the rules quote it"
    return {"heading": heading, "text": text.strip()}


def _violation(v: Violation) -> dict:
    return {
        "severity": v.severity,
        "record": v.record,
        "location": None if v.location is None else str(v.location),
        "rule": v.rule,
        "message": v.message,
        "why": explain.crisp(v.because) if v.because else "",
        "because": _tree(v.because) if v.because else [],
    }


# Absent conditions ("no ... found") and parameters say what they are.
_LABELS = {"fact": "fact", "holds": "conclusion"}


def _tree(nodes) -> list[dict]:
    return [{"label": _LABELS.get(explain.kind(node)), "phrase": explain.phrase(node),
             "source": explain.source(node), "grounds": _tree(explain.grounds(node))}
            for node in nodes]
