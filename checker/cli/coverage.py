"""`torcheck coverage`: every paragraph of the ToR with its status."""
from __future__ import annotations

import click

from .. import pipeline
from .options import or_fail, rules_option
from .output import write_output


@click.command("coverage")
@rules_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def command(rules, fmt):
    """Every paragraph of the ToR with its status: encoded, data or not computable."""
    from ..coverage import coverage as cov, render_json, render_text

    rb = or_fail(pipeline.rulebook, rules)
    entries = cov(rb)
    write_output(render_json(entries) if fmt == "json" else render_text(rb, entries), None)
