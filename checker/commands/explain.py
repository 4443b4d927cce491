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

import difflib
import sys

import click

from ..model import Diagnostic


def _as_of(ctx, param, value):
    from ..cli import parse_as_of  # here, not at import: cli imports this module

    return parse_as_of(ctx, param, value)


def _registry_path(ctx, param, value):
    from ..cli import parse_registry_path  # here, not at import: cli imports this module

    return parse_registry_path(ctx, param, value)


@click.command("explain")
@click.argument("registry", callback=_registry_path)
@click.argument("record")
@click.option("--rule", "rule", metavar="ID", help="Only the violations of this rule.")
@click.option("--rules", "rules", metavar="DIR", help="Rulebook folder (default: the U4SSC rulebook).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", callback=_as_of,
              help="The day the check is made for (default: today).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--engine", type=click.Choice(("pydatalog", "sqlite", "auto")), default="auto",
              show_default=True, help="Evaluation engine, as for check.")
def command(registry, record, rule, rules, as_of, fmt, engine):
    """Explain every violation of RECORD in REGISTRY: the facts, conclusions and parameters behind it."""
    from ..cli import EXIT_OK, choose_engine, fail, load_inputs, use_color, write_output
    from ..evaluate import evaluate
    from ..render.explanation import render

    rb, reg = load_inputs(registry, rules)
    problems = []
    if record not in reg.records:
        problems.append(Diagnostic("unknown-record", f"the registry {registry} has no record {record!r}",
                                   help=_did_you_mean(record, reg.records)))
    if rule is not None and rule not in {r.info.id for r in rb.rules}:
        problems.append(Diagnostic("unknown-rule", f"the rulebook has no rule {rule!r}",
                                   help=_did_you_mean(rule, [r.info.id for r in rb.rules])))
    if problems:
        fail(problems)

    ev = evaluate(rb, reg, as_of, choose_engine(engine, reg))
    vs = [v for v in ev.violations() if v.record == record and (rule is None or v.rule == rule)]
    out = render(vs, fmt, record=record, as_of=as_of, location=reg.records[record].location,
                 rule=rule, rules=[r.info for r in rb.rules], color=fmt == "text" and use_color(None))
    write_output(out, None)
    sys.exit(EXIT_OK)


def _did_you_mean(name: str, known) -> str | None:
    known = list(known)
    folded = [k for k in known if k.casefold() == name.casefold()]
    close = folded or difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"
