"""`torcheck lint RULES_DIR`: rules without tests or quotes, unused parameters and helpers, duplicates.

Exit status: 0 no finding, 1 at least one (each printed in the house format),
2 the rulebook cannot be read (a syntax error, an invalid case file).
"""
from __future__ import annotations

import sys

import click

from ..files import display_path
from .output import EXIT_OK, EXIT_VIOLATIONS, fail


@click.command("lint")
@click.argument("rules_dir", metavar="RULES_DIR")
def command(rules_dir):
    """Lint the rulebook in RULES_DIR (see checker/lint.py for the findings)."""
    from ..lint import lint

    result = lint(rules_dir, display_path(rules_dir))
    if result.errors:
        fail(result.errors)
    for d in result.findings:
        click.echo(d.render())
    n = len(result.findings)
    c = result.counts
    if n:
        click.echo(f"torcheck lint: {n} finding{'s' if n != 1 else ''}")
        sys.exit(EXIT_VIOLATIONS)
    click.echo(f"{display_path(rules_dir)}: no finding ({c['rules']} rules, {c['helpers']} helpers, "
               f"{c['parameters']} parameters, {c['cases']} cases)")
    sys.exit(EXIT_OK)
