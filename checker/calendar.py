"""The calendar relations (quarter, calendar_year): which years they hold, in one place.

The engines are given a quarter and a calendar_year row for each year of the
calendar, and every year costs rows in every join with the calendar. The
calendar used to hold every year between the registry's earliest and latest
date, so a meeting dated 0001-01-01 and an event dated 9998-12-31 gave the
example registry ten thousand years of quarters (issue 12, section 3). It now
holds the years a rule can ask about:

- the span: every year from the earliest to the latest year of the as-of
  date (and, for `upcoming`, the last day of its window) and of the dates in
  the relations that the rules using the calendar read *positively*,
  directly or through the helpers they rest on (`calendar_relations`): the
  relations whose rows can bind a rule's variables. In the U4SSC rulebook
  those are the appointments (holding periods, for the quarterly e-meeting
  and yearly progress-report rules and their deadlines) and the centres
  (approval dates, for the annual reports). A meeting is read only under
  `not` by those rules, an event not at all: their dates do not stretch it;
- and the year of every date in the registry, each by itself (not the years
  between), so that every date of the registry falls in a known quarter and
  year (a proposal dated in a new year brings that year, as before).

Every year the rules can reach stays in the calendar, so no verdict changes:
the rules using the calendar bound its years below by a date of a relation
they read positively (S <= QS, Y > year_of(D)) and above by the as-of date
(QE <= as_of, Due < as_of), or, for deadlines, by the window's last day.
When the relations cannot be told (a calendar relation used under `not`, or a
rule using the calendar that reads no registry relation positively), the
dates of every relation make the span, as before. The calendar stops where
Python's dates do: a quarter of year 9999 would end in year 10000.

evaluate (check, explain, query, what-if), upcoming and what-if's kept
database (whatif.from_state) all take the calendar from here, so they agree.
"""
from __future__ import annotations

import re

from . import dates, ir
from .compile import AS_OF_REL

RELATIONS = ("quarter", "calendar_year")
FIRST_YEAR, LAST_YEAR = 1, 9998  # year 9999's last quarter would end in year 10000

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def calendar_relations(program) -> frozenset | None:
    """The relations whose dates the calendar must cover, or None for every relation.

    Those read positively by a rule whose body uses a calendar relation, through the rules of
    the derived relations it reads positively (to the fixed point). None when a calendar
    relation is used under `not` (a missing year would then make a negation true), or when a
    rule using the calendar reads no relation filled from outside the rules (nothing bounds
    its years but the data as a whole)."""
    by_head: dict = {}
    for rule in program.rules:
        by_head.setdefault(rule.head, []).append(rule)
    out: set = set()
    for rule in program.rules:
        used = dict(_uses(rule.body))
        if any(used.get(r) for r in RELATIONS):  # under `not`
            return None
        if not any(r in used for r in RELATIONS):
            continue
        reach = _positive_closure(rule.body, by_head)
        filled = {r for r in reach if r not in by_head and r not in RELATIONS}
        if not filled - {AS_OF_REL}:
            return None
        out |= filled
    return frozenset(out)



def _uses(body):
    """(relation, negated) of every atom of a body, negated ones marked True (the last word wins
    towards True: a relation used both ways counts as negated)."""
    seen: dict = {}
    for rel, neg in ir.relations_used(body):
        seen[rel] = seen.get(rel, False) or neg
    return seen.items()


def _positive_closure(body, by_head) -> set:
    todo = [rel for rel, neg in ir.relations_used(body) if not neg]
    seen: set = set()
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        for rule in by_head.get(rel, ()):
            todo.extend(r for r, neg in ir.relations_used(rule.body) if not neg)
    return seen


def date_years(facts, relations=None) -> set[int]:
    """The years of the date-shaped values in facts (relation -> rows), of `relations` only
    when it is given."""
    shaped = set()
    for rel, rows in facts.items():
        if relations is not None and rel not in relations:
            continue
        # the texts shaped like a date, each once (dates repeat; most values are ids), then the pattern
        shaped.update(v for row in rows for v in row if v.__class__ is str and 10 <= len(v) <= 11 and v[4] == "-")
    return {int(v[:4]) for v in shaped if _ISO.match(v)}


def span(years, as_of: str, through: str | None = None) -> tuple[int, int]:
    """(first, last) year of the span: the years given, the as-of date's and `through`'s, clamped."""
    ys = set(years) | {int(as_of[:4])}
    if through is not None:
        ys.add(int(through[:4]))
    return max(min(ys), FIRST_YEAR), min(max(ys), LAST_YEAR)


def widen(lo: int, hi: int, years) -> tuple[int, int]:
    """The span (lo, hi) grown to take in `years`, clamped as `span` clamps."""
    ys = list(years)
    return max(min([lo, *ys]), FIRST_YEAR), min(max([hi, *ys]), LAST_YEAR)


def clamp(years) -> set[int]:
    """The years the calendar can hold."""
    return {y for y in years if FIRST_YEAR <= y <= LAST_YEAR}


def calendar_years(facts, as_of: str, program, through: str | None = None) -> list[int]:
    """The calendar's years for a registry's facts, in order: every year of the span, and the year
    of every date in the registry (a year by itself, not the years between: see the module's docstring)."""
    relations = calendar_relations(program)
    every = date_years(facts)
    lo, hi = span(every if relations is None else date_years(facts, relations), as_of, through)
    return sorted(set(range(lo, hi + 1)) | clamp(every))


def rows(years) -> dict:
    """The calendar relations' rows for the years given, in year order."""
    ys = sorted(years)
    return {"quarter": [q for y in ys for q in dates.quarters(y, y)],
            "calendar_year": [r for y in ys for r in dates.years(y, y)]}
