"""The `torcheck` command line (spec/cli.md).

Commands are thin: each parses its options, makes one library call and hands
the result to one renderer. Exit statuses are decided here: 0 nothing at or
above --fail-on, 1 something, 2 an input could not be used (every problem on
standard error, nothing checked).
"""
from __future__ import annotations

import datetime as dt
import gc
import importlib
import os
import re
import sys
import tempfile
from pathlib import Path

import click

from . import __version__
from .model import SEVERITY_RANK, Diagnostic, InputError, Report

FAIL_ON = ("error", "warning", "notice", "never")
EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2


# ---------------------------------------------------------------- shared helpers


def default_rules_dir() -> str:
    """The U4SSC rulebook shipped with the package."""
    here = Path(__file__).resolve().parent
    src = here.parent / "rules" / "u4ssc"
    if src.is_dir() and (here.parent / "pyproject.toml").is_file():
        return str(src)
    from importlib import resources

    return str(resources.files("checker.rulebooks").joinpath("u4ssc"))


def display_path(p: str) -> str:
    """A path as the user gave it, with `/` separators and no trailing slash."""
    s = p.replace("\\", "/")
    return s.rstrip("/") or s


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


def fail(diags) -> None:
    """Print every diagnostic on standard error and exit 2."""
    for d in sorted(diags, key=Diagnostic.sort_key):
        click.echo(d.render(), err=True)
    n = len(diags)
    click.echo(f"torcheck: {n} problem{'s' if n != 1 else ''}; nothing was checked", err=True)
    sys.exit(EXIT_INPUT)


def write_output(text: str, out: str | None) -> None:
    """Standard output, or FILE written atomically (a partial report never replaces a good one).

    A new FILE gets the mode the umask gives; an existing one keeps its mode. A write that fails
    (a full disk, /dev/full, a closed pipe) is error[output], exit 2.
    """
    if out is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as e:
            _drop_stdout()
            fail([Diagnostic("output", f"cannot write standard output: {e.strerror or e}")])
        return
    target = Path(out)
    if target.exists() and not target.is_file() and not target.is_dir():
        # a device or a pipe (-o /dev/null, -o /dev/stdout): written to, never replaced
        try:
            with open(target, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as e:
            fail([Diagnostic("output", f"cannot write {out}: {e.strerror or e}")])
        return
    folder = target.parent if str(target.parent) else Path(".")
    try:
        mode = target.stat().st_mode & 0o7777 if target.is_file() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", dir=folder)
    except OSError as e:
        fail([Diagnostic("output", f"cannot write {out}: {e.strerror}")])
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, mode)  # mkstemp makes 0600
        os.replace(tmp, target)
    except OSError as e:  # a full disk, FILE a folder: the old FILE stays as it was
        Path(tmp).unlink(missing_ok=True)
        fail([Diagnostic("output", f"cannot write {out}: {e.strerror or e}")])
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refuse_output_onto_inputs(out: str | None, folders=(), files=()) -> None:
    """-o onto an input (a file in the registry or rulebook folder, the baseline, a proposal): exit 2,
    nothing written. Compared by real path, so a link or `..` does not slip past."""
    if out is None:
        return
    target = os.path.realpath(out)
    for f in folders:
        if f and (target == os.path.realpath(f) or target.startswith(os.path.join(os.path.realpath(f), ""))):
            fail([Diagnostic("output", f"-o {display_path(out)} lies inside the input folder {display_path(f)}: "
                                       "nothing was written")])
    for f in files:
        if f and target == os.path.realpath(f):
            fail([Diagnostic("output", f"-o {display_path(out)} is the input file {display_path(f)}: "
                                       "nothing was written")])


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def _drop_stdout() -> None:
    """Standard output failed: what is still buffered goes nowhere, so the exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def exit_status(violations, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    floor = SEVERITY_RANK[fail_on]
    return EXIT_VIOLATIONS if any(SEVERITY_RANK[v.severity] >= floor for v in violations) else EXIT_OK


def use_color(out) -> bool:
    """Colour on a terminal only, and not when NO_COLOR is set to anything but "" (no-color.org)."""
    return out is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def compile_rules(rules: str | None):
    """The compiled rulebook (the U4SSC one unless --rules names another); exit 2 on any problem."""
    from .compile import compile_rulebook

    rules_dir = rules or default_rules_dir()
    try:
        return compile_rulebook(rules_dir, display_path(rules or rules_dir))
    except InputError as e:
        fail(e.diagnostics)


def load_inputs(registry: str, rules: str | None, add_files=(), remove_ids=(), use_cache: bool = True):
    """Compile the rulebook and read the registry; exit 2 on any problem of either.

    Files that read cleanly before come from the cache (checker.cache) unless use_cache is False.
    """
    from .compile import compile_rulebook
    from .registry import load_registry

    rules_dir = rules or default_rules_dir()
    shown_rules = display_path(rules or rules_dir)
    try:
        rb = compile_rulebook(rules_dir, shown_rules, use_cache=use_cache)
    except InputError as e:
        fail(e.diagnostics)
    cache = None
    if use_cache:
        from .cache import RegistryCache

        cache = RegistryCache(rb.vocabulary)
    # Reading makes millions of small objects and no garbage cycles: the collector, run as it goes, would
    # take half the time of a large registry's check; after reading, the records are frozen out of its way.
    gc.disable()
    try:
        reg = load_registry(registry, rb.vocabulary, display=display_path(registry),
                            add_files=tuple(add_files), remove_ids=tuple(remove_ids), cache=cache)
    except InputError as e:
        fail(e.diagnostics)
    finally:
        # the records are moved out of the collector's way before it runs again: enabled first, it would
        # traverse the millions of objects made while it was off at the next allocation (1 s at 100,000)
        gc.freeze()
        gc.enable()
    return rb, reg


def read_baseline(path: str):
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {(v["rule"], v["record"], v["message"]) for v in data["violations"]}
    except FileNotFoundError:
        fail([Diagnostic("baseline", f"baseline file {path} does not exist")])
    except OSError as e:  # a folder, no permission
        fail([Diagnostic("baseline", f"cannot read baseline file {path}: {e.strerror}")])
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: [[[[... nested 100,000 deep
        fail([Diagnostic("baseline", f"{path} is not a JSON report of torcheck check --format json")])


# ---------------------------------------------------------------- the commands

rules_option = click.option("--rules", "rules", metavar="DIR", help="Rulebook folder (default: the U4SSC rulebook).")
as_of_option = click.option("--as-of", "as_of", metavar="YYYY-MM-DD", callback=parse_as_of,
                            help="The day the check is made for (default: today).")
fail_on_option = click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
                              help="Lowest severity that makes the exit status 1.")
engine_option = click.option("--engine", type=click.Choice(("pydatalog", "sqlite", "auto")), default="auto",
                             show_default=True,
                             help="Evaluation engine (auto: pyDatalog, the engine of the design, up to "
                                  "500 records; SQLite beyond).")


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _Main(click.Group):
    """The command group; an interrupt (Ctrl-C) is one line and exit 130, not click's "Aborted!" and
    exit 1, which is the code for "violations found". An -o file being written is left as it was
    (write_output removes its temporary file)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("torcheck: interrupted; nothing was written", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="torcheck")
def main():
    """torcheck: rules-as-code for the U4SSC Terms of Reference."""


@main.command()
@click.argument("registry", callback=parse_registry_path)
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
def check(registry, rules, as_of, fmt, fail_on, baseline, out, engine, docs_base, no_cache):
    """Check REGISTRY (a folder of YAML files) against the rulebook."""
    from .evaluate import evaluate
    from .render import render

    refuse_output_onto_inputs(out, folders=(registry, rules or default_rules_dir()), files=(baseline,))
    known = read_baseline(baseline) if baseline else None
    kept = memo = key = None
    if not no_cache:
        from .memo import ResultMemo, check_key

        memo = ResultMemo()
        key_args = (registry, display_path(registry), rules or default_rules_dir(),
                    display_path(rules or default_rules_dir()), as_of, engine)
        key = check_key(*key_args)
        kept = memo.get(key)
    if kept is not None:  # the same inputs as a check made before: its result (checker.memo)
        rb = compile_rules(rules)
        records, vs = kept
    else:
        rb, reg = load_inputs(registry, rules, use_cache=not no_cache)
        ev = evaluate(rb, reg, as_of, choose_engine(engine, reg))
        vs = ev.violations()
        records = len(reg.records)
        if memo is not None and key is not None and check_key(*key_args) == key:
            memo.put(key, records, vs)  # kept only if no input changed while it was checked
            memo.put_state(key, ev.engine)  # SQLite's database, for what-if (checker.whatif.from_state)
    if known is not None:
        vs = [v for v in vs if v.key() not in known]
    report = Report(as_of=as_of, rulebook=rb.name, violations=tuple(vs), rules=tuple(r.info for r in rb.rules),
                    records=records, clause_texts=rb.clause_texts())
    write_output(render(report, fmt, color=use_color(out) and fmt == "text", docs_base=docs_base), out)
    sys.exit(exit_status(vs, fail_on))


def choose_engine(engine: str, reg) -> str:
    """`auto` keeps pyDatalog, the engine the design names, up to the measured crossover."""
    if engine != "auto":
        return engine
    try:
        from .engines import sqlite  # noqa: F401
    except ImportError:
        return "pydatalog"
    return "pydatalog" if len(reg.records) <= AUTO_CROSSOVER else "sqlite"


# registries with more records than this go to SQLite under --engine auto. Measured with bench/run.py
# (README, "Performance"): SQLite was faster at every size, from the 165-record example (0.41 s against
# 0.51 s for the whole check) to 1,000 records (0.44 s against 8.7 s) and 10,000 (2 s against 21 minutes);
# the design names pyDatalog as the engine, and it answers a registry of the U4SSC's size well within an
# interactive budget (330 records about 1 s, 1,000 records 6.7 s, 2,000 records 48 s measured), so auto
# keeps it up to 500 records and uses SQLite beyond.
AUTO_CROSSOVER = 500


@main.command()
@rules_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def coverage(rules, fmt):
    """Every paragraph of the ToR with its status: encoded, data or not computable."""
    from .compile import compile_rulebook
    from .coverage import coverage as cov, render_json, render_text

    try:
        rb = compile_rulebook(rules or default_rules_dir(), display_path(rules or default_rules_dir()))
    except InputError as e:
        fail(e.diagnostics)
    entries = cov(rb)
    write_output(render_json(entries) if fmt == "json" else render_text(rb, entries), None)


# Commands that live in modules of their own register themselves here. They import
# their helpers from checker.cli; run as `python -m checker.cli`, this file is
# __main__, so the commands are registered on (and run from) checker.cli itself.
for _mod in ("explain", "whatif", "query", "upcoming", "docs", "testcmd", "lint", "fmt"):
    if __name__ == "__main__":
        break
    try:
        _m = importlib.import_module(f"checker.commands.{_mod}")
    except ModuleNotFoundError as _e:
        if _e.name != f"checker.commands.{_mod}":
            raise
        continue
    main.add_command(_m.command)


if __name__ == "__main__":  # pragma: no cover
    from checker.cli import main as _main

    _main()
