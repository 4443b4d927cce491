"""Static checks of an IR program, and its strata, for any engine.

The rulebook compiler already rejects unsafe variables and negation through
recursion in the rules it writes; these checks hold any `checker.ir.Program`
to the same standard, whoever built it (the conformance suite's adapter, a
test, a future front end). They are the ones Soufflé and other Datalog tools
make:

- every relation a rule names is declared, with the arity it is declared with;
- range restriction: every variable of a head, of a comparison and of a
  computed value is bound, in body order, by a positive atom or an
  assignment before it is used (inside a negation, the variables bound
  before the negation are shared; the others are local to it);
- no negation through recursion: the program is stratifiable.

`problems(program)` lists every problem as text; `stratify(program)` orders
the derived relations into strata (raising ProgramError on a program that has
no stratified meaning), each stratum with its rules and whether it is
recursive.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from .. import ir


class ProgramError(ValueError):
    """A program no engine may evaluate: the problems, one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Stratum:
    relations: tuple  # derived relations defined here, sorted
    rules: list  # ir.Rule, program order
    recursive: bool  # some rule reads a relation of this stratum


# ---------------------------------------------------------------- safety


def _term_problems(t, bound, where):
    missing = sorted(ir.term_vars(t) - bound)
    return [f"{where}: variable {', '.join(missing)} is not bound by a positive atom before it is used"] if missing else []


def body_problems(body, bound: set, where: str, relations: dict) -> list[str]:
    """Problems of an ordered body; `bound` grows with what the body binds."""
    out = []
    for lit in body:
        if isinstance(lit, ir.Pos):
            if lit.rel not in relations:
                out.append(f"{where}: relation {lit.rel!r} is not declared")
            elif relations[lit.rel] != len(lit.args):
                out.append(f"{where}: {lit.rel} has arity {relations[lit.rel]}, used with {len(lit.args)} arguments")
            for a in lit.args:
                if isinstance(a, ir.Fn):
                    out.append(f"{where}: a computed value inside atom {lit.rel}; assign it to a variable first")
            bound |= ir.literal_vars(lit)
        elif isinstance(lit, ir.Let):
            out += _term_problems(lit.expr, bound, where)
            bound.add(lit.var.name)
        elif isinstance(lit, ir.Cmp):
            out += _term_problems(lit.left, bound, where) + _term_problems(lit.right, bound, where)
        elif isinstance(lit, ir.Neg):
            out += body_problems(lit.body, set(bound), where + " (under negation)", relations)
        else:
            out.append(f"{where}: unknown literal {lit!r}")
    return out


def problems(program: ir.Program) -> list[str]:
    """Every safety and stratification problem of a program, as text."""
    out = []
    for i, rule in enumerate(program.rules):
        where = f"rule {i + 1} ({rule.head})"
        if rule.head not in program.relations:
            out.append(f"{where}: head relation {rule.head!r} is not declared")
        elif program.relations[rule.head] != len(rule.args):
            out.append(f"{where}: {rule.head} has arity {program.relations[rule.head]}, head has {len(rule.args)}")
        if rule.head in program.edb:
            out.append(f"{where}: {rule.head!r} is a relation of facts; rules may not define it")
        bound: set = set()
        out += body_problems(rule.body, bound, where, program.relations)
        for a in rule.args:
            if isinstance(a, ir.Fn):
                out.append(f"{where}: a computed value in the head; assign it to a variable in the body")
            else:
                out += _term_problems(a, bound, where + " head")
    try:
        stratify(program)
    except ProgramError as e:
        out += e.problems
    return out


# ---------------------------------------------------------------- strata


def dependencies(program: ir.Program):
    """{head: {(relation, negated)}} over the derived relations."""
    deps: dict[str, set] = {}
    for rule in program.rules:
        deps.setdefault(rule.head, set()).update(ir.relations_used(rule.body))
    return deps


def _sccs(nodes, edges):
    """Tarjan's strongly connected components, in dependency order (callees first)."""
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = itertools.count()

    def visit(v):
        # iterative, so that long chains of relations do not exhaust the stack
        work = [(v, iter(sorted(edges.get(v, ()))))]
        index[v] = low[v] = next(counter)
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in nodes:
                    continue
                if w not in index:
                    index[w] = low[w] = next(counter)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                comps.append(tuple(sorted(comp)))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return comps


def stratify(program: ir.Program) -> list[Stratum]:
    """The derived relations in evaluation order; ProgramError on negation through recursion."""
    deps = dependencies(program)
    heads = set(deps)
    edges = {h: {r for r, _ in ds} for h, ds in deps.items()}
    comps = _sccs(heads, edges)
    strata, errors = [], []
    for comp in comps:
        members = set(comp)
        recursive = len(comp) > 1 or any(r in members for r, _ in deps[comp[0]])
        for h in comp:
            for r, neg in sorted(deps[h]):
                if neg and r in members:
                    errors.append(f"relation {h!r} depends on {r!r} through negation within a recursive cycle "
                                  f"({', '.join(comp)}): the program has no stratified meaning")
        rules = [r for r in program.rules if r.head in members]
        strata.append(Stratum(comp, rules, recursive))
    if errors:
        raise ProgramError(errors)
    return strata


def check(program: ir.Program) -> None:
    """Raise ProgramError listing every problem of the program, if any."""
    found = problems(program)
    if found:
        raise ProgramError(found)
