"""The canonical layout of a rule file, with every token and comment kept.

The formatter works on tokens, never on text patterns: the file is parsed
with the language's own grammar (grammar/rules.lark) keeping every token, and
its comments are collected by the lexer as they are skipped. The output is
the same tokens, in the same order, with the layout recomputed:

- declarations start at column 0, one blank line between two declarations
  (runs of one-line `body` and `logo` declarations may stay together), no
  more than one blank line anywhere, one newline at the end of the file;
- in a `rule` or `deadline` each attribute starts its own line, indented 2;
  `when` stands alone, indented 2; the condition is indented 4, a top-level
  `or` stands alone at 2, and the wording of a negated group that begins a
  line is indented 6;
- in a `predicate` the condition is indented 2 (its wordings 4);
- in a `kind` each field has its own line, indented 2, the field names padded
  to one column; `body` and `logo` runs are aligned the same way;
- a line that continues inside brackets is aligned one column right of the
  bracket it continues;
- single spaces between tokens, none inside brackets, before `,` or around
  `.`; a comment after code is preceded by two spaces; a comment on a line of
  its own takes the indentation of the code line after it.

Line breaks that the author chose inside a condition are kept. Strings
(quotes of the Russian text, summaries, notes) and comments are copied
exactly, except the trailing white space of a comment.

`format_text` checks its own output: the token stream (comments included)
must be the one it was given and the syntax tree must be equal, or it raises
`FormatError` instead of returning a changed meaning.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from . import ast as A
from .model import Diagnostic, InputError
from .parse import grammar_text, parse_text


class FormatError(Exception):
    """The formatter would have changed the tokens of a file (a bug: nothing is written)."""


@functools.lru_cache(maxsize=1)
def _lossless_parser():
    comments: list = []
    p = Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False,
             keep_all_tokens=True, lexer_callbacks={"COMMENT": comments.append})
    return p, comments


def lossless_parse(text: str):
    """(tree with every token, comment tokens), or raises lark's UnexpectedInput."""
    p, comments = _lossless_parser()
    comments.clear()
    tree = p.parse(text)
    out = list(comments)
    comments.clear()
    return tree, out


def tokens(text: str) -> list[tuple[str, str]]:
    """The file's tokens in order, comments included (their trailing white space left out)."""
    tree, comments = lossless_parse(text)
    toks = list(tree.scan_values(lambda v: isinstance(v, Token))) + comments
    toks.sort(key=lambda t: t.start_pos)
    return [(t.type, str(t).rstrip() if t.type == "COMMENT" else str(t)) for t in toks]


# ====================================================================== annotation


@dataclass
class _Tok:
    tok: Token
    item: int  # index of the top-level declaration, -1 for a comment between declarations
    kind: str  # the declaration's grammar rule: rule_decl, pred_decl, kind_decl, ...
    after_when: bool = False
    break_before: bool = False
    break_after: bool = False
    attr_start: bool = False  # begins an attribute or a field
    top_or: bool = False
    field: int = -1  # kind_decl: index of the field the token belongs to
    field_name: bool = False
    space_before_paren: bool = False  # kind organizations (organization)
    block_brace: bool = False  # the braces of a kind's body

    @property
    def type(self):
        return self.tok.type

    @property
    def text(self):
        return str(self.tok).rstrip() if self.tok.type == "COMMENT" else str(self.tok)


_ATTRS = {"rule_attr", "deadline_attr", "param_attr"}
_ATTR_ALIASES = {"attr_clause", "attr_modality", "attr_severity", "attr_quote", "attr_summary", "attr_note",
                 "attr_record", "attr_message", "attr_anticipates", "attr_due", "attr_cites", "attr_reading"}


def _leaves(t):
    if isinstance(t, Token):
        yield t
    else:
        for c in t.children:
            yield from _leaves(c)


def _annotate(tree: Tree) -> list[_Tok]:
    out: list[_Tok] = []
    for i, item in enumerate(tree.children):
        kind = item.data if isinstance(item, Tree) else "token"
        kind = str(kind)
        seen_when = False
        field_no = -1
        first = True
        for child in item.children if isinstance(item, Tree) else [item]:
            is_attr = isinstance(child, Tree) and (str(child.data) in _ATTRS or str(child.data) in _ATTR_ALIASES)
            is_field = isinstance(child, Tree) and str(child.data) == "field_decl"
            is_cond = seen_when and isinstance(child, (Tree, Token))
            if is_field:
                field_no += 1
            top_ors = set()
            if is_cond and isinstance(child, Tree) and str(child.data) == "disj":
                top_ors = {id(c) for c in child.children if isinstance(c, Token) and c.type == "OR"}
            leaves = list(_leaves(child))
            for j, tok in enumerate(leaves):
                a = _Tok(tok, i, kind, after_when=seen_when and tok.type != "WHEN")
                if first:
                    first = False
                if is_attr and j == 0:
                    a.attr_start = a.break_before = True
                if is_field:
                    a.field = field_no
                    if j == 0:
                        a.attr_start = a.break_before = True
                        a.field_name = True
                if kind in ("rule_decl", "deadline_decl"):
                    if tok.type == "WHEN" and child is tok:
                        a.break_before = a.break_after = True
                    if id(tok) in top_ors:
                        a.top_or = a.break_before = a.break_after = True
                if kind == "kind_decl" and child is tok:
                    if tok.type == "LPAR":
                        a.space_before_paren = True
                    if tok.type in ("LBRACE", "RBRACE"):
                        a.block_brace = True
                    if tok.type == "RBRACE":
                        a.break_before = True
                out.append(a)
            if isinstance(child, Token) and child.type == "WHEN":
                seen_when = True
    return out


# ====================================================================== layout


@dataclass
class _Line:
    toks: list
    blank_before: int = 0
    indent: int = 0
    text: str = ""
    pad: dict = field(default_factory=dict)  # token index -> spaces after it (alignment)


_NO_SPACE_BEFORE = {"COMMA", "RPAR", "DOT", "COLON"}
_NO_SPACE_AFTER = {"LPAR", "DOT"}
_CALLABLE = {"NAME", "VAR", "ENUM", "REF", "LIST"}


def _space(prev: _Tok, cur: _Tok) -> str:
    if cur.type == "COMMENT":
        return "  "
    if cur.type in _NO_SPACE_BEFORE or prev.type in _NO_SPACE_AFTER:
        return ""
    if cur.type == "RBRACE" and not cur.block_brace:
        return ""
    if prev.type == "LBRACE" and not prev.block_brace:
        return ""
    if cur.type == "LPAR" and prev.type in _CALLABLE and not cur.space_before_paren:
        return ""
    return " "


def _split_lines(toks: list[_Tok]) -> list[_Line]:
    lines: list[_Line] = []
    prev = None
    for t in toks:
        new = prev is None
        blank = 0
        if prev is not None:
            same_src_line = t.tok.line == (prev.tok.end_line or prev.tok.line)
            if t.type == "COMMENT" and same_src_line:
                new = False
            elif prev.type == "COMMENT" or not same_src_line or t.break_before or prev.break_after:
                new = True
            if new and not same_src_line:
                blank = min(1, t.tok.line - (prev.tok.end_line or prev.tok.line) - 1)
        if new:
            lines.append(_Line([t], blank))
        else:
            lines[-1].toks.append(t)
        prev = t
    return lines


def _code(line: _Line):
    return next((t for t in line.toks if t.type != "COMMENT"), None)


def _item_starts(lines):
    starts = set()
    seen = set()
    for k, ln in enumerate(lines):
        t = _code(ln)
        if t is not None and ln.toks[0] is t and t.item not in seen:
            starts.add(k)
        for x in ln.toks:
            if x.type != "COMMENT":
                seen.add(x.item)
    return starts


def _blank_lines(lines):
    """One blank line between declarations; runs of one-line body/logo declarations may stay together."""
    starts = _item_starts(lines)
    for k in sorted(starts):
        if k == 0:
            continue
        prev = lines[k - 1]
        if prev.toks[0].type == "COMMENT" and all(x.type == "COMMENT" for x in prev.toks):
            continue  # a comment introducing the declaration stays attached
        t, p = _code(lines[k]), _code(prev)
        if t.kind in ("body_decl", "logo_decl") and p is not None and p.kind == t.kind and prev.toks[0] is p:
            continue
        lines[k].blank_before = 1
    if lines:
        lines[0].blank_before = 0


def _indent_code(lines):
    """Indentation of every line that begins with code; bracket alignment needs the rendered columns."""
    starts = _item_starts(lines)
    stack: list[int] = []  # output columns of open brackets
    for k, ln in enumerate(lines):
        first = ln.toks[0]
        if first.type == "COMMENT":
            ln.indent = None  # decided from the next code line
            ind = 0
        else:
            ind = _indent_for(first, k in starts, stack)
            ln.indent = ind
        # render the line, tracking brackets
        col = ind
        parts = []
        prev = None
        for j, t in enumerate(ln.toks):
            if prev is not None:
                sp = " " * ln.pad[j - 1] if (j - 1) in ln.pad else _space(prev, t)
                parts.append(sp)
                col += len(sp)
            text = t.text
            if t.type in ("LPAR", "LBRACE") and not t.block_brace:
                stack.append(col)
            elif t.type in ("RPAR", "RBRACE") and not t.block_brace and stack:
                stack.pop()
            parts.append(text)
            if "\n" in text:
                col = len(text.rsplit("\n", 1)[1])
            else:
                col += len(text)
            prev = t
        ln.text = "".join(parts)


def _indent_for(t: _Tok, starts_item: bool, stack) -> int:
    if starts_item or t.item < 0:
        return 0
    if stack:
        return stack[-1] if t.type in ("RPAR", "RBRACE") else stack[-1] + 1
    k = t.kind
    if k in ("rule_decl", "deadline_decl"):
        if not t.after_when:
            return 2 if (t.attr_start or t.type == "WHEN") else 4
        if t.top_or:
            return 2
        if t.type in ("STRING", "LONG_STRING"):
            return 6
        return 4
    if k == "pred_decl":
        if not t.after_when:
            return 2 if t.type == "WHEN" else 4
        if t.type in ("STRING", "LONG_STRING"):
            return 4
        return 2
    if k == "kind_decl":
        if t.block_brace and t.type == "RBRACE":
            return 0
        return 2 if t.attr_start else 4
    if k == "param_decl":
        return 2 if t.attr_start else 4
    return 2


def _indent_comments(lines):
    for k in range(len(lines) - 1, -1, -1):
        ln = lines[k]
        if ln.indent is None:
            # inside a declaration: the indentation of the code that follows; between declarations: 0
            prev_code = next((_code(lines[j]) for j in range(k - 1, -1, -1) if _code(lines[j]) is not None), None)
            follow = next((lines[j] for j in range(k + 1, len(lines)) if lines[j].toks[0].type != "COMMENT"), None)
            fcode = _code(follow) if follow is not None else None
            inside = prev_code is not None and fcode is not None and prev_code.item == fcode.item \
                and follow.toks[0] is fcode
            ln.indent = follow.indent if inside else 0


def _align(lines):
    """Pad field names of a kind (and names of body/logo runs) to one column."""
    groups: dict[tuple, list] = {}
    for k, ln in enumerate(lines):
        code = [t for t in ln.toks if t.type != "COMMENT"]
        if not code:
            continue
        t = code[0]
        if t.field_name and ln.toks[0] is t:
            nxt = lines[k + 1] if k + 1 < len(lines) else None
            nfirst = _code(nxt) if nxt is not None else None
            whole = all(x.field == t.field and x.item == t.item for x in code) and (
                nfirst is None or nfirst.field != t.field or nfirst.item != t.item)
            if whole and len(code) > 1:
                groups.setdefault(("kind", t.item), []).append((k, 0, len(t.text)))
    run: list = []
    run_kind = None

    def close():
        if len(run) > 1:
            groups[("run", run[0][0])] = list(run)

    for k, ln in enumerate(lines):
        code = [t for t in ln.toks if t.type != "COMMENT"]
        t = code[0] if code else None
        ok = (t is not None and ln.toks[0] is t and t.kind in ("body_decl", "logo_decl") and len(code) == 3
              and len({x.item for x in code}) == 1
              and (k + 1 >= len(lines) or _code(lines[k + 1]) is None or _code(lines[k + 1]).item != t.item))
        if ok and run and run_kind == t.kind and ln.blank_before == 0:
            run.append((k, 1, len(code[1].text)))
        else:
            close()
            run = [(k, 1, len(code[1].text))] if ok else []
            run_kind = t.kind if ok else None
    close()
    for members in groups.values():
        width = max(w for _, _, w in members)
        for k, idx, w in members:
            lines[k].pad[idx] = width - w + 1


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical layout of one rule file; raises InputError if it does not parse."""
    tree, diags = parse_text(text, path)
    if tree is None:
        raise InputError(diags)
    try:
        ltree, comments = lossless_parse(text)
    except UnexpectedInput as e:  # pragma: no cover - parse_text accepted it
        raise InputError([Diagnostic("syntax", str(e).splitlines()[0])])
    toks = _annotate(ltree)
    for c in comments:
        toks.append(_Tok(c, -1, "comment"))
    toks.sort(key=lambda t: t.tok.start_pos)
    if not toks:
        return ""
    lines = _split_lines(toks)
    _blank_lines(lines)
    _align(lines)
    _indent_code(lines)
    _indent_comments(lines)
    out = []
    for ln in lines:
        if ln.blank_before:
            out.append("")
        out.append(" " * ln.indent + ln.text)
    result = "\n".join(out) + "\n"
    _verify(text, result, tree, path)
    return result


def _verify(before: str, after: str, tree, path: str):
    if tokens(before) != tokens(after):
        raise FormatError(f"{path}: formatting would change the file's tokens; left as it is")
    again, diags = parse_text(after, path)
    if again is None or _unplaced(again.items) != _unplaced(tree.items):
        raise FormatError(f"{path}: formatting would change the file's meaning; left as it is")


def _unplaced(x):
    """A syntax tree with every source span left out (attributes keep theirs in a tuple)."""
    if isinstance(x, A.Span):
        return None
    if isinstance(x, tuple):
        return tuple(_unplaced(y) for y in x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__,) + tuple(_unplaced(getattr(x, f.name)) for f in dataclasses.fields(x)
                                           if f.name != "span")
    return x
