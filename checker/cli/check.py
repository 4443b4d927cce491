"""`torcheck check REGISTRY`: every breach of the rulebook, as text, JSON, SARIF, JUnit, Markdown or HTML."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import pipeline
from ..model import Diagnostic, Report
from .options import (as_of_option, engine_option, fail_on_option, or_fail, registry_argument,
                      rules_option)
from .output import exit_status, fail, refuse_output_onto_inputs, use_color, write_output


def read_baseline(path: str):
    """The (rule, record, message) keys of a JSON report of an earlier run; exit 2 if it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {(v["rule"], v["record"], v["message"]) for v in data["violations"]}
    except FileNotFoundError:
        fail([Diagnostic("baseline", f"baseline file {path} does not exist")])
    except OSError as e:  # a folder, no permission
        fail([Diagnostic("baseline", f"cannot read baseline file {path}: {e.strerror}")])
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: [[[[... nested 100,000 deep
        fail([Diagnostic("baseline", f"{path} is not a JSON report of torcheck check --format json")])


@click.command("check")
@registry_argument
@rules_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(("text", "json", "sarif", "junit", "markdown", "html")),
              default="text", show_default=True)
@fail_on_option
@click.option("--baseline", metavar="FILE", help="A JSON report of an earlier run: report only violations not in it.")
@click.option("-o", "--output", "out", metavar="FILE", help="Write the report to FILE instead of standard output.")
@engine_option
@click.option("--docs-base", metavar="URL", help="With --format html: link each rule to URL/rules/<id>.html "
              "(the site `torcheck docs` writes; a relative URL is taken from the report's folder).")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Compile the rulebook, read every registry file and evaluate the rules: no cached "
                   "rulebook, records or result of an earlier run.")
def command(registry, rules, as_of, fmt, fail_on, baseline, out, engine, docs_base, no_cache):
    """Check REGISTRY (a folder of YAML files) against the rulebook."""
    from ..render import render

    refuse_output_onto_inputs(out, folders=(registry, rules or pipeline.default_rules_dir()), files=(baseline,))
    known = read_baseline(baseline) if baseline else None
    checked = or_fail(pipeline.check, registry, rules, as_of, engine, use_cache=not no_cache)
    rb, vs = checked.rulebook, checked.violations
    if known is not None:
        vs = tuple(v for v in vs if v.key() not in known)
    report = Report(as_of=as_of, rulebook=rb.name, violations=vs, rules=tuple(r.info for r in rb.rules),
                    records=checked.records, clause_texts=rb.clause_texts())
    write_output(render(report, fmt, color=use_color(out) and fmt == "text", docs_base=docs_base), out)
    sys.exit(exit_status(vs, fail_on))
