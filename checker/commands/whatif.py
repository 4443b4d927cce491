"""`torcheck what-if REGISTRY --add FILE --remove ID`: a proposal's effect, no file changed (cli.md)."""
from __future__ import annotations

import sys

import click

from ..cli import (as_of_option, choose_engine, engine_option, exit_status, fail_on_option, load_inputs,
                   rules_option, write_output)


@click.command("what-if")
@click.argument("registry")
@click.option("--add", "add_files", metavar="FILE", multiple=True,
              help="A YAML file of records to add (repeatable); an id the registry has is replaced "
                   "if the same call removes it.")
@click.option("--remove", "remove_ids", metavar="ID", multiple=True, help="A record to leave out (repeatable).")
@rules_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(("text", "json", "markdown")), default="text",
              show_default=True)
@fail_on_option
@engine_option
def command(registry, add_files, remove_ids, rules, as_of, fmt, fail_on, engine):
    """Evaluate a proposal against REGISTRY without changing any file.

    Lists the violations the proposal introduces (+) and resolves (-); exits 1
    when it introduces one at or above --fail-on.
    """
    from ..whatif import RENDERERS, what_if

    rb, proposed = load_inputs(registry, rules, add_files, remove_ids)
    base = proposed.base or proposed  # the registry as read, before the proposal (the folder is read once)
    result = what_if(rb, base, proposed, as_of, engine=choose_engine(engine, proposed))
    write_output(RENDERERS[fmt](result), None)
    sys.exit(exit_status(result.introduced, fail_on))
