"""SARIF 2.1.0, for code-scanning and review tools.

One run; one reportingDescriptor per rule of the rulebook, one result per
violation. A result's message is the violation's message and its one-line
reason (explain.crisp); its properties carry the whole `because` tree, and the
sources of its facts are relatedLocations. partialFingerprints hash what --baseline compares
(rule, record, message), so a tool follows a violation from run to run.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
import re
from urllib.parse import quote

from .. import __version__
from ..model import Report, RuleInfo, Violation
from . import explain

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "notice": "note"}
FINGERPRINT = "torcheckViolation/v1"


def render(report: Report) -> str:
    index = {r.id: i for i, r in enumerate(report.rules)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "torcheck",
                        "version": __version__,
                        "rules": [_descriptor(r, report.rulebook) for r in report.rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(v, index.get(v.rule)) for v in report.violations],
                "properties": {
                    "as_of": report.as_of,
                    "rulebook": report.rulebook,
                    "summary": report.summary(),
                },
            }
        ],
    }
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"


def camel_case(rule_id: str) -> str:
    """"u4ssc-logo-without-approval" -> "U4sscLogoWithoutApproval"."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rule_id))


def _descriptor(rule: RuleInfo, rulebook: str) -> dict:
    clause = f"ToR {rule.clause}" + (f" ({rule.cite})" if rule.cite and rule.cite != rule.clause else "")
    properties: dict = {
        "clause": rule.clause,
        "cite": rule.cite,
        "modality": rule.modality,
        "severities": list(rule.severities),
        "tags": [rulebook, f"ToR {rule.clause}", rule.modality],
    }
    if rule.params:
        properties["parameters"] = [
            {"name": p.name, "value": p.value, "reading": p.reading} for p in rule.params
        ]
    if rule.notes:
        properties["notes"] = list(rule.notes)
    return {
        "id": rule.id,
        "name": camel_case(rule.id),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{clause}: {rule.quote}"},
        "help": {"text": f"{clause}: {rule.quote}\n\n{rule.summary}"},
        "defaultConfiguration": {"level": LEVELS.get(next(iter(rule.severities), ""), "warning")},
        "properties": properties,
    }


def _result(v: Violation, rule_index: int | None) -> dict:
    text = v.message
    if v.because:
        text += "\nWhy: " + explain.crisp(v.because)
    result: dict = {"ruleId": v.rule}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result["level"] = LEVELS.get(v.severity, "warning")
    result["message"] = {"text": text}
    if v.location is not None:
        result["locations"] = [_location(v.location.path, v.location.line, v.location.column)]
    related = [
        {"id": i, **_location(*explain.split_source(src)), "message": {"text": fact}}
        for i, (src, fact) in enumerate(explain.fact_sources(v.because))
    ]
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = {FINGERPRINT: fingerprint(v)}
    result["properties"] = {
        "clause": v.clause,
        "record": v.record,
        "severity": v.severity,
        "because": list(v.because),
    }
    return result


def fingerprint(v: Violation) -> str:
    """A stable hash of (rule, record, message): what --baseline compares."""
    return hashlib.sha256("\x1f".join(v.key()).encode("utf-8")).hexdigest()


def _location(path: str, line: int | None, column: int | None = None) -> dict:
    physical: dict = {"artifactLocation": {"uri": _uri(path)}}
    if line is not None and line >= 1:
        region = {"startLine": line}
        if column:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def _uri(path: str) -> str:
    """A relative URI reference for a path as the user gave it (`/` separators)."""
    path = posixpath.normpath(path) if path else path
    return quote(path, safe="/-._~!$&'()*+,;=@")
