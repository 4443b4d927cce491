"""Stage 1: rule-file text to syntax tree (checker.ast), with diagnostics."""
from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.lexer import PatternStr
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ast as A
from .model import Diagnostic, Location


def grammar_text() -> str:
    here = Path(__file__).resolve().parent.parent / "grammar" / "rules.lark"
    if here.is_file():
        return here.read_text(encoding="utf-8")
    return resources.files("checker.grammar").joinpath("rules.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(tok: str) -> str:
    if tok.startswith('"""'):
        return tok[3:-3]
    body = tok[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


class _Builder(Transformer):
    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def _span(self, meta) -> A.Span:
        if getattr(meta, "empty", True):
            return A.Span(self.path, 0, 0)
        return A.Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> A.Span:
        return A.Span(self.path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column)

    # ---- strings and terms
    def string(self, items):
        tok = items[0]
        return (_unescape(str(tok)), self._tspan(tok))

    @v_args(meta=True)
    def var(self, meta, items):
        return A.Var(str(items[0]), self._span(meta))

    @v_args(meta=True)
    def name(self, meta, items):
        return A.Name(str(items[0]), self._span(meta))

    @v_args(meta=True)
    def string_const(self, meta, items):
        return A.Str(items[0][0], self._span(meta))

    @v_args(meta=True)
    def int_const(self, meta, items):
        return A.Int(int(items[0]), self._span(meta))

    @v_args(meta=True)
    def date_const(self, meta, items):
        return A.DateLit(str(items[0]), self._span(meta))

    @v_args(meta=True)
    def duration(self, meta, items):
        unit = str(items[1])
        if not unit.endswith("s"):
            unit += "s"
        return A.Duration(int(items[0]), unit, self._span(meta))

    @v_args(meta=True)
    def field_ref(self, meta, items):
        return A.FieldRef(str(items[0]), tuple(str(t) for t in items[1:]), self._span(meta))

    @v_args(meta=True)
    def call(self, meta, items):
        return A.Call(str(items[0]), tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def plus(self, meta, items):
        return A.BinOp("+", items[0], items[1], self._span(meta))

    @v_args(meta=True)
    def minus(self, meta, items):
        return A.BinOp("-", items[0], items[1], self._span(meta))

    # ---- conditions
    @v_args(meta=True)
    def disj(self, meta, items):
        return A.Or(tuple(items), self._span(meta))

    @v_args(meta=True)
    def conj(self, meta, items):
        return A.And(tuple(items), self._span(meta))

    @v_args(meta=True)
    def negation(self, meta, items):
        inner = items[0]
        desc = None
        if isinstance(inner, tuple) and inner and inner[0] == "__group__":
            _, inner, desc = inner
        return A.Not(inner, desc, self._span(meta))

    @v_args(meta=True)
    def group(self, meta, items):
        inner = items[0]
        desc = items[1][0] if len(items) > 1 else None
        if desc is None:
            return inner
        # a described group only means something under "not"
        return ("__group__", inner, desc)

    @v_args(meta=True)
    def comparison(self, meta, items):
        return A.Compare(str(items[1]), items[0], items[2], self._span(meta))

    @v_args(meta=True)
    def in_set(self, meta, items):
        return A.InSet(items[0], tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def in_field(self, meta, items):
        return A.InField(items[0], items[1], self._span(meta))

    @v_args(meta=True)
    def presence(self, meta, items):
        return A.Presence(items[0], str(items[1]) == "present", self._span(meta))

    @v_args(meta=True)
    def atom(self, meta, items):
        c = items[0]
        return A.Atom(c.name, c.args, self._span(meta))

    # ---- vocabulary
    @v_args(meta=True)
    def simple_type(self, meta, items):
        return A.SimpleType(str(items[0]), self._span(meta))

    @v_args(meta=True)
    def enum_type(self, meta, items):
        return A.EnumType(tuple(str(t) for t in items), self._span(meta))

    @v_args(meta=True)
    def ref_type(self, meta, items):
        return A.RefType(tuple(str(t) for t in items), self._span(meta))

    @v_args(meta=True)
    def list_type(self, meta, items):
        return A.ListType(items[0], self._span(meta))

    def opt_required(self, items):
        return ("required", True)

    def opt_required_when(self, items):
        return ("required_when", (str(items[0]), str(items[1])))

    def opt_default(self, items):
        return ("default", str(items[0]))

    @v_args(meta=True)
    def field_decl(self, meta, items):
        name, type_ = str(items[0]), items[1]
        kw = {"required": False, "required_when": None, "default": None, "phrase": None}
        for it in items[2:]:
            if isinstance(it, tuple) and len(it) == 2 and isinstance(it[1], A.Span):
                kw["phrase"] = it[0]
            else:
                kw[it[0]] = it[1]
        return A.FieldDecl(name, type_, span=self._span(meta), **kw)

    @v_args(meta=True)
    def kind_decl(self, meta, items):
        name, singular = str(items[1]), str(items[2])
        rest = items[3:]
        doc = None
        if rest and isinstance(rest[0], tuple):
            doc = rest[0][0]
            rest = rest[1:]
        return A.KindDecl(name, singular, doc, tuple(rest), self._span(meta))

    @v_args(meta=True)
    def body_decl(self, meta, items):
        return A.BodyDecl(str(items[0]), items[1][0], self._span(meta))

    @v_args(meta=True)
    def logo_decl(self, meta, items):
        return A.LogoDecl(str(items[1]), items[2][0], self._span(meta))

    # ---- parameters
    def duration_value(self, items):
        unit = str(items[1])
        if not unit.endswith("s"):
            unit += "s"
        return ("duration", A.Duration(int(items[0]), unit), f"{items[0]} {items[1]}")

    def int_value(self, items):
        return ("int", int(items[0]), str(items[0]))

    def monthday_value(self, items):
        return ("monthday", str(items[0])[2:], str(items[0]))

    def attr_cites(self, items):
        return ("cites", items[0][0])

    def attr_reading(self, items):
        return ("reading", items[0][0])

    @v_args(meta=True)
    def param_decl(self, meta, items):
        name = str(items[0])
        kind, value, text = items[1]
        attrs = dict(items[2:])
        return A.ParamDecl(name, kind, value, text, attrs.get("cites"), attrs.get("reading"), self._span(meta))

    # ---- predicates
    def pred_param(self, items):
        return (str(items[0]), str(items[1]) if len(items) > 1 else None)

    @v_args(meta=True)
    def pred_decl(self, meta, items):
        name = str(items[0])
        params, template, cond = [], None, None
        for it in items[1:]:
            if isinstance(it, tuple) and len(it) == 2 and isinstance(it[1], A.Span):
                template = it[0]
            elif isinstance(it, tuple) and len(it) == 2:
                params.append(it)
            else:
                cond = it
        return A.PredDecl(name, tuple(params), template, cond, self._span(meta))

    # ---- rules
    @v_args(meta=True)
    def _attr(self, key, meta, items):
        v = items[0]
        if isinstance(v, tuple):
            v = v[0]
        elif isinstance(v, Token):
            v = str(v)
        return (key, v, self._span(meta))

    def severity_const(self, items):
        return ("const", str(items[0]))

    def severity_var(self, items):
        return ("var", str(items[0]), tuple(str(t) for t in items[1:]))

    @v_args(meta=True)
    def rule_decl(self, meta, items):
        rid = str(items[0])
        attrs = tuple(items[1:-1])
        return A.RuleDecl(rid, attrs, items[-1], self._span(meta))

    @v_args(meta=True)
    def deadline_decl(self, meta, items):
        return A.DeadlineDecl(str(items[0]), tuple(items[1:-1]), items[-1], self._span(meta))

    @v_args(meta=True)
    def clause_decl(self, meta, items):
        return A.ClauseDecl(items[0][0], items[1], items[2][0], self._span(meta))

    def status_not_computable(self, items):
        return "not_computable"

    def status_data(self, items):
        return "data"


def _make_attr(key):
    @v_args(meta=True)
    def f(self, meta, items):
        v = items[0]
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], A.Span):
            v = v[0]
        elif isinstance(v, Token):
            v = str(v)
        return (key, v, self._span(meta))

    return f


for _k in ("clause", "modality", "severity", "quote", "summary", "note", "record", "message", "anticipates", "due"):
    setattr(_Builder, "attr_" + _k, _make_attr(_k))


# Syntax-tree levels a rule file may nest (the U4SSC rulebook needs 11). Every stage after the parser
# walks the tree recursively: thousands of nested parentheses or `not`s ended in a RecursionError.
MAX_NESTING = 64


def _too_deep(tree):
    """Where the tree first nests deeper than MAX_NESTING levels (a token or a node's meta), or None."""
    stack = [(tree, 1)]
    while stack:  # iterative: the tree may be deeper than Python's recursion limit
        node, depth = stack.pop()
        if isinstance(node, Token):
            if depth > MAX_NESTING:
                return node
            continue
        if depth > MAX_NESTING and not getattr(node.meta, "empty", True):
            return node.meta
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return None


_TOKEN_WORDS = {
    "NAME": "a lower-case name",
    "VAR": "a variable (upper-case)",
    "STRING": "a quoted string",
    "LONG_STRING": "a quoted string",
    "RULE_ID": "a rule id",
    "INT": "a number",
    "DATE": "a date",
    "MONTHDAY": "a day of the year (--MM-DD)",
    "COMP": "a comparison (=, !=, <, <=, >, >=)",
    "UNIT": "days, months or years",
    "LPAR": '"("',
    "RPAR": '")"',
    "COMMA": '","',
    "LBRACE": '"{"',
    "RBRACE": '"}"',
    "COLON": '":"',
    "DOT": '"."',
    "EQUAL": '"="',
    "PRESENCE": "absent or present",
}


def _describe_expected(expected) -> str:
    words = []
    for e in sorted(expected):
        if e.startswith("__ANON") or e.startswith("$"):
            continue
        w = _TOKEN_WORDS.get(e) or _literal(e)
        if w not in words:
            words.append(w)
    if not words:
        return ""
    if len(words) > 10:
        words = words[:10] + ["..."]
    return "expected " + ", ".join(words)


def _literal(name: str) -> str:
    """A keyword or punctuation terminal as written ("when", "+"), not its name (WHEN, PLUS)."""
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return '"' + pattern.value + '"' if isinstance(pattern, PatternStr) else name.lower()


def _accepted(text: str, pos: int, fallback) -> set:
    """The terminals the parser accepts at `pos`, found by parsing the text before it.

    Lark's own sets come from an LALR state shared by several contexts: after
    `clause "36"` it offered ",", comparisons and "{" where only a rule
    attribute or `when` can follow.
    """
    try:
        ip = parser().parse_interactive(text[:pos])
        ip.exhaust_lexer()
        return ip.accepts()
    except UnexpectedInput:  # pragma: no cover - the text before an error parses
        return fallback


def parse_text(text: str, path: str) -> tuple[A.RuleFile | None, list[Diagnostic]]:
    """Parse one rule file. Returns the tree or the diagnostics (one per syntax error)."""
    lines = text.splitlines()
    diags: list[Diagnostic] = []

    def diag(line, col, msg, code="syntax"):
        src = lines[line - 1] if 0 < line <= len(lines) else None
        diags.append(Diagnostic(code, msg, Location(path, line, col), src))

    def on_error(e: UnexpectedInput):
        if isinstance(e, UnexpectedToken):
            tok = e.token
            expected = e.interactive_parser.accepts() if e.interactive_parser is not None else e.expected
            if tok.type == "$END":
                diag(len(lines) or 1, (len(lines[-1]) + 1) if lines else 1, "unexpected end of file; " + _describe_expected(expected))
                return False
            diag(tok.line, tok.column, f"unexpected {tok.type.lower() if tok.type.isupper() and tok.type not in ('NAME','VAR','STRING') else 'token'} {str(tok)!r}; " + _describe_expected(expected))
            return True
        diag(e.line, e.column, "unexpected character " + repr(text[e.pos_in_stream] if e.pos_in_stream is not None else "?"))
        return True

    try:
        tree = parser().parse(text)
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream] if e.pos_in_stream is not None and e.pos_in_stream < len(text) else "?"
        allowed = _accepted(text, e.pos_in_stream, e.allowed) if e.pos_in_stream is not None else e.allowed
        diag(e.line, e.column, f"unexpected character {ch!r}" + ("; " + _describe_expected(allowed) if allowed else ""))
        return None, diags
    except UnexpectedEOF as e:
        diag(len(lines) or 1, (len(lines[-1]) + 1) if lines else 1, "unexpected end of file; " + _describe_expected(_accepted(text, len(text), e.expected)))
        return None, diags
    except UnexpectedToken as e:
        on_error(e)
        return None, diags
    except UnexpectedInput as e:  # pragma: no cover - other lark errors
        diag(getattr(e, "line", 1), getattr(e, "column", 1), str(e).splitlines()[0])
        return None, diags
    deep = _too_deep(tree)
    if deep is not None:
        diag(deep.line, deep.column, f"conditions nested deeper than {MAX_NESTING} levels", code="too-deep")
        return None, diags
    items = _Builder(path).transform(tree).children
    return A.RuleFile(path, text, tuple(items)), diags
