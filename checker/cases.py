"""Rule test cases as data (docs/rule-tests.md): read, validate, run, compare, report.

A case file `RULES_DIR/tests/<rule-id>.yaml` holds the cases of one rule:
each a small registry, an as-of date and the violations of that rule the check
must report, no more, no fewer. This module

- reads case files and validates their shape, with a diagnostic at the file
  and line of every problem (`read_cases`; `load_cases` raises them);
- runs a case (`run_case`): the case's registry is its own YAML text, cut out
  of the case file, so it is read exactly as a registry file would be, and a
  problem in it is reported at its line in the case file;
- compares expected and reported violations, and renders the comparison as a
  readable diff (`render_text`) or JUnit XML (`render_junit`).

Only the rules a case looks at are evaluated (`rulebook_for`): the program is
cut down to the rules named and the helpers they rest on, which gives the same
violations as the whole rulebook in a fraction of the time.

Diagnostic codes (stable):

  case-yaml          the case file is not YAML (at the parser's line)
  case-shape         a key is missing, has the wrong type, or is not known
  case-date          an as-of date that is not a date YYYY-MM-DD
  case-severity      an expected severity other than error, warning, notice
  duplicate-case     two cases of one file with the same name
  unknown-rule       a case file (or an `also`) names a rule the rulebook does not have
  (registry codes)   a case's registry is not a valid registry (see checker.registry)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import fsread, ir
from .compile import Rulebook
from .evaluate import evaluate
from .model import SEVERITIES, Diagnostic, InputError, Location
from .registry import load_registry

try:  # libyaml when present: the same documents, read faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

FILE_KEYS = ("rule", "cases")
CASE_KEYS = ("name", "as_of", "registry", "expect", "also")
EXPECT_KEYS = ("record", "severity", "message_contains")
ALSO_KEYS = ("rule",) + EXPECT_KEYS


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
    # the case's registry as written in the case file, and the line it starts on
    registry_text: str | None = None
    registry_line: int = 0
    registry_indent: int = 0
    expect_text: str | None = None  # the `expect` list as written

    @property
    def id(self):
        return f"{self.rule}: {self.name}"

    @property
    def kind(self) -> str:
        """violating, near miss, boundary (or the name's first word)."""
        if self.name.startswith("near miss"):
            return "near miss"
        return self.name.split(" ")[0]


@dataclass
class Outcome:
    case: Case
    passed: bool
    missing: list  # expected, not reported
    unexpected: list  # reported, not expected
    actual: list
    error: str | None = None
    matched: list = field(default_factory=list)  # (expectation, violation) pairs
    diagnostics: list = field(default_factory=list)  # the case's registry is not valid


# ====================================================================== reading


def _excerpt(text: str, node) -> tuple[str, int, int]:
    """The source of a YAML node, dedented: (text, first line (1-based), columns removed)."""
    s, e = node.start_mark, node.end_mark
    chunk = " " * s.column + text[s.index:e.index]
    lines = chunk.rstrip().splitlines()
    # a block node ends where the next key begins: drop trailing blank and comment-only lines
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    body = "\n".join(lines)
    ded = textwrap.dedent(body)
    first = lines[0] if lines else ""
    removed = len(first) - len(ded.splitlines()[0]) if ded else 0
    return ded + "\n", s.line + 1, removed


def _scalar(node):
    return node.value if isinstance(node, ScalarNode) else None


def _plain(x):
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def read_cases(rules_dir: str, display: str | None = None, rule_ids=None) -> tuple[list[Case], list[Diagnostic]]:
    """Every case of `rules_dir/tests/*.yaml`, and a diagnostic for every problem of shape.

    `display` is the rulebook path shown in `Case.file` and in diagnostics
    (default: `rules_dir` as given). With `rule_ids` (the rulebook's), a case
    file or an `also` naming another rule is a problem too.
    """
    shown = (display if display is not None else rules_dir).replace("\\", "/").rstrip("/") or "."
    out: list[Case] = []
    diags: list[Diagnostic] = []
    tests = Path(rules_dir) / "tests"
    if not tests.is_dir():
        return out, diags
    # listed and read by checker.fsread: only regular files inside tests/, never a FIFO or a link out of it
    files, problems = fsread.listing(tests, want=lambda n: n.endswith(".yaml"), hidden=True, recursive=False)
    for pr in problems:
        where = f"{shown}/tests/{pr.rel}" if pr.rel else f"{shown}/tests"
        diags.append(Diagnostic(pr.code, pr.say(where), Location(where, 1) if pr.rel else None))
    for e in files:
        path = f"{shown}/tests/{e.rel}"
        try:
            text = fsread.read(e).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text reads it
        except fsread.FsProblem as pr:
            diags.append(Diagnostic(pr.code, pr.say(path), Location(path, 1)))
            continue
        except UnicodeDecodeError as err:
            diags.append(Diagnostic("case-yaml", f"cannot read {path}: {err}", Location(path, 1)))
            continue
        cases, ds = _read_file(text, path, e.parts[-1][:-len(".yaml")], rule_ids)
        out += cases
        diags += ds
    return out, sorted(diags, key=Diagnostic.sort_key)


def load_cases(rules_dir: str, display: str | None = None) -> list[Case]:
    """Every case of the rulebook's tests; raises InputError when a case file is not valid."""
    cases, diags = read_cases(rules_dir, display if display is not None else Path(rules_dir).as_posix())
    if diags:
        raise InputError(diags)
    return cases


def _read_file(text: str, path: str, stem: str, rule_ids) -> tuple[list[Case], list[Diagnostic]]:
    lines = text.splitlines()
    diags: list[Diagnostic] = []

    def err(code, msg, node=None, line=None, col=None):
        if node is not None:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
        line = line or 1
        src = lines[line - 1] if 0 < line <= len(lines) else None
        diags.append(Diagnostic(code, msg, Location(path, line, col), src if col else None))

    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        if mark is not None:
            err("case-yaml", f"not valid YAML: {what}", line=mark.line + 1, col=mark.column + 1)
        else:
            err("case-yaml", f"not valid YAML: {what}")
        return [], diags
    if root is None:
        err("case-shape", "the case file is empty: it needs `rule` and `cases`")
        return [], diags
    if not isinstance(root, MappingNode):
        err("case-shape", "a case file is a mapping with `rule` and `cases`", root)
        return [], diags
    top = {}
    for k, v in root.value:
        key = _scalar(k)
        if key not in FILE_KEYS:
            err("case-shape", f"unknown key {key!r} in a case file (expected {', '.join(FILE_KEYS)})", k)
            continue
        top[key] = (k, v)
    rule = stem
    if "rule" in top:
        k, v = top["rule"]
        if not isinstance(v, ScalarNode) or not v.value:
            err("case-shape", "`rule` is the id of the rule under test", v)
        else:
            rule = v.value
            if rule_ids is not None and rule not in rule_ids:
                err("unknown-rule", f"the rulebook has no rule {rule!r}", v)
    if "cases" not in top:
        err("case-shape", "the case file has no `cases` list", root)
        return [], diags
    k, seq = top["cases"]
    if not isinstance(seq, SequenceNode):
        err("case-shape", "`cases` is a list of cases", seq)
        return [], diags
    out = []
    names: dict[str, int] = {}
    for node in seq.value:
        case = _read_case(text, path, rule, node, err, rule_ids)
        if case is None:
            continue
        if case.name in names:
            err("duplicate-case", f"a case named {case.name!r} is already given at line {names[case.name]}", node)
        else:
            names[case.name] = case.line
        out.append(case)
    return out, diags


def _construct(node):
    """The Python value of a node (YAML's own reading), or None when YAML cannot build it (2026-13-01)."""
    try:
        return _Loader("").construct_document(node)
    except (ValueError, TypeError, yaml.YAMLError):
        return None


def _read_case(text, path, rule, node, err, rule_ids) -> Case | None:
    if not isinstance(node, MappingNode):
        err("case-shape", "a case is a mapping with name, as_of, registry and expect", node)
        return None
    keys = {}
    for k, v in node.value:
        key = _scalar(k)
        if key not in CASE_KEYS:
            err("case-shape", f"unknown key {key!r} in a case (expected {', '.join(CASE_KEYS)})", k)
            continue
        keys[key] = v
    ok = True
    for key in ("name", "as_of", "registry", "expect"):
        if key not in keys:
            err("case-shape", f"the case has no `{key}`", node)
            ok = False
    if not ok:
        return None
    name_node = keys["name"]
    if not isinstance(name_node, ScalarNode) or not name_node.value.strip():
        err("case-shape", "a case's `name` is a text", name_node)
        ok = False
    as_of_node = keys["as_of"]
    as_of = _scalar(as_of_node)
    try:
        as_of = dt.date.fromisoformat(as_of).isoformat() if isinstance(as_of, str) else None
    except ValueError:
        as_of = None
    if as_of is None:
        err("case-date", "`as_of` is a date written YYYY-MM-DD", as_of_node)
        ok = False
    reg_node = keys["registry"]
    if not isinstance(reg_node, MappingNode):
        err("case-shape", "a case's `registry` is a mapping of record kinds to lists of records", reg_node)
        ok = False
    expect = _read_expectations(keys["expect"], EXPECT_KEYS, err, rule_ids)
    also = _read_expectations(keys["also"], ALSO_KEYS, err, rule_ids) if "also" in keys else []
    if expect is None or also is None or not ok:
        return None
    reg_text, reg_line, reg_indent = _excerpt(text, reg_node)
    exp_text = _excerpt(text, keys["expect"])[0]
    return Case(
        file=path, rule=rule, name=name_node.value, as_of=as_of,
        registry=_plain(_construct(reg_node) or {}), expect=expect, also=also, line=node.start_mark.line + 1,
        registry_text=reg_text, registry_line=reg_line, registry_indent=reg_indent, expect_text=exp_text,
    )


def _read_expectations(seq, allowed, err, rule_ids):
    if not isinstance(seq, SequenceNode):
        err("case-shape", "`expect` and `also` are lists of {record, severity[, message_contains]}", seq)
        return None
    out, ok = [], True
    for item in seq.value:
        if not isinstance(item, MappingNode):
            err("case-shape", "an expected violation is a mapping {record: ID, severity: S}", item)
            ok = False
            continue
        e = {}
        for k, v in item.value:
            key = _scalar(k)
            if key not in allowed:
                err("case-shape", f"unknown key {key!r} in an expected violation (expected {', '.join(allowed)})", k)
                ok = False
                continue
            if not isinstance(v, ScalarNode):
                err("case-shape", f"`{key}` is a single value", v)
                ok = False
                continue
            e[key] = v.value
            if key == "severity" and v.value not in SEVERITIES:
                err("case-severity", f"unknown severity {v.value!r} (one of {', '.join(SEVERITIES)})", v)
                ok = False
            if key == "rule" and rule_ids is not None and v.value not in rule_ids:
                err("unknown-rule", f"the rulebook has no rule {v.value!r}", v)
                ok = False
        for key in [k for k in allowed if k in ("record", "rule")]:
            if key not in e:
                err("case-shape", f"an expected violation needs `{key}`", item)
                ok = False
        out.append(e)
    return out if ok else None


# ====================================================================== running


def rulebook_for(rulebook: Rulebook, rule_ids) -> Rulebook:
    """The rulebook cut down to `rule_ids` and the helper relations their rules rest on.

    Datalog relations depend only on the relations their rules refer to, so
    the cut gives the named rules exactly the violations the whole rulebook
    gives them. Cached on the rulebook, per set of rule ids.
    """
    key = frozenset(rule_ids)
    cache = rulebook.__dict__.setdefault("_cases_slices", {})
    if key in cache:
        return cache[key]
    rules = [r for r in rulebook.rules if r.info.id in key]
    prog = rulebook.program
    by_head: dict[str, list] = {}
    for r in prog.rules:
        by_head.setdefault(r.head, []).append(r)
    needed: set[str] = set()
    todo = [alt.head for r in rules for alt in r.alternatives]
    while todo:
        rel = todo.pop()
        if rel in needed:
            continue
        needed.add(rel)
        for r in by_head.get(rel, ()):
            todo.extend(name for name, _ in ir.relations_used(r.body))
    program = dataclasses.replace(prog, rules=[r for r in prog.rules if r.head in needed])
    cut = dataclasses.replace(rulebook, rules=rules, program=program, deadlines=[])
    cache[key] = cut
    return cut


def _write_registry(case: Case, folder: Path):
    if case.registry_text is not None:
        text = case.registry_text
    else:
        text = yaml.safe_dump(_plain(case.registry), sort_keys=False, allow_unicode=True)
    (folder / "registry.yaml").write_text(text, encoding="utf-8")


def _in_case_file(case: Case, d: Diagnostic) -> Diagnostic:
    """A diagnostic about the case's registry, moved to its place in the case file."""
    loc = d.location
    if loc is None or case.registry_text is None:
        return dataclasses.replace(d, location=Location(case.file, case.line), source_line=None,
                                   message=f"case {case.name!r}: {d.message}")
    line = case.registry_line + loc.line - 1
    col = loc.column + case.registry_indent if loc.column else None
    src = d.source_line
    if src is not None:
        src = " " * case.registry_indent + src
    return dataclasses.replace(d, location=Location(case.file, line, col), source_line=src)


def _match(expected: list, actual: list):
    """Pair expectations with violations by record, severity, rule and message_contains."""
    remaining = list(actual)
    missing, matched = [], []
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
            matched.append((e, hit))
    return missing, remaining, matched


def run_case(rulebook: Rulebook, case: Case, engine: str = "pydatalog") -> Outcome:
    """Evaluate the case's registry as of its date; compare with what it expects."""
    rules = {case.rule} | {str(a.get("rule")) for a in case.also}
    rb = rulebook_for(rulebook, rules)
    with tempfile.TemporaryDirectory() as tmp:
        _write_registry(case, Path(tmp))
        try:
            reg = load_registry(tmp, rulebook.vocabulary, display="case")
        except InputError as e:
            diags = [_in_case_file(case, d) for d in e.diagnostics]
            return Outcome(case, False, list(case.expect), [], [],
                           "the case's registry is not valid:\n" + "\n".join(d.render() for d in diags),
                           diagnostics=diags)
        vs = evaluate(rb, reg, case.as_of, engine).violations()
    actual = [v for v in vs if v.rule in rules]
    expected = [{**e, "rule": case.rule} for e in case.expect] + list(case.also)
    missing, unexpected, matched = _match(expected, actual)
    return Outcome(case, not missing and not unexpected, missing, unexpected, actual, matched=matched)


def run_cases(rulebook: Rulebook, cases, engine: str = "pydatalog") -> list[Outcome]:
    return [run_case(rulebook, c, engine) for c in cases]


# ====================================================================== reporting


def _expectation_text(e: dict) -> str:
    parts = [str(e.get("record")), str(e.get("severity", "any severity"))]
    if e.get("message_contains"):
        parts.append(f"message containing {e['message_contains']!r}")
    return "  ".join(parts)


def _violation_text(v) -> str:
    return f"{v.record}  {v.severity}  {v.message}"


def diff_lines(o: Outcome) -> list[str]:
    """Expected against reported: `  ` as expected, `- ` expected but not reported, `+ ` reported but not expected."""
    several = len({o.case.rule} | {str(a.get("rule")) for a in o.case.also}) > 1

    def rule_of(rule):
        return f"[{rule}] " if several else ""

    out = ["--- expected", "+++ reported"]
    for e, v in o.matched:
        out.append("  " + rule_of(v.rule) + _violation_text(v))
    for e in o.missing:
        out.append("- " + rule_of(e.get("rule", o.case.rule)) + _expectation_text(e))
    for v in o.unexpected:
        out.append("+ " + rule_of(v.rule) + _violation_text(v))
    if len(out) == 2:
        out.append("  (no violation expected, none reported)")
    return out


def summary_counts(outcomes) -> dict:
    failed = sum(1 for o in outcomes if not o.passed)
    return {"cases": len(outcomes), "passed": len(outcomes) - failed, "failed": failed,
            "rules": len({o.case.rule for o in outcomes})}


def render_text(outcomes, *, verbose: bool = True) -> str:
    """One line per case (`ok` or `FAIL`), a diff under each failure, and a summary."""
    lines = []
    for o in outcomes:
        c = o.case
        if o.passed:
            if verbose:
                lines.append(f"ok    {c.rule}: {c.name}")
            continue
        lines.append(f"FAIL  {c.rule}: {c.name}")
        lines.append(f"      {c.file}:{c.line}, as of {c.as_of}")
        if o.error:
            lines += ["      " + x for x in o.error.splitlines()]
        else:
            lines += ["      " + x for x in diff_lines(o)]
    n = summary_counts(outcomes)
    if lines:
        lines.append("")
    lines.append(f"{n['cases']} case{'s' if n['cases'] != 1 else ''} of {n['rules']} rule{'s' if n['rules'] != 1 else ''}: "
                 f"{n['passed']} passed, {n['failed']} failed")
    return "\n".join(lines) + "\n"


def render_junit(outcomes, name: str = "torcheck rule tests") -> str:
    """JUnit XML: one testsuite per rule, one testcase per case, a failure with the diff."""
    n = summary_counts(outcomes)
    root = ET.Element("testsuites", {"name": name, "tests": str(n["cases"]), "failures": str(n["failed"]),
                                     "errors": "0"})
    suites: dict[str, list] = {}
    for o in outcomes:
        suites.setdefault(o.case.rule, []).append(o)
    for rule, os_ in suites.items():
        failed = sum(1 for o in os_ if not o.passed)
        suite = ET.SubElement(root, "testsuite", {"name": rule, "tests": str(len(os_)), "failures": str(failed),
                                                  "errors": "0", "file": os_[0].case.file})
        for o in os_:
            tc = ET.SubElement(suite, "testcase", {"classname": rule, "name": o.case.name, "file": o.case.file,
                                                   "line": str(o.case.line)})
            if not o.passed:
                body = o.error if o.error else "\n".join(diff_lines(o))
                msg = ("the case's registry is not valid" if o.error else
                       f"{len(o.missing)} expected violation(s) not reported, "
                       f"{len(o.unexpected)} reported violation(s) not expected")
                f = ET.SubElement(tc, "failure", {"message": msg, "type": "mismatch"})
                f.text = body + "\n"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
