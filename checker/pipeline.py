"""The one place that chains the stages: rulebook -> registry -> evaluation, with the caches.

Every command that needs a compiled rulebook, a read registry or a check's violations asks here; the
stages themselves (checker.compile, checker.registry, checker.evaluate) only convert. Problems of an
input are raised as InputError with every diagnostic; the command line prints them and exits 2.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from .files import display_path


def default_rules_dir() -> str:
    """The U4SSC rulebook shipped with the package."""
    here = Path(__file__).resolve().parent
    src = here.parent / "rules" / "u4ssc"
    if src.is_dir() and (here.parent / "pyproject.toml").is_file():
        return str(src)
    from importlib import resources

    return str(resources.files("checker.rulebooks").joinpath("u4ssc"))


def rulebook(rules: str | None, use_cache: bool = True):
    """The compiled rulebook (the U4SSC one unless RULES names another folder); InputError on a problem."""
    from .compile import compile_rulebook

    rules_dir = rules or default_rules_dir()
    return compile_rulebook(rules_dir, display_path(rules or rules_dir), use_cache=use_cache)


def load_inputs(registry: str, rules: str | None, add_files=(), remove_ids=(), use_cache: bool = True):
    """Compile the rulebook and read the registry: (rulebook, registry); InputError on a problem of either.

    Files that read cleanly before come from the cache (checker.cache) unless use_cache is False.
    """
    from .registry import load_registry

    rb = rulebook(rules, use_cache=use_cache)
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
    finally:
        # the records are moved out of the collector's way before it runs again: enabled first, it would
        # traverse the millions of objects made while it was off at the next allocation (1 s at 100,000)
        gc.freeze()
        gc.enable()
    return rb, reg


# registries with more records than this go to SQLite under --engine auto. Measured with bench/run.py
# (README, "Performance"): SQLite was faster at every size, from the 165-record example (0.41 s against
# 0.51 s for the whole check) to 1,000 records (0.44 s against 8.7 s) and 10,000 (2 s against 21 minutes);
# the design names pyDatalog as the engine, and it answers a registry of the U4SSC's size well within an
# interactive budget (330 records about 1 s, 1,000 records 6.7 s, 2,000 records 48 s measured), so auto
# keeps it up to 500 records and uses SQLite beyond.
AUTO_CROSSOVER = 500


def choose_engine(engine: str, reg) -> str:
    """`auto` keeps pyDatalog, the engine the design names, up to the measured crossover."""
    if engine != "auto":
        return engine
    try:
        from .engines import sqlite  # noqa: F401
    except ImportError:
        return "pydatalog"
    return "pydatalog" if len(reg.records) <= AUTO_CROSSOVER else "sqlite"


def _memo_key_args(registry: str, rules: str | None, as_of: str, engine: str) -> tuple:
    rules_dir = rules or default_rules_dir()
    return (registry, display_path(registry), rules_dir, display_path(rules or rules_dir), as_of, engine)


@dataclass(frozen=True)
class Checked:
    """A check's outcome: the rulebook, how many records were read, the violations (sorted)."""

    rulebook: object
    records: int
    violations: tuple


def check(registry: str, rules: str | None, as_of: str, engine: str, use_cache: bool = True) -> Checked:
    """Check REGISTRY as of AS_OF: a kept result of the same inputs (checker.memo), or a fresh evaluation.

    A fresh result is kept only if no input changed while it was checked.
    """
    from .evaluate import evaluate

    memo = key = None
    if use_cache:
        from .memo import ResultMemo, check_key

        memo = ResultMemo()
        key_args = _memo_key_args(registry, rules, as_of, engine)
        key = check_key(*key_args)
        kept = memo.get(key)
        if kept is not None:
            records, vs = kept
            return Checked(rulebook(rules), records, tuple(vs))
    rb, reg = load_inputs(registry, rules, use_cache=use_cache)
    ev = evaluate(rb, reg, as_of, choose_engine(engine, reg))
    vs = ev.violations()
    if memo is not None and check_key(*key_args) == key:
        memo.put(key, len(reg.records), vs)
        memo.put_state(key, ev.engine)  # SQLite's database, for what-if (checker.whatif.from_state)
    return Checked(rb, len(reg.records), tuple(vs))


def what_if(registry: str, add_files, remove_ids, rules: str | None, as_of: str, engine: str,
            use_cache: bool = True):
    """The violations a proposal (records added from ADD_FILES, REMOVE_IDS left out) introduces and
    resolves; the registry's own violations come from a kept check of the same inputs when there is one."""
    import functools

    from .whatif import what_if as evaluate_proposal

    key = memo = None
    if use_cache:
        from .memo import ResultMemo, check_key

        memo = ResultMemo()
        key_args = _memo_key_args(registry, rules, as_of, engine)
        key = check_key(*key_args)
    rb, proposed = load_inputs(registry, rules, add_files, remove_ids, use_cache=use_cache)
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
    return evaluate_proposal(rb, base, proposed, as_of, engine=chosen, before=before, remember=remember,
                             state=state)
