"""`torcheck upcoming REGISTRY --within 90d`: what falls due, as text, JSON or an iCalendar file."""
from __future__ import annotations

import click

from ..cli import (as_of_option, choose_engine, default_rules_dir, engine_option, fail, load_inputs,
                   parse_registry_path, refuse_output_onto_inputs, rules_option, write_output)
from ..model import InputError


def _check_within(ctx, param, value):
    from ..upcoming import horizon

    try:
        horizon("2000-01-01", value)
    except ValueError as e:
        raise click.BadParameter(str(e))
    return value


@click.command("upcoming")
@click.argument("registry", callback=parse_registry_path)
@click.option("--within", default="90d", show_default=True, metavar="SPAN", callback=_check_within,
              help="How far ahead to look: Nd days, Nw weeks or Nm months after the as-of date (included).")
@rules_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(("text", "json", "ics")), default="text", show_default=True)
@click.option("-o", "--output", "out", metavar="FILE", help="Write to FILE instead of standard output.")
@engine_option
def command(registry, within, rules, as_of, fmt, out, engine):
    """What falls due from the as-of date through --within later, by the rulebook's deadlines.

    Overdue items are violations: `torcheck check` reports them; they are not listed here.
    """
    import sys

    from ..upcoming import RENDERERS, horizon, upcoming

    refuse_output_onto_inputs(out, folders=(registry, rules or default_rules_dir()))
    through = horizon(as_of, within)
    rb, reg = load_inputs(registry, rules)
    try:
        cal = upcoming(rb, reg, as_of, through, choose_engine(engine, reg))
    except InputError as e:
        fail(e.diagnostics)
    text = RENDERERS[fmt](cal)
    if out is None and fmt == "ics":
        sys.stdout.buffer.write(text.encode("utf-8"))  # CRLF as written, whatever the platform
        sys.stdout.flush()
    else:
        write_output(text, out)
