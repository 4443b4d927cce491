"""`torcheck what-if REGISTRY --add FILE --remove ID`: a proposal's effect, no file changed (cli.md)."""
from __future__ import annotations

import sys

import click

from .. import pipeline
from .options import as_of_option, engine_option, fail_on_option, or_fail, registry_argument, rules_option
from .output import exit_status, write_output


@click.command("what-if")
@registry_argument
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
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Read every registry file, and evaluate the registry as it is, not a kept check's result.")
def command(registry, add_files, remove_ids, rules, as_of, fmt, fail_on, engine, no_cache):
    """Evaluate a proposal against REGISTRY without changing any file.

    Lists the violations the proposal introduces (+) and resolves (-); exits 1
    when it introduces one at or above --fail-on.
    """
    from ..whatif import RENDERERS

    result = or_fail(pipeline.what_if, registry, add_files, remove_ids, rules, as_of, engine,
                     use_cache=not no_cache)
    write_output(RENDERERS[fmt](result), None)
    sys.exit(exit_status(result.introduced, fail_on))
