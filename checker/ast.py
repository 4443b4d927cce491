"""The rule language's syntax tree: frozen dataclasses built by checker.parse.

Every node carries a source span that is left out of equality, so two rules
that say the same thing are equal wherever they are written, and every later
diagnostic can still point at its source.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    path: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0


NOSPAN = Span("<builtin>", 0, 0)


def _span():
    return field(default=NOSPAN, compare=False, repr=False)


# ------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Var:
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Name:
    """A lower-case name in a term: a constant, a parameter or `as_of`."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Str:
    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Int:
    value: int
    span: Span = _span()


@dataclass(frozen=True)
class DateLit:
    value: str  # ISO
    span: Span = _span()


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # days | months | years
    span: Span = _span()


@dataclass(frozen=True)
class FieldRef:
    var: str
    path: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    span: Span = _span()


@dataclass(frozen=True)
class BinOp:
    op: str  # "+" | "-"
    left: object
    right: object
    span: Span = _span()


# ------------------------------------------------------------------ conditions


@dataclass(frozen=True)
class And:
    items: tuple
    span: Span = _span()


@dataclass(frozen=True)
class Or:
    items: tuple
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    item: object
    description: str | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Atom:
    name: str
    args: tuple
    span: Span = _span()


@dataclass(frozen=True)
class Compare:
    op: str
    left: object
    right: object
    span: Span = _span()


@dataclass(frozen=True)
class InSet:
    item: object
    options: tuple
    span: Span = _span()


@dataclass(frozen=True)
class InField:
    item: object
    field: FieldRef
    span: Span = _span()


@dataclass(frozen=True)
class Presence:
    field: FieldRef
    present: bool
    span: Span = _span()


# ------------------------------------------------------------------ declarations


@dataclass(frozen=True)
class SimpleType:
    name: str  # id | text | date | year | boolean
    span: Span = _span()


@dataclass(frozen=True)
class EnumType:
    values: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True)
class RefType:
    targets: tuple[str, ...]  # kind names, "body", "logo", "any", or a body/logo name
    span: Span = _span()


@dataclass(frozen=True)
class ListType:
    item: object
    span: Span = _span()


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: object
    required: bool = False
    required_when: tuple[str, str] | None = None
    default: str | None = None
    phrase: str | None = None
    span: Span = _span()


@dataclass(frozen=True)
class KindDecl:
    name: str  # plural, as in the registry: "appointments"
    singular: str  # the predicate: "appointment"
    doc: str | None
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@dataclass(frozen=True)
class BodyDecl:
    name: str
    doc: str
    span: Span = _span()


@dataclass(frozen=True)
class LogoDecl:
    name: str
    doc: str
    span: Span = _span()


@dataclass(frozen=True)
class ParamDecl:
    name: str
    kind: str  # duration | int | monthday
    value: object  # Duration | int | "MM-DD"
    text: str  # as written
    cites: str | None
    reading: str | None
    span: Span = _span()


@dataclass(frozen=True)
class PredDecl:
    name: str
    params: tuple[tuple[str, str | None], ...]  # (variable, kind singular or None)
    template: str | None
    cond: object
    span: Span = _span()


@dataclass(frozen=True)
class RuleDecl:
    id: str
    attrs: tuple[tuple[str, object, Span], ...]  # (key, value, span) as written
    cond: object
    span: Span = _span()

    def attr(self, key, default=None):
        for k, v, _ in self.attrs:
            if k == key:
                return v
        return default

    def attr_all(self, key):
        return [v for k, v, _ in self.attrs if k == key]

    def attr_span(self, key):
        for k, _, s in self.attrs:
            if k == key:
                return s
        return self.span


@dataclass(frozen=True)
class DeadlineDecl:
    id: str
    attrs: tuple  # (key, value, span)
    cond: object
    span: Span = _span()

    attr = RuleDecl.attr
    attr_span = RuleDecl.attr_span


@dataclass(frozen=True)
class ClauseDecl:
    clause: str
    status: str  # not_computable | data
    reason: str
    span: Span = _span()


@dataclass(frozen=True)
class RuleFile:
    path: str
    text: str
    items: tuple
