"""The engine-neutral intermediate representation.

A program is a set of relations and rules over them. Rule bodies hold
positive atoms, negated conjunctions ("no such facts exist"), comparisons and
assignments of computed values. Values are strings (ids, texts, ISO dates) and
integers. Everything above this module knows nothing of pyDatalog; every
engine only translates a Program and answers queries on relations.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class V:
    """A variable."""

    name: str


@dataclass(frozen=True)
class K:
    """A constant."""

    value: object


@dataclass(frozen=True)
class Fn:
    """A call of one of checker.dates.FUNCTIONS on bound terms."""

    name: str
    args: tuple


@dataclass(frozen=True)
class Pos:
    rel: str
    args: tuple  # V | K


@dataclass(frozen=True)
class Neg:
    """No facts satisfy this conjunction (its variables bound outside are shared)."""

    body: tuple


@dataclass(frozen=True)
class Cmp:
    op: str  # = != < <= > >=
    left: object  # V | K | Fn
    right: object


@dataclass(frozen=True)
class Let:
    var: V
    expr: object  # V | K | Fn, all of whose variables are bound


@dataclass(frozen=True)
class Rule:
    head: str
    args: tuple  # V | K
    body: tuple  # ordered: every literal's inputs are bound by what precedes it


@dataclass
class Program:
    relations: dict = field(default_factory=dict)  # name -> arity
    edb: set = field(default_factory=set)  # relations filled with facts
    rules: list = field(default_factory=list)
    static_facts: dict = field(default_factory=dict)  # relation -> list of tuples

    def add_relation(self, name: str, arity: int, edb: bool = False):
        self.relations[name] = arity
        if edb:
            self.edb.add(name)


def term_vars(t):
    if isinstance(t, V):
        return {t.name}
    if isinstance(t, Fn):
        out = set()
        for a in t.args:
            out |= term_vars(a)
        return out
    return set()


def literal_vars(lit):
    if isinstance(lit, Pos):
        return set().union(*(term_vars(a) for a in lit.args)) if lit.args else set()
    if isinstance(lit, Cmp):
        return term_vars(lit.left) | term_vars(lit.right)
    if isinstance(lit, Let):
        return {lit.var.name} | term_vars(lit.expr)
    if isinstance(lit, Neg):
        out = set()
        for b in lit.body:
            out |= literal_vars(b)
        return out
    raise TypeError(lit)


def relations_used(body):
    """(relation, negated) pairs a body refers to."""
    for lit in body:
        if isinstance(lit, Pos):
            yield lit.rel, False
        elif isinstance(lit, Neg):
            for r, _ in relations_used(lit.body):
                yield r, True
