"""The Jinja2 environment of the HTML report and the documentation site.

Templates and their static files (CSS, JS) live in checker/render/templates/,
shipped as package data, so the secretariat can restyle the pages without
touching Python. Autoescaping is on: every value a template prints is escaped
unless it is `Markup` that Python built from escaped parts (each such place
says why). Undefined names are errors (StrictUndefined), not empty strings.

Escaping is the standard library's `html.escape` (the five characters
& < > " ', quotes as `&quot;` and `&#x27;`), applied through `finalize`, so
the pages keep the bytes they had when they were built from f-strings;
MarkupSafe's own escape would spell the quotes `&#34;` and `&#39;`. Templates
therefore print values with `{{ ... }}` only, never with `~` or `|join`, which
would escape with MarkupSafe instead.
"""
from __future__ import annotations

import html
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


def _finalize(value):
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


def escape(value) -> Markup:
    """`value` escaped as a template would print it, for markup built in Python."""
    return _finalize(value)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("checker.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["static"] = static
    return env


@cache
def _static_text(name: str) -> str:
    source, _, _ = environment().loader.get_source(environment(), name)
    return source


def static(name: str) -> Markup:
    """A static file of the templates folder (a style sheet, a script), as it is.

    Markup: these are the package's own files, written to be inlined into the
    page (which must work from file:// with no network), not data to escape."""
    return Markup(_static_text(name))


def render(name: str, **values) -> str:
    return environment().get_template(name).render(**values)
