"""`torcheck fmt RULES_DIR [--check] [--diff]`: rewrite rule files in the canonical layout (checker/fmt.py).

--diff prints what would change as a unified diff and writes nothing.

Exit status: 0 done (or, with --check, nothing to change); 1 with --check,
some file would change (each is listed); 2 a file does not parse (every
problem listed, nothing written).
"""
from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from ..files import display_path
from ..model import Diagnostic, InputError
from .output import EXIT_OK, EXIT_VIOLATIONS, fail, write_output


def rule_files(path: str, diags: list) -> list[tuple]:
    """The *.rules files of a rulebook folder (its tests/ left out), or the file itself: (path, shown, entry).

    Listed as the compiler lists them (checker.fsread): a FIFO, a device, a link out of the folder or a
    folder that cannot be listed is a diagnostic in `diags`, never opened (and so never rewritten)."""
    from .. import fsread

    p = Path(path)
    shown = display_path(path)
    if p.is_file():
        return [(p, shown, fsread.given(p))]
    files, problems = fsread.rule_files(p)
    for pr in problems:
        where = shown + "/" + pr.rel if pr.rel else shown
        diags.append(Diagnostic(pr.code, pr.say(where)))
    return [(p.joinpath(*e.parts), shown + "/" + e.rel, e) for e in files]


@click.command("fmt")
@click.argument("paths", nargs=-1, required=True, metavar="RULES_DIR|FILE...")
@click.option("--check", is_flag=True, help="Change nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change as a unified diff.")
def command(paths, check, show_diff):
    """Rewrite rule files in one canonical layout, keeping every token, comment and quote."""
    from ..fmt import FormatError, format_text

    files, diags = [], []
    for path in paths:
        if not Path(path).exists():
            diags.append(Diagnostic("not-found", f"{display_path(path)} does not exist"))
            continue
        found = rule_files(path, diags)
        if not found and not diags:
            diags.append(Diagnostic("empty-rulebook", f"no *.rules file in {display_path(path)}"))
        files += found
    results = []
    from .. import fsread

    for p, shown, entry in files:
        try:
            if isinstance(entry, fsread.FsProblem):
                raise entry
            text = fsread.read(entry).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text reads it
        except fsread.FsProblem as pr:
            diags.append(Diagnostic(pr.code, pr.say(shown)))
            continue
        except UnicodeDecodeError:
            diags.append(Diagnostic("encoding", f"{shown} is not UTF-8 text"))
            continue
        try:
            results.append((p, shown, text, format_text(text, shown)))
        except InputError as e:
            diags += e.diagnostics
        except FormatError as e:  # pragma: no cover - a bug of the formatter, caught before writing
            diags.append(Diagnostic("format-internal", str(e)))
    if diags:
        fail(diags)
    changed = [(p, shown, before, after) for p, shown, before, after in results if before != after]
    for p, shown, before, after in changed:
        if show_diff:
            click.echo("".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                    shown, shown)), nl=False)
        if check:
            click.echo(f"would reformat {shown}")
        elif not show_diff:  # --diff prints what would change and changes nothing
            write_output(after, str(p))
            click.echo(f"reformatted {shown}")
    n, total = len(changed), len(results)
    verb = "would be reformatted" if check or show_diff else "reformatted"
    click.echo(f"{n} file{'s' if n != 1 else ''} {verb}, {total - n} already formatted", err=True)
    sys.exit(EXIT_VIOLATIONS if check and changed else EXIT_OK)
