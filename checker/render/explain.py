"""Reading a violation's `because` nodes, for every renderer.

The nodes are the JSON-ready dicts of cli.md:

    {"fact": str, "source": "path:line"}     a registry fact
    {"holds": str, "because": [node, ...]}   a helper conclusion and its grounds
    {"absent": str}                          a condition looked for and not found
    {"param": name, "value": value}          an interpretation parameter used

They arrive in their canonical order; nothing here reorders them.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence

_MONTH_DAY = re.compile(r"--(\d\d)-(\d\d)")


def param_value(value) -> str:
    """A parameter's value as written; a month-day (ISO 8601 "--MM-DD") also in words."""
    s, words = str(value), param_words(value)
    return s if words == s else f"{s} ({words})"


def param_words(value) -> str:
    """A month-day "--03-31" as "31 March every year"; any other value as written."""
    s = str(value)
    m = _MONTH_DAY.fullmatch(s)
    if m:
        try:
            day = dt.date(2000, int(m.group(1)), int(m.group(2)))  # a leap year: 29 February is a day
        except ValueError:
            return s
        return f"{day.day} {_MONTHS[day.month - 1]} every year"  # not strftime: locale-free
    return s


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def kind(node: dict) -> str:
    """"fact", "holds", "absent", "param", or "node" for a shape this module does not know."""
    for k in ("holds", "fact", "absent", "param"):
        if k in node:
            return k
    return "node"


def phrase(node: dict) -> str:
    """The node as words, without its source: "no X found" for an absent condition."""
    k = kind(node)
    if k == "absent":
        return f"no {node['absent']} found"
    if k == "param":
        return f"parameter {node['param']} = {param_value(node.get('value'))}"
    if k in ("fact", "holds"):
        return str(node[k])
    return json.dumps(node, ensure_ascii=False, sort_keys=True)


def source(node: dict) -> str | None:
    """A fact's "path:line", if it has one."""
    src = node.get("source")
    return str(src) if src else None


def split_source(src: str) -> tuple[str, int | None]:
    """"path:line" -> (path, line); a source without a line gives (src, None)."""
    path, sep, line = src.rpartition(":")
    if sep and path and line.isdigit():
        return path, int(line)
    return src, None


def grounds(node: dict) -> Sequence[dict]:
    """The nodes a helper conclusion rests on (empty for the other kinds)."""
    return node.get("because", ()) if kind(node) == "holds" else ()


def with_source(node: dict) -> str:
    """The phrase, followed by the fact's source in parentheses when it has one."""
    src = source(node)
    return f"{phrase(node)} ({src})" if src else phrase(node)


def reason(because: Sequence[dict], *, sources: bool = True) -> str:
    """A one-line reason from the top-level nodes: their phrases joined by "; "."""
    show = with_source if sources else phrase
    return "; ".join(show(n) for n in because)


def crisp(because: Sequence[dict]) -> str:
    """The short reason a report line gives: what was looked for and not found, when
    anything was (the facts of the record are in its message); otherwise the top-level
    facts and conclusions. The parameters used follow in parentheses. No sources: the
    whole tree, with them, is `torcheck explain`'s."""
    top = [n for n in because if kind(n) != "param"]
    shown = [n for n in top if kind(n) == "absent"] or top
    text = "; ".join(phrase(n) for n in shown)
    params = [f"{n['param']} = {param_words(n.get('value'))}" for n in because if kind(n) == "param"]
    if params:
        text += (" " if text else "") + "(" + ", ".join(params) + ")"
    return text


def tree(because: Sequence[dict], paint=None) -> list[str]:
    """The nodes as an indented tree, one line each, a fact with its source:

        ├── p-lee holds the role ip_lead on 2026-03-04
        │   ├── appointment a-ip appoints p-lee (facts/appointments.yaml:6)
        │   └── no end of appointment a-ip found
        └── parameter immediately_days = 30 days

    `paint(text, what)` may style a piece: what is "source", "absent" or "holds"."""
    paint = paint or (lambda text, what: text)
    lines: list[str] = []

    def go(nodes: Sequence[dict], prefix: str) -> None:
        for i, node in enumerate(nodes):
            last = i == len(nodes) - 1
            k = kind(node)
            text = " ".join(phrase(node).split())
            if k in ("absent", "holds"):
                text = paint(text, k)
            src = source(node)
            if src:
                text += " " + paint(f"({src})", "source")
            lines.append(prefix + ("└── " if last else "├── ") + text)
            go(grounds(node), prefix + ("    " if last else "│   "))

    go(because, "")
    return lines


def walk(because: Sequence[dict], depth: int = 0) -> Iterator[tuple[int, dict]]:
    """Every node of the tree, depth first, in order, with its depth (0 for the top)."""
    for node in because:
        yield depth, node
        yield from walk(grounds(node), depth + 1)


def fact_sources(because: Sequence[dict]) -> list[tuple[str, str]]:
    """(source, fact) of every fact in the tree that has a source, in tree order, once each."""
    seen: dict[tuple[str, str], None] = {}
    for _, node in walk(because):
        src = source(node)
        if src and kind(node) == "fact":
            seen.setdefault((src, phrase(node)), None)
    return list(seen)
