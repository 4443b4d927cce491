"""The `torcheck` command group: one module of checker.cli per command, registered here.

Commands are thin: each parses its options, makes one library call (checker.pipeline and the
stages) and hands the result to one renderer; checker.cli.output writes it and decides the exit
status. This module imports the commands; none of them imports it.
"""
from __future__ import annotations

import sys

import click

from .. import __version__
from . import check, coverage, docs, explain, fmt, lint, query, test, upcoming, whatif
from .output import EXIT_INTERRUPTED


class _Main(click.Group):
    """The command group; an interrupt (Ctrl-C) is one line and exit 130, not click's "Aborted!" and
    exit 1, which is the code for "violations found". An -o file being written is left as it was
    (the atomic write removes its temporary file)."""

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


for _module in (check, coverage, explain, whatif, query, upcoming, docs, test, lint, fmt):
    main.add_command(_module.command)
