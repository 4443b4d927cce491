"""`torcheck upcoming REGISTRY --within 90d`: what falls due, as text, JSON or an iCalendar file."""
from __future__ import annotations

import click

from .. import pipeline
from ..model import InputError
from .options import as_of_option, engine_option, or_fail, registry_argument, rules_option
from .output import fail, refuse_output_onto_inputs, write_output


def _check_within(ctx, param, value):
    from ..upcoming import horizon

    try:
        horizon("2000-01-01", value)
    except ValueError as e:
        raise click.BadParameter(str(e))
    return value


@click.command("upcoming")
@registry_argument
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

    refuse_output_onto_inputs(out, folders=(registry, rules or pipeline.default_rules_dir()))
    through = horizon(as_of, within)
    rb, reg = or_fail(pipeline.load_inputs, registry, rules)
    try:
        cal = upcoming(rb, reg, as_of, through, pipeline.choose_engine(engine, reg))
    except InputError as e:
        fail(e.diagnostics)
    text = RENDERERS[fmt](cal)
    if out is None and fmt == "ics":
        sys.stdout.buffer.write(text.encode("utf-8"))  # CRLF as written, whatever the platform
        sys.stdout.flush()
    else:
        write_output(text, out)
