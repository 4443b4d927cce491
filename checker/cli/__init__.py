"""The `torcheck` command line (spec/cli.md): `main` is the console script's entry point.

One module per command (check, coverage, explain, whatif, query, upcoming, docs, test, lint, fmt),
the options they share in `options`, writing and exit statuses in `output`, the group in `app`.
"""
from .app import main

__all__ = ["main"]
