"""The pyDatalog engine: the program is built through pyDatalog's term API.

Nothing here formats text for pyDatalog.load or ask: every literal and clause is
built from pyEngine objects, and registry values travel as pyEngine.Const, so
no registry value or rule text is ever evaluated as Python. Negated
conjunctions become auxiliary predicates whose arguments are the variables the
conjunction shares with the literals before it; the compiler has already
ordered bodies, so every negation and comparison is reached with its inputs
bound, as pyDatalog requires.
"""
from __future__ import annotations

import itertools

from pyDatalog import Logic, pyEngine

from .. import ir
from ..dates import FUNCTIONS
from . import sort_rows

_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Failed:
    """The value of a date function that fails (D + 99999999 years, date(2025, 2, 30), year_of of a text).

    pyDatalog keeps the exception as the value, and the next comparison with
    it raised a TypeError out of the check. Every comparison with this one is
    false and no fact holds it, so the row is dropped, as the SQLite engine
    drops a row whose function gave NULL.
    """

    __slots__ = ()

    def __eq__(self, other):
        return False

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__

    def __repr__(self):
        return "<failed>"


_FAILED = _Failed()


def _safe(fn):
    def call(*args):
        if any(a is _FAILED for a in args):
            return _FAILED
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - any failure of a rule's arithmetic drops the row
            return _FAILED

    return call


class PyDatalogEngine:
    name = "pydatalog"

    def __init__(self, program: ir.Program):
        self.program = program
        Logic()  # a fresh knowledge base for this thread
        self.names: dict[str, str] = {}
        self.counter = itertools.count()
        self.clauses = []
        for rel, arity in sorted(program.relations.items()):
            self._declare(rel, arity)
        for rule in program.rules:
            self._rule(rule)
        for c in self.clauses:
            pyEngine.assert_(c)
        self.facts = []
        for rel, rows in sorted(program.static_facts.items()):
            self._facts(rel, rows)

    # ---- naming
    def _declare(self, rel: str, arity: int) -> str:
        if rel not in self.names:
            name = f"r{next(self.counter)}"
            self.names[rel] = name
            pyEngine.insert(pyEngine.Pred(name, arity))
        return self.names[rel]

    # ---- translation
    def _term(self, t, vars_):
        if isinstance(t, ir.V):
            if t.name not in vars_:
                vars_[t.name] = pyEngine.Var(f"V{len(vars_)}")
            return vars_[t.name]
        if isinstance(t, ir.K):
            return pyEngine.Const(t.value)
        if isinstance(t, ir.Fn):
            fn = _safe(FUNCTIONS[t.name])
            args = pyEngine.VarTuple([self._term(a, vars_) for a in t.args])
            return pyEngine.Operation(pyEngine.Const(None), fn, args)
        raise TypeError(t)

    def _body(self, body, vars_, bound: set):
        out = []
        for lit in body:
            if isinstance(lit, ir.Pos):
                out.append(pyEngine.Literal(self.names[lit.rel], [self._term(a, vars_) for a in lit.args]))
                bound |= ir.literal_vars(lit)
            elif isinstance(lit, ir.Let):
                v = self._term(lit.var, vars_)
                out.append(pyEngine.Literal("==", [v, self._term(lit.expr, vars_)]))
                if isinstance(lit.expr, ir.Fn):  # a failed function gives _FAILED, equal to nothing: drop the row
                    out.append(pyEngine.Literal("==", [v, v]))
                bound.add(lit.var.name)
            elif isinstance(lit, ir.Cmp):
                out.append(pyEngine.Literal(_OPS[lit.op], [self._term(lit.left, vars_), self._term(lit.right, vars_)]))
            elif isinstance(lit, ir.Neg):
                shared = sorted(ir.literal_vars(lit) & bound)
                aux = self._declare(f"neg:{next(self.counter)}", len(shared))
                inner_vars: dict = {}
                head = pyEngine.Literal(aux, [self._term(ir.V(v), inner_vars) for v in shared])
                inner = self._body(lit.body, inner_vars, set(shared))
                self.clauses.append(pyEngine.Clause(head, inner))
                out.append(pyEngine.Literal("~" + aux, [self._term(ir.V(v), vars_) for v in shared]))
            else:
                raise TypeError(lit)
        return out

    def _rule(self, rule: ir.Rule):
        vars_: dict = {}
        body = self._body(rule.body, vars_, set())
        head = pyEngine.Literal(self.names[rule.head], [self._term(a, vars_) for a in rule.args])
        self.clauses.append(pyEngine.Clause(head, body))

    # ---- facts and queries
    def _facts(self, rel, rows):
        name = self.names[rel]
        for row in rows:
            c = pyEngine.Clause(pyEngine.Literal(name, [pyEngine.Const(v) for v in row]), [])
            pyEngine.assert_(c)

    def load(self, facts: dict):
        for rel in sorted(facts):
            if rel in self.names:
                self._facts(rel, facts[rel])

    def retract(self, facts: dict):
        for rel in sorted(facts):
            name = self.names[rel]
            for row in facts[rel]:
                pyEngine.retract(pyEngine.Clause(pyEngine.Literal(name, [pyEngine.Const(v) for v in row]), []))

    def query(self, rel: str):
        arity = self.program.relations[rel]
        lit = pyEngine.Literal(self.names[rel], [pyEngine.Var(f"Q{i}") for i in range(arity)])
        rows = lit.ask()
        if not rows or rows is True:
            return []
        return sort_rows(tuple(r) for r in rows)
