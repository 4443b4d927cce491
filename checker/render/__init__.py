"""Renderers: a Report as text, JSON, SARIF, JUnit XML, Markdown or HTML.

Each format is one module with a `render(report, ...) -> str`; they read only
the types of checker.model. Output is deterministic: the same report gives
the same string, byte for byte, with the violations in the report's order.
"""
from __future__ import annotations

from ..model import Report
from . import html, json, junit, markdown, sarif, text

FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")


def render(
    report: Report,
    fmt: str,
    *,
    color: bool = False,
    docs_base: str | None = None,
) -> str:
    """The report in format `fmt` (one of FORMATS).

    `color` adds ANSI colours to the text format; `docs_base` makes the HTML
    format link each rule id to `<docs_base>/rules/<rule-id>.html`. Other
    formats ignore both.
    """
    if fmt == "text":
        return text.render(report, color=color)
    if fmt == "html":
        return html.render(report, docs_base=docs_base)
    if fmt == "json":
        return json.render(report)
    if fmt == "sarif":
        return sarif.render(report)
    if fmt == "junit":
        return junit.render(report)
    if fmt == "markdown":
        return markdown.render(report)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
