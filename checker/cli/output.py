"""What every command does at its end: write the result, print the problems, decide the exit status.

Exit statuses (cli.md): 0 nothing at or above --fail-on, 1 something, 2 an input could not be used
(every problem on standard error, nothing checked), 130 interrupted.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..files import atomic_write, display_path
from ..model import SEVERITY_RANK, Diagnostic

FAIL_ON = ("error", "warning", "notice", "never")
EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


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
    try:
        atomic_write(target, text)
    except OSError as e:  # a full disk, FILE a folder: the old FILE stays as it was
        fail([Diagnostic("output", f"cannot write {out}: {e.strerror or e}")])


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
