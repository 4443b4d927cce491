"""`torcheck test [RULES_DIR]`: run the rulebook's own test cases (docs/rule-tests.md).

Exit status: 0 every case passes, 1 a case fails (its diff is shown), 2 the
rulebook or a case file cannot be used (every problem listed, nothing run).
"""
from __future__ import annotations

import sys

import click

from .. import pipeline
from ..files import display_path
from ..model import Diagnostic, InputError
from .output import EXIT_OK, EXIT_VIOLATIONS, fail, refuse_output_onto_inputs, write_output


@click.command("test")
@click.argument("rules_dir", required=False, metavar="[RULES_DIR]")
@click.option("--format", "fmt", type=click.Choice(("text", "junit")), default="text", show_default=True)
@click.option("--rule", "only", multiple=True, metavar="ID", help="Run only this rule's cases (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="List failing cases only (text format).")
@click.option("-o", "--output", "out", metavar="FILE", help="Write the result to FILE instead of standard output.")
def command(rules_dir, fmt, only, quiet, out):
    """Run the rulebook's test cases (RULES_DIR/tests/*.yaml; default: the U4SSC rulebook)."""
    from ..cases import read_cases, render_junit, render_text, run_cases
    from ..compile import compile_rulebook

    path = rules_dir or pipeline.default_rules_dir()
    refuse_output_onto_inputs(out, folders=(path,))
    shown = display_path(path)
    try:
        rb = compile_rulebook(path, shown)
    except InputError as e:
        fail(e.diagnostics)
    ids = [r.info.id for r in rb.rules]
    cases, diags = read_cases(path, shown, set(ids))
    unknown = [r for r in only if r not in ids]
    diags += [Diagnostic("unknown-rule", f"--rule {r}: the rulebook has no rule {r!r}") for r in unknown]
    if diags:
        fail(diags)
    if only:
        cases = [c for c in cases if c.rule in only]
    outcomes = run_cases(rb, cases)
    bad = [d for o in outcomes for d in o.diagnostics]
    if bad:
        fail(bad)
    text = render_junit(outcomes) if fmt == "junit" else render_text(outcomes, verbose=not quiet)
    write_output(text, out)
    sys.exit(EXIT_OK if all(o.passed for o in outcomes) else EXIT_VIOLATIONS)
