"""JUnit XML, for CI dashboards.

One <testsuite> per rule (the rulebook's order; a rule the rulebook does not
list, last), one failing <testcase> per violation, whatever its severity: a
notice is reported, so it shows. A rule without violations has one passing
testcase, "no violations".
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..model import Report, Violation
from . import explain
from .common import rules_by_id


def render(report: Report) -> str:
    per_rule: dict[str, list[Violation]] = {r.id: [] for r in report.rules}
    for v in report.violations:
        per_rule.setdefault(v.rule, []).append(v)
    rules = rules_by_id(report)

    root = ET.Element("testsuites", {
        "name": f"torcheck {report.rulebook} {report.as_of}",
        "tests": str(sum(max(len(vs), 1) for vs in per_rule.values())),
        "failures": str(len(report.violations)),
        "errors": "0",
    })
    for rule_id, violations in per_rule.items():
        suite = ET.SubElement(root, "testsuite", {
            "name": rule_id,
            "tests": str(max(len(violations), 1)),
            "failures": str(len(violations)),
            "errors": "0",
            "skipped": "0",
        })
        info = rules.get(rule_id)
        clause = info.clause if info else (violations[0].clause if violations else "")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "clause", "value": clause})
        if info:
            ET.SubElement(props, "property", {"name": "summary", "value": info.summary})
        if not violations:
            ET.SubElement(suite, "testcase", {"classname": rule_id, "name": "no violations"})
        for v in violations:
            case = ET.SubElement(suite, "testcase", {
                "classname": rule_id, "name": f"{v.record}: {v.message}",
            })
            failure = ET.SubElement(case, "failure", {"message": v.message, "type": v.severity})
            failure.text = _failure_text(v)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _failure_text(v: Violation) -> str:
    lines = [
        f"Clause: ToR {v.clause}",
        f"Rule: {v.rule}",
        f"Severity: {v.severity}",
        f"Record: {v.record}",
        f"Location: {v.location if v.location is not None else 'unknown'}",
        f"Message: {v.message}",
    ]
    if v.because:
        lines.append(f"Why: {explain.crisp(v.because)}")
        for depth, node in explain.walk(v.because):
            lines.append("  " * (depth + 1) + "- " + explain.with_source(node))
    return "\n".join(lines) + "\n"
