"""Engines translate a checker.ir.Program and answer queries on its relations.

Every engine offers the same small interface:

    eng = Engine(program)          # translate the rules
    eng.load(facts)                # {relation: [row, ...]}
    rows = eng.query(relation)     # sorted list of tuples
"""
from __future__ import annotations


def get_engine(name: str):
    if name == "pydatalog":
        from .pydatalog import PyDatalogEngine

        return PyDatalogEngine
    if name == "sqlite":
        from .sqlite import SQLiteEngine

        return SQLiteEngine
    raise ValueError(f"unknown engine {name!r}")


def sort_rows(rows):
    """A total order on rows mixing strings and integers."""
    return sorted(set(rows), key=lambda r: tuple((0, x) if isinstance(x, int) else (1, str(x)) for x in r))
