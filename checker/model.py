"""The data every stage hands to the next: diagnostics, rule metadata, violations, reports.

Renderers (checker.render) read only these types; they know nothing of the
DSL, the engine or the registry loader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, InputError, Location  # noqa: F401 (the types every stage hands on)

SEVERITIES = ("error", "warning", "notice")
SEVERITY_RANK = {"error": 3, "warning": 2, "notice": 1}


@dataclass(frozen=True)
class Param:
    name: str
    value: str  # as written, e.g. "30 days"
    reading: str  # the declared interpretation
    location: Location | None = None


@dataclass(frozen=True)
class RuleInfo:
    """What a reader needs to know of a rule, independent of its condition."""

    id: str
    clause: str  # the paragraph or sub-item id used in output ("36", "Annex I.4")
    cite: str  # as cited in the rule file, possibly finer ("Annex I.4, bullet 2")
    severities: tuple[str, ...]  # possible severities, the first is the default
    modality: str
    quote: str  # the Russian original text the rule encodes
    summary: str  # English, our own words
    message: str  # the message template as written
    params: tuple[Param, ...] = ()
    notes: tuple[str, ...] = ()  # disclosures: ToR inconsistencies, exclusive readings
    location: Location | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    clause: str
    severity: str
    record: str
    message: str
    # JSON-ready explanation nodes as cli.md fixes them:
    #   {"fact": str, "source": "path:line"}
    #   {"holds": str, "because": [node, ...]}
    #   {"absent": str}
    #   {"param": name, "value": value}
    because: tuple = ()
    location: Location | None = None  # where the record is written

    def key(self) -> tuple[str, str, str]:
        """What --baseline and what-if compare violations by."""
        return (self.rule, self.record, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "clause": self.clause,
            "severity": self.severity,
            "record": self.record,
            "message": self.message,
            "because": list(self.because),
        }


@dataclass(frozen=True)
class Report:
    as_of: str  # ISO date
    rulebook: str  # the rulebook's name, e.g. "u4ssc"
    violations: tuple[Violation, ...]  # already in the canonical order of cli.md
    rules: tuple[RuleInfo, ...]  # in the rulebook's order
    records: int  # how many records the registry holds
    clause_texts: dict = field(default_factory=dict)  # clause id -> ToR text (may be empty)

    def summary(self) -> dict[str, int]:
        counts = {s: 0 for s in SEVERITIES}
        for v in self.violations:
            counts[v.severity] += 1
        return {**counts, "records": self.records, "rules": len(self.rules)}

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "rulebook": self.rulebook,
            "violations": [v.to_json() for v in self.violations],
            "summary": self.summary(),
        }
