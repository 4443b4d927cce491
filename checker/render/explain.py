"""Reading a violation's `because` nodes, for every renderer.

The nodes are the JSON-ready dicts of cli.md:

    {"fact": str, "source": "path:line"}     a registry fact
    {"holds": str, "because": [node, ...]}   a helper conclusion and its grounds
    {"absent": str}                          a condition looked for and not found
    {"param": name, "value": value}          an interpretation parameter used

They arrive in their canonical order; nothing here reorders them.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence


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
        return f"parameter {node['param']} = {node.get('value')}"
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
