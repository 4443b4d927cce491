"""`torcheck explain REGISTRY RECORD`: why a record breaches the ToR, fact by fact.

Checks the registry as `torcheck check` does, keeps the violations of RECORD
(of one rule with --rule) and prints each with its whole `because` tree: the
registry facts with their files and lines, the helper conclusions with the
facts they rest on, what a negated condition looked for, the parameters used.

Exit status: 0 when the record was explained, violations or none (explain
reports, it does not gate: that is `check`'s); 2 when an input cannot be used,
an unknown record or rule included ("did you mean ...").
"""
from __future__ import annotations

import sys

import click

from .. import pipeline
from ..diagnostics import suggest
from ..model import Diagnostic
from .options import as_of_option, engine_option, or_fail, registry_argument, rules_option
from .output import EXIT_OK, fail, use_color, write_output


@click.command("explain")
@registry_argument
@click.argument("record")
@click.option("--rule", "rule", metavar="ID", help="Only the violations of this rule.")
@rules_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@engine_option
def command(registry, record, rule, rules, as_of, fmt, engine):
    """Explain every violation of RECORD in REGISTRY: the facts, conclusions and parameters behind it."""
    from ..evaluate import evaluate
    from ..render.explanation import render

    rb, reg = or_fail(pipeline.load_inputs, registry, rules)
    problems = []
    if record not in reg.records:
        problems.append(Diagnostic("unknown-record", f"the registry {registry} has no record {record!r}",
                                   help=suggest(record, reg.records, n=3, cutoff=0.6)))
    if rule is not None and rule not in {r.info.id for r in rb.rules}:
        problems.append(Diagnostic("unknown-rule", f"the rulebook has no rule {rule!r}",
                                   help=suggest(rule, [r.info.id for r in rb.rules], n=3, cutoff=0.6)))
    if problems:
        fail(problems)

    ev = evaluate(rb, reg, as_of, pipeline.choose_engine(engine, reg))
    vs = [v for v in ev.violations() if v.record == record and (rule is None or v.rule == rule)]
    out = render(vs, fmt, record=record, as_of=as_of, location=reg.records[record].location,
                 rule=rule, rules=[r.info for r in rb.rules], color=fmt == "text" and use_color(None))
    write_output(out, None)
    sys.exit(EXIT_OK)

