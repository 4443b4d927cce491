"""`torcheck what-if REGISTRY --add FILE --remove ID`: a proposal's effect, no file changed (cli.md)."""
from __future__ import annotations

import functools
import sys

import click

from ..cli import (as_of_option, choose_engine, default_rules_dir, display_path, engine_option, exit_status,
                   fail_on_option, load_inputs, parse_registry_path, rules_option, write_output)


@click.command("what-if")
@click.argument("registry", callback=parse_registry_path)
@click.option("--add", "add_files", metavar="FILE", multiple=True,
              help="A YAML file of records to add (repeatable); an id the registry has is replaced "
                   "if the same call removes it.")
@click.option("--remove", "remove_ids", metavar="ID", multiple=True, help="A record to leave out (repeatable).")
@rules_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(("text", "json", "markdown")), default="text",
              show_default=True)
@fail_on_option
@engine_option
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Read every registry file, and evaluate the registry as it is, not a kept check's result.")
def command(registry, add_files, remove_ids, rules, as_of, fmt, fail_on, engine, no_cache):
    """Evaluate a proposal against REGISTRY without changing any file.

    Lists the violations the proposal introduces (+) and resolves (-); exits 1
    when it introduces one at or above --fail-on.
    """
    from ..whatif import RENDERERS, what_if

    key = memo = None
    if not no_cache:  # the registry's violations as a check with the same inputs found them (checker.memo)
        from ..memo import ResultMemo, check_key

        memo = ResultMemo()
        key_args = (registry, display_path(registry), rules or default_rules_dir(),
                    display_path(rules or default_rules_dir()), as_of, engine)
        key = check_key(*key_args)
    rb, proposed = load_inputs(registry, rules, add_files, remove_ids, use_cache=not no_cache)
    base = proposed.base or proposed  # the registry as read, before the proposal (the folder is read once)
    if key is not None and check_key(*key_args) != key:
        key = None  # a file changed while it was read: no kept result is known to be this registry's
    kept = memo.get(key) if key is not None else None
    before = remember = state = None
    chosen = choose_engine(engine, proposed)
    if kept is not None and kept[0] == len(base.records):
        before = kept[1]
        if chosen == "sqlite":  # the database the check kept, changed by the proposal (whatif.from_state)
            state = memo.state(key)
    elif key is not None:
        remember = functools.partial(memo.put, key, len(base.records))
    result = what_if(rb, base, proposed, as_of, engine=chosen, before=before, remember=remember, state=state)
    write_output(RENDERERS[fmt](result), None)
    sys.exit(exit_status(result.introduced, fail_on))
