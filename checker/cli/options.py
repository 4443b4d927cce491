"""The options several commands share, written once (cli.md fixes their names and forms)."""
from __future__ import annotations

import datetime as dt
import re

import click

from ..model import InputError
from .output import FAIL_ON, fail


def today() -> str:
    return dt.date.today().isoformat()


def parse_as_of(ctx, param, value):
    if value is None:
        return today()
    # cli.md: YYYY-MM-DD only (Python's fromisoformat alone also takes 20261128 and 2026-W48-6)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a real date (YYYY-MM-DD)")


def parse_registry_path(ctx, param, value):
    """A registry argument: an empty path is an input error, not the current folder."""
    if not value:
        raise click.BadParameter("the registry path is empty")
    return value


def or_fail(call, *args, **kwargs):
    """CALL's result; an InputError it raises is printed, every diagnostic, and exits 2."""
    try:
        return call(*args, **kwargs)
    except InputError as e:
        fail(e.diagnostics)


registry_argument = click.argument("registry", callback=parse_registry_path)
rules_option = click.option("--rules", "rules", metavar="DIR", help="Rulebook folder (default: the U4SSC rulebook).")
as_of_option = click.option("--as-of", "as_of", metavar="YYYY-MM-DD", callback=parse_as_of,
                            help="The day the check is made for (default: today).")
fail_on_option = click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
                              help="Lowest severity that makes the exit status 1.")
engine_option = click.option("--engine", type=click.Choice(("pydatalog", "sqlite", "auto")), default="auto",
                             show_default=True,
                             help="Evaluation engine (auto: pyDatalog, the engine of the design, up to "
                                  "500 records; SQLite beyond).")
