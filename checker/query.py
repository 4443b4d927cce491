"""Ad hoc questions: a condition in the rule language, answered over a registry.

    torcheck query facts/u4ssc 'holds(P, ip_lead, as_of)'

The condition is the body of a rule (grammar rule `cond`): it may use the
registry's kinds and fields, the rulebook's helper predicates and parameters,
the calendar and `as_of`. It is parsed with the rulebook's own grammar
(started at `cond`), lowered by the rulebook's compiler exactly like a rule
body, and its alternatives become rules of a copy of the program before the
engine is built. The answer is the table of the variables the condition
names (not `_` or names beginning with `_`), its rows sorted.

Problems are diagnostics like any other input's, located in the condition
itself: `<condition>:1:COL: error[CODE]: message`.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .compile import Compiler, Rulebook, _unique
from .engines import sort_rows
from .evaluate import evaluate
from .model import Diagnostic, InputError, Location
from .parse import MAX_NESTING, _Builder, _describe_expected, _too_deep, grammar_text

CONDITION_PATH = "<condition>"
HEAD = "query"


@dataclass(frozen=True)
class Question:
    text: str
    columns: tuple[str, ...]
    heads: tuple[str, ...]  # relations whose rows answer it
    rulebook: Rulebook  # the rulebook, its program holding the question's rules


@dataclass(frozen=True)
class Answer:
    as_of: str
    condition: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]  # sorted, distinct

    def to_json(self) -> dict:
        return {
            "as_of": self.as_of,
            "condition": self.condition,
            "variables": list(self.columns),
            "rows": [dict(zip(self.columns, r)) for r in self.rows],
        }


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", start="cond", propagate_positions=True, maybe_placeholders=False)


def _accepted(text: str, pos, fallback) -> set:
    """What may follow the text before `pos`, found by parsing it (as checker.parse does for rule files)."""
    if pos is None:
        return fallback
    try:
        ip = _parser().parse_interactive(text[:pos])
        ip.exhaust_lexer()
        return ip.accepts()
    except UnexpectedInput:
        return fallback


def parse_condition(text: str, path: str = CONDITION_PATH):
    """(condition syntax tree, []) or (None, diagnostics)."""
    lines = text.splitlines() or [""]

    def diag(line, col, msg):
        src = lines[line - 1] if 0 < line <= len(lines) else None
        return None, [Diagnostic("syntax", msg, Location(path, line, col), src)]

    if not text.strip():
        return diag(1, 1, "the condition is empty; e.g. 'holds(P, ip_lead, as_of)'")
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream] if e.pos_in_stream is not None and e.pos_in_stream < len(text) else "?"
        allowed = _accepted(text, e.pos_in_stream, e.allowed)
        return diag(e.line, e.column, f"unexpected character {ch!r}" + ("; " + _describe_expected(allowed) if allowed else ""))
    except UnexpectedEOF as e:
        return diag(len(lines), len(lines[-1]) + 1, "unexpected end of the condition; "
                    + _describe_expected(_accepted(text, len(text), e.expected)))
    except UnexpectedToken as e:
        tok = e.token
        expected = e.interactive_parser.accepts() if e.interactive_parser is not None else e.expected
        if tok.type == "$END":
            return diag(len(lines), len(lines[-1]) + 1, "unexpected end of the condition; " + _describe_expected(expected))
        return diag(tok.line, tok.column, f"unexpected {str(tok)!r}; " + _describe_expected(expected))
    except UnexpectedInput as e:  # pragma: no cover - other lark errors
        return diag(getattr(e, "line", 1), getattr(e, "column", 1), str(e).splitlines()[0])
    deep = _too_deep(tree)
    if deep is not None:  # the builder and the compiler recurse: thousands of parentheses were a RecursionError
        return diag(deep.line, deep.column, f"the condition nests deeper than {MAX_NESTING} levels")
    cond = _Builder(path).transform(tree)
    if isinstance(cond, tuple):  # a described group, ("__group__", cond, text)
        return diag(1, 1, "a described group (\"...\" after a parenthesis) only means something after `not`")
    return cond, []


def prepare(rb: Rulebook, text: str) -> Question:
    """Compile the question against the rulebook; raises InputError with every problem of the condition."""
    cond, diags = parse_condition(text)
    if cond is None:
        raise InputError(diags)
    comp = Compiler.for_rulebook(rb)
    comp.files[CONDITION_PATH] = text
    columns, alts = comp.compile_question(cond, HEAD)
    if comp.diags:
        raise InputError(_unique(comp.diags))  # a literal lowered in several alternatives: reported once
    return Question(text, columns, tuple(a.head for a in alts), dataclasses.replace(rb, program=comp.program))


def ask(question: Question, registry, as_of: str, engine: str = "pydatalog") -> Answer:
    ev = evaluate(question.rulebook, registry, as_of, engine)
    rows = []
    for head in question.heads:
        rows.extend(ev.engine.query(head))
    return Answer(as_of, question.text, question.columns, tuple(sort_rows(rows)))


# ====================================================================== rendering


def render_json(a: Answer) -> str:
    return json.dumps(a.to_json(), ensure_ascii=False, indent=2) + "\n"


def render_text(a: Answer) -> str:
    """A table: the variables as its header, one row per answer; `yes` or `no` when it names none."""
    if not a.columns:
        return ("yes" if a.rows else "no") + "\n"
    cells = [[str(v) for v in r] for r in a.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(a.columns)]

    def line(vals):
        return "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()

    out = [line(a.columns), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    n = len(a.rows)
    out += ["", f"{n} row" + ("" if n == 1 else "s")]
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "json": render_json}
