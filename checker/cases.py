"""Rule test cases as data (docs/rule-tests.md): load, run, compare."""
from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .compile import Rulebook
from .evaluate import evaluate
from .model import Diagnostic, InputError, Location
from .registry import load_registry


@dataclass
class Case:
    file: str
    rule: str
    name: str
    as_of: str
    registry: dict
    expect: list
    also: list = field(default_factory=list)
    line: int = 0

    @property
    def id(self):
        return f"{self.rule}: {self.name}"


@dataclass
class Outcome:
    case: Case
    passed: bool
    missing: list  # expected, not reported
    unexpected: list  # reported, not expected
    actual: list
    error: str | None = None


def load_cases(rules_dir: str) -> list[Case]:
    out = []
    tests = Path(rules_dir) / "tests"
    for p in sorted(tests.glob("*.yaml")):
        node = yaml.compose(p.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        lines = {}
        try:
            for k, v in node.value:
                if k.value == "cases":
                    lines = {i: item.start_mark.line + 1 for i, item in enumerate(v.value)}
        except AttributeError:
            pass
        rule = data.get("rule") or p.stem
        for i, c in enumerate(data.get("cases") or []):
            as_of = c.get("as_of")
            out.append(Case(
                file=p.as_posix(), rule=rule, name=str(c.get("name", f"case {i + 1}")),
                as_of=as_of.isoformat() if hasattr(as_of, "isoformat") else str(as_of),
                registry=c.get("registry") or {}, expect=list(c.get("expect") or []),
                also=list(c.get("also") or []), line=lines.get(i, 0),
            ))
    return out


def _dump_registry(reg: dict, folder: Path):
    def plain(x):
        if hasattr(x, "isoformat"):
            return x.isoformat()
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list):
            return [plain(v) for v in x]
        return x

    (folder / "registry.yaml").write_text(yaml.safe_dump(plain(reg), sort_keys=False, allow_unicode=True), encoding="utf-8")


def _match(expected: list, actual: list):
    """Pair expectations with violations: (record, severity[, rule]) and message_contains."""
    remaining = list(actual)
    missing = []
    for e in expected:
        hit = None
        for v in remaining:
            if v.record == str(e.get("record")) and v.severity == e.get("severity", v.severity) \
                    and v.rule == e.get("rule", v.rule) and str(e.get("message_contains", "")) in v.message:
                hit = v
                break
        if hit is None:
            missing.append(e)
        else:
            remaining.remove(hit)
    return missing, remaining


def run_case(rulebook: Rulebook, case: Case, engine: str = "pydatalog") -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        _dump_registry(case.registry, Path(tmp))
        try:
            reg = load_registry(tmp, rulebook.vocabulary, display="case")
        except InputError as e:
            return Outcome(case, False, case.expect, [], [], "the case's registry is not valid:\n" +
                           "\n".join(d.render() for d in e.diagnostics))
        ev = evaluate(rulebook, reg, case.as_of, engine)
        vs = ev.violations()
    rules = {case.rule} | {a.get("rule") for a in case.also}
    actual = [v for v in vs if v.rule in rules]
    expected = [{**e, "rule": case.rule} for e in case.expect] + list(case.also)
    missing, unexpected = _match(expected, actual)
    return Outcome(case, not missing and not unexpected, missing, unexpected, actual)
