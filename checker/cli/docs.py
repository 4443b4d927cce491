"""`torcheck docs --out DIR`: the rulebook as a static site (checker/docs.py).

Exit status: 0 the site is written; 2 the rulebook or a case file cannot be
used (every problem listed, nothing written).
"""
from __future__ import annotations

import sys

import click

from .. import pipeline
from ..files import display_path
from ..model import Diagnostic, InputError
from .options import rules_option
from .output import EXIT_OK, fail


@click.command("docs")
@rules_option
@click.option("--out", "out", metavar="DIR", required=True, help="Folder to write the site to (created if need be).")
def command(rules, out):
    """Write the rulebook as a static site: the ToR paragraph by paragraph beside its rules."""
    from ..cases import read_cases, run_cases
    from ..compile import compile_rulebook
    from ..docs import build_site, write_site

    path = rules or pipeline.default_rules_dir()
    shown = display_path(path)
    try:
        rb = compile_rulebook(path, shown)
    except InputError as e:
        fail(e.diagnostics)
    cases, diags = read_cases(path, shown, {r.info.id for r in rb.rules})
    if diags:
        fail(diags)
    outcomes = run_cases(rb, cases)
    bad = [d for o in outcomes for d in o.diagnostics]
    if bad:
        fail(bad)
    files = build_site(rb, cases, outcomes)
    try:
        write_site(files, out)
    except OSError as e:
        fail([Diagnostic("output", f"cannot write the site to {display_path(out)}: {e.strerror}")])
    click.echo(f"wrote {len(files)} pages to {display_path(out)}; open {display_path(out)}/index.html", err=True)
    sys.exit(EXIT_OK)
