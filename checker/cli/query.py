"""`torcheck query REGISTRY 'CONDITION'`: an ad hoc question in the rule language."""
from __future__ import annotations

import sys

import click

from .. import pipeline
from ..model import InputError
from .options import as_of_option, engine_option, or_fail, registry_argument, rules_option
from .output import EXIT_OK, EXIT_VIOLATIONS, fail, write_output


@click.command("query")
@registry_argument
@click.argument("condition")
@rules_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@engine_option
def command(registry, condition, rules, as_of, fmt, engine):
    """Answer CONDITION (a rule body, e.g. 'holds(P, ip_lead, as_of)') over REGISTRY.

    Prints the values of the variables it names, one row per answer, sorted.
    Exits 0 when there is an answer, 1 when there is none (as grep does), 2
    when the condition, the registry or the rulebook cannot be used.
    """
    from ..query import RENDERERS, ask, prepare

    rb, reg = or_fail(pipeline.load_inputs, registry, rules)
    try:
        question = prepare(rb, condition)
    except InputError as e:
        fail(e.diagnostics)
    answer = ask(question, reg, as_of, pipeline.choose_engine(engine, reg))
    write_output(RENDERERS[fmt](answer), None)
    sys.exit(EXIT_OK if answer.rows else EXIT_VIOLATIONS)
