"""Date arithmetic and the calendar, shared by every engine.

Dates travel through the engines as ISO strings (YYYY-MM-DD), which order
correctly as text in every engine and render as themselves. The functions here
are the only ones a rule can call: the compiler refers to them by name, and
each engine looks the name up in FUNCTIONS.
"""
from __future__ import annotations

import calendar
import datetime as dt


def parse(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def add_days(d: str, n: int) -> str:
    return (parse(d) + dt.timedelta(days=n)).isoformat()


def sub_days(d: str, n: int) -> str:
    return add_days(d, -n)


def add_months(d: str, n: int) -> str:
    x = parse(d)
    m = x.month - 1 + n
    y, m = x.year + m // 12, m % 12 + 1
    day = min(x.day, calendar.monthrange(y, m)[1])
    return dt.date(y, m, day).isoformat()


def sub_months(d: str, n: int) -> str:
    return add_months(d, -n)


def add_years(d: str, n: int) -> str:
    """Same month and day n years later; 29 February becomes 28 February."""
    x = parse(d)
    y = x.year + n
    day = x.day
    if x.month == 2 and day == 29 and not calendar.isleap(y):
        day = 28
    return dt.date(y, x.month, day).isoformat()


def sub_years(d: str, n: int) -> str:
    return add_years(d, -n)


def year_of(d: str) -> int:
    return int(d[:4])


def make_date(y: int, m, d=None) -> str:
    """date(Y, M, D), or date(Y, "MM-DD") with a month-day parameter.

    A day of the year given as 29 February is 28 February in other years (the
    rulebook's rule for dates, as in add_years); any other impossible date fails.
    """
    if d is None:
        m, d = (int(p) for p in str(m).split("-"))
    y, m, d = int(y), int(m), int(d)
    if m == 2 and d == 29 and not calendar.isleap(y):
        d = 28
    return dt.date(y, m, d).isoformat()


def plus(a, b):
    return a + b


def minus(a, b):
    return a - b


def later(a, b):
    return a if a >= b else b


def earlier(a, b):
    return a if a <= b else b


FUNCTIONS = {
    "add_days": add_days,
    "sub_days": sub_days,
    "add_months": add_months,
    "sub_months": sub_months,
    "add_years": add_years,
    "sub_years": sub_years,
    "year_of": year_of,
    "date": make_date,
    "plus": plus,
    "minus": minus,
    "max": later,
    "min": earlier,
}


def quarters(first_year: int, last_year: int):
    """(label, first day, day after the last day) of every quarter in the years."""
    for y in range(first_year, last_year + 1):
        for q in range(4):
            start = dt.date(y, 3 * q + 1, 1)
            end = dt.date(y + 1, 1, 1) if q == 3 else dt.date(y, 3 * q + 4, 1)
            yield (f"{y}-Q{q + 1}", start.isoformat(), end.isoformat())


def years(first_year: int, last_year: int):
    for y in range(first_year, last_year + 1):
        yield (y, dt.date(y, 1, 1).isoformat(), dt.date(y + 1, 1, 1).isoformat())
