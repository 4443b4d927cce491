"""Lint a rulebook: what compiles but a careful author would not leave.

Works on the syntax trees (checker.parse), not on the compiled rulebook, so a
rulebook the compiler rejects (a rule id given twice, say) can still be
linted. Findings are diagnostics in the house format, sorted by file and
position. Codes (stable):

  untested-rule        a rule with no test case (RULES_DIR/tests/<rule>.yaml)
  missing-case-kind    a rule without a violating, a near miss or a boundary case
  orphan-cases         a case file for a rule the rulebook does not have
  missing-quote        a rule that quotes no ToR text
  unused-parameter     a parameter no condition uses
  unused-predicate     a helper predicate no rule or deadline uses, directly or through other helpers
  duplicate-rule       a rule (or deadline) id given twice
  duplicate-condition  two rules with the same condition

Two conditions are the same when their syntax trees are equal once source
positions, the wording of negated groups and the names of variables are set
aside (`appointment(A), A.role = lead` and `appointment(X), X.role = lead` are
the same condition): the comparison is on structure, the order of literals
counts.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from . import ast as A
from . import fsread
from .model import Diagnostic, Location
from .parse import parse_text

CASE_KINDS = ("violating", "near miss", "boundary")


@dataclasses.dataclass
class LintResult:
    findings: list  # Diagnostic, sorted
    errors: list  # Diagnostic: the rulebook could not be read (syntax, case files)
    counts: dict


def _walk(x):
    """Every AST node under x (x included), in field order."""
    yield x
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            if f.name != "span":
                yield from _walk(getattr(x, f.name))
    elif isinstance(x, tuple):
        for y in x:
            yield from _walk(y)


def names_used(cond) -> set[str]:
    return {n.name for n in _walk(cond) if isinstance(n, A.Name)}


def predicates_called(cond) -> set[str]:
    out = set()
    for n in _walk(cond):
        if isinstance(n, (A.Atom, A.Call)):
            out.add(n.name)
    return out


def canonical(cond):
    """The condition with spans, group wordings and variable names set aside (see the module's doc)."""
    names: dict[str, str] = {}

    def var(name):
        if name == "_":
            return name
        if name not in names:
            names[name] = f"V{len(names) + 1}"
        return names[name]

    def go(x):
        if isinstance(x, A.Var):
            return A.Var(var(x.name))
        if isinstance(x, A.FieldRef):
            return A.FieldRef(var(x.var), x.path)
        if isinstance(x, A.Not):
            return A.Not(go(x.item), None)
        if isinstance(x, tuple):
            return tuple(go(y) for y in x)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            kw = {f.name: go(getattr(x, f.name)) for f in dataclasses.fields(x) if f.name != "span"}
            return type(x)(**kw)
        return x

    return go(cond)


def _fs_diagnostic(pr, shown: str) -> Diagnostic:
    """A file or folder checker.fsread refused, as the compiler reports it."""
    where = shown + "/" + pr.rel if pr.rel else shown
    if pr.code == "unreadable-folder":
        return Diagnostic(pr.code, pr.say(where))
    return Diagnostic(pr.code, pr.say(where), Location(where, 1, 1))


def lint(rules_dir: str, display: str | None = None) -> LintResult:
    from .cases import read_cases

    shown = (display if display is not None else rules_dir).replace("\\", "/").rstrip("/") or "."
    root = Path(rules_dir)
    errors: list[Diagnostic] = []
    findings: list[Diagnostic] = []
    texts: dict[str, list[str]] = {}
    items = []
    if not root.is_dir():
        return LintResult([], [Diagnostic("rulebook-not-found", f"rulebook folder {shown} does not exist")], {})
    files, problems = fsread.rule_files(root)  # as the compiler lists and reads them (checker.fsread)
    if not files and not problems:
        return LintResult([], [Diagnostic("empty-rulebook", f"no *.rules file in {shown}")], {})
    for pr in problems:
        errors.append(_fs_diagnostic(pr, shown))
    for e in files:
        path = shown + "/" + e.rel
        try:
            text = fsread.read(e).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text reads it
        except fsread.FsProblem as pr:
            errors.append(_fs_diagnostic(pr, shown))
            continue
        except UnicodeDecodeError:
            errors.append(Diagnostic("encoding", f"{path} is not UTF-8 text", Location(path, 1)))
            continue
        texts[path] = text.splitlines()
        tree, diags = parse_text(text, path)
        errors += diags
        if tree is not None:
            items += tree.items
    cases, case_diags = read_cases(rules_dir, shown)
    errors += case_diags
    if errors:
        return LintResult([], sorted(errors, key=Diagnostic.sort_key), {})

    def find(code, msg, span: A.Span, help=None):
        lines = texts.get(span.path, [])
        src = lines[span.line - 1] if 0 < span.line <= len(lines) else None
        findings.append(Diagnostic(code, msg, Location(span.path, span.line, span.column), src, help, "warning"))

    rules = [it for it in items if isinstance(it, A.RuleDecl)]
    deadlines = [it for it in items if isinstance(it, A.DeadlineDecl)]
    preds = {}
    for it in items:
        if isinstance(it, A.PredDecl):
            preds.setdefault(it.name, it)
    params = [it for it in items if isinstance(it, A.ParamDecl)]

    # ---- the same id twice
    for what, decls in (("rule", rules), ("deadline", deadlines)):
        first: dict[str, A.Span] = {}
        for d in decls:
            if d.id in first:
                prev = first[d.id]
                find(f"duplicate-{what}", f"{what} {d.id!r} is already defined at {prev.path}:{prev.line}", d.span,
                     f"give each {what} its own id")
            else:
                first[d.id] = d.span

    # ---- quotes
    for r in rules:
        q = r.attr("quote")
        if q is None or not str(q).strip():
            find("missing-quote", f"rule {r.id!r} quotes no ToR text", r.span,
                 "add `quote \"...\"` with the words of the ToR the rule encodes")

    # ---- tests
    by_rule: dict[str, set] = {}
    first_case: dict[str, object] = {}
    for c in cases:
        by_rule.setdefault(c.rule, set()).add(c.kind)
        first_case.setdefault(c.rule, c)
    rule_ids = {r.id for r in rules}
    for r in {r.id: r for r in reversed(rules)}.values():  # an id given twice: its first definition
        kinds = by_rule.get(r.id)
        if not kinds:
            find("untested-rule", f"rule {r.id!r} has no test case", r.span,
                 f"add {shown}/tests/{r.id}.yaml (docs/rule-tests.md)")
            continue
        lacking = [k for k in CASE_KINDS if k not in kinds]
        if lacking:
            find("missing-case-kind", f"rule {r.id!r} has no {' and no '.join(lacking)} case", r.span,
                 "every rule has a violating case, a near miss and a boundary case (docs/rule-tests.md)")
    for rule, c in sorted(first_case.items()):
        if rule not in rule_ids:
            findings.append(Diagnostic("orphan-cases", f"cases for rule {rule!r}, which the rulebook does not have",
                                       Location(c.file, 1)))

    # ---- parameters and helpers in use
    used_names: set[str] = set()
    for d in list(rules) + list(deadlines) + list(preds.values()):
        used_names |= names_used(d.cond)
    for p in params:
        if p.name not in used_names:
            find("unused-parameter", f"parameter {p.name!r} is not used by any condition", p.span,
                 "use it in the rule it interprets, or remove it")
    reached: set[str] = set()
    todo = [n for d in list(rules) + list(deadlines) for n in predicates_called(d.cond)]
    while todo:
        n = todo.pop()
        if n in reached or n not in preds:
            continue
        reached.add(n)
        todo.extend(predicates_called(preds[n].cond))
    for name, p in preds.items():
        if name not in reached:
            find("unused-predicate", f"helper predicate {name!r} is not used by any rule", p.span,
                 "rules and deadlines use helpers, directly or through other helpers; remove it or use it")

    # ---- the same condition twice
    seen: dict = {}
    for r in rules:
        key = canonical(r.cond)
        if key in seen:
            prev = seen[key]
            find("duplicate-condition", f"rule {r.id!r} has the same condition as rule {prev.id!r} "
                 f"({prev.span.path}:{prev.span.line})", r.span, "merge the two rules, or tell them apart")
        else:
            seen[key] = r

    counts = {"rules": len(rules), "helpers": len(preds), "parameters": len(params), "cases": len(cases)}
    return LintResult(sorted(findings, key=Diagnostic.sort_key), [], counts)
