"""The calendar holds the years a rule can ask about, not every year between the earliest and latest date
(issue 12, section 3), and no verdict changes for it.

The old calendar (every year from the earliest date of any relation through the latest and the as-of year)
is put back with `_old_calendar` to compare with; the cost of far dates is measured in bench/run.py, not here.
"""
from __future__ import annotations

import json
import shutil

import pytest

import checker.calendar as calendar
from checker.evaluate import evaluate
from checker.registry import load_registry
from checker.upcoming import upcoming

from .conftest import FACTS, torcheck

AS_OF = "2026-11-28"

# two events (issue 12 used a meeting and an event; a rule on annual meetings, rulebook.md rev 4, reads
# meetings' dates positively, and would rightly stretch the span to a meeting of year 1)
FAR = """events:
  - id: ev-far-past
    title: A far past event
    date: 0001-01-01
    organizer: itu
  - id: ev-far-future
    title: A far future event
    date: 9998-12-31
    organizer: itu
"""


def _old_calendar(facts, as_of, program, through=None):
    """The calendar before issue 12: every year between the earliest and latest date of any relation."""
    lo, hi = calendar.span(calendar.date_years(facts), as_of, through)
    return list(range(lo, hi + 1))


@pytest.fixture
def far(tmp_path):
    reg = tmp_path / "far"
    shutil.copytree(FACTS, reg)
    (reg / "zz-far.yaml").write_text(FAR, encoding="utf-8")
    return reg


def _verdict(ev):
    return [(v.to_json(), str(v.location)) for v in ev.violations()]


def test_the_calendar_rules_read_appointments_and_centres_only(rulebook):
    rels = calendar.calendar_relations(rulebook.program)
    assert rels is not None
    assert {"appointment", "appointment.start", "appointment.end", "centre", "centre.approved_on"} <= rels
    # events are read by no rule using the calendar, reports only under `not`
    assert not any(r.startswith(("event", "report")) for r in rels)


def test_far_dates_bring_their_own_year_and_not_the_years_between(rulebook, far):
    reg = load_registry(str(far), rulebook.vocabulary)
    ev = evaluate(rulebook, reg, AS_OF, "sqlite")
    years = [y for y, _, _ in ev.facts["calendar_year"]]
    # the span: the earliest appointment or centre date (a focal point appointed in 2016) through the latest
    # (a-ip-2027, the successor elected to start on 2027-04-13, is after the as-of year)
    assert years == [1, *range(2016, 2028), 9998]
    assert [q for q, _, _ in ev.facts["quarter"]][:5] == ["1-Q1", "1-Q2", "1-Q3", "1-Q4", "2016-Q1"]  # labels as dates.quarters makes them
    assert len(ev.facts["quarter"]) == 4 * len(years)
    # the example alone: the same span, without the two far years
    plain = evaluate(rulebook, load_registry(str(FACTS), rulebook.vocabulary), AS_OF, "sqlite")
    assert [y for y, _, _ in plain.facts["calendar_year"]] == list(range(2016, 2028))


def test_the_calendar_reaches_the_as_of_year_and_upcomings_window(rulebook):
    reg = load_registry(str(FACTS), rulebook.vocabulary)
    assert [y for y, _, _ in evaluate(rulebook, reg, "2031-02-01", "sqlite").facts["calendar_year"]][-1] == 2031
    ev = evaluate(rulebook, reg, AS_OF, "sqlite", through="2029-01-15")
    assert [y for y, _, _ in ev.facts["calendar_year"]][-1] == 2029
    # year 9999's last quarter would end in year 10000: no year of 9999, as before
    assert calendar.calendar_years({}, "9999-12-31", rulebook.program) == []
    assert calendar.calendar_years({"event.date": [("ev", "0001-01-01")]}, "9999-12-31", rulebook.program) == [1]


def test_far_dates_give_the_old_calendars_verdict_on_both_engines(rulebook, far, monkeypatch):
    reg = load_registry(str(far), rulebook.vocabulary)
    new = _verdict(evaluate(rulebook, reg, AS_OF, "pydatalog"))
    assert new == _verdict(evaluate(rulebook, reg, AS_OF, "sqlite"))
    monkeypatch.setattr(calendar, "calendar_years", _old_calendar)
    old = evaluate(rulebook, reg, AS_OF, "sqlite")
    assert len(old.facts["calendar_year"]) == 9998  # what the far dates used to cost
    assert new == _verdict(old)
    assert any(v["rule"] == "centre-missing-annual-report" for v, _ in new)


def test_the_command_on_far_dates_prints_what_sqlite_prints(far):
    auto = torcheck("check", str(far), "--as-of", AS_OF, "--format", "json", "--no-cache")
    sqlite = torcheck("check", str(far), "--as-of", AS_OF, "--format", "json", "--no-cache", "--engine", "sqlite")
    assert auto.returncode == 1, auto.stderr
    assert (auto.stdout, auto.stderr) == (sqlite.stdout, sqlite.stderr)


def test_upcoming_on_far_dates_gives_the_old_calendars_deadlines(rulebook, far, monkeypatch):
    reg = load_registry(str(far), rulebook.vocabulary)
    new = upcoming(rulebook, reg, AS_OF, "2027-11-28", "pydatalog")
    assert {e.rule for e in new.entries} >= {"centre-missing-annual-report", "ip-lead-missing-quarterly-meeting"}
    monkeypatch.setattr(calendar, "calendar_years", _old_calendar)
    assert upcoming(rulebook, reg, AS_OF, "2027-11-28", "sqlite") == new


FAR_PAST = """people:
  - {id: p-early, name: An early lead}
appointments:
  - id: a-early
    person: p-early
    role: ip_lead
    start: 0001-01-01
    end: 0002-01-01
    appointed_by: annual_meeting
centres:
  - id: c-early
    name: An early centre
    scope: city
    approved_by: partner_council
    approved_on: 0001-06-01
events:
  - id: ev-late
    title: A late event
    date: 7000-01-01
    organizer: p-early
"""


@pytest.mark.parametrize("engine", ["pydatalog", "sqlite"])
def test_a_quarter_and_a_year_in_a_far_year_are_still_found(rulebook, tmp_path, engine, monkeypatch):
    (tmp_path / "r.yaml").write_text(FAR_PAST, encoding="utf-8")
    reg = load_registry(str(tmp_path), rulebook.vocabulary)
    ev = evaluate(rulebook, reg, "0003-06-01", engine)
    assert [y for y, _, _ in ev.facts["calendar_year"]] == [1, 2, 3, 7000]
    found = {(v.rule, v.record, v.message) for v in ev.violations()}
    for q in ("1-Q1", "1-Q2", "1-Q3", "1-Q4"):
        assert ("ip-lead-missing-quarterly-meeting", "a-early",
                f"Implementation Programme lead p-early held no e-meeting with the secretariat in {q}") in found
    assert ("ip-lead-no-progress-report", "a-early",
            "Implementation Programme lead p-early submitted no progress report in 1, a calendar year in office throughout "
            "(the rulebook's reading of «регулярно»: at least one report a year)") in found
    assert ("centre-missing-annual-report", "c-early", "Centre c-early has issued no annual report for 2, due by 0003-03-31 on the rulebook's reading of 30") \
        in found  # year 1 is the approval's, year 2 the first full one
    verdict = _verdict(ev)
    monkeypatch.setattr(calendar, "calendar_years", _old_calendar)
    old = evaluate(rulebook, reg, "0003-06-01", "sqlite")
    assert len(old.facts["calendar_year"]) == 7000
    assert verdict == _verdict(old)


WHAT_IF_ARGS = ("--as-of", AS_OF, "--engine", "sqlite", "--format", "json")

PROPOSALS = {
    "adds an event in a year of its own": ("--add", "early.yaml"),
    "removes the far past event (its year leaves the calendar)": ("--remove", "ev-far-past"),
    "removes the far event": ("--remove", "ev-far-future"),
    "adds an appointment far back (the span grows)": ("--add", "older.yaml"),
}


@pytest.mark.parametrize("name", sorted(PROPOSALS))
def test_what_if_from_the_kept_database_keeps_the_calendar(far, cache_folder, tmp_path, name):
    (tmp_path / "early.yaml").write_text(
        "events:\n  - {id: ev-early, title: An early event, date: 0500-05-05, organizer: itu}\n", encoding="utf-8")
    (tmp_path / "older.yaml").write_text(
        "appointments:\n  - {id: a-older, person: p-adeyemi, role: ip_lead, start: 2010-01-01, end: 2011-01-01, "
        "appointed_by: annual_meeting}\n", encoding="utf-8")
    assert torcheck("check", str(far), *WHAT_IF_ARGS).returncode == 1
    assert list((cache_folder / "results").glob("*.sqlite"))  # the check kept its database
    words = [str(tmp_path / w) if w.endswith(".yaml") else w for w in PROPOSALS[name]]
    kept = torcheck("what-if", str(far), *words, *WHAT_IF_ARGS)
    scratch = torcheck("what-if", str(far), *words, *WHAT_IF_ARGS, "--no-cache")
    assert kept.returncode in (0, 1), kept.stderr
    assert (kept.returncode, kept.stdout, kept.stderr) == (scratch.returncode, scratch.stdout, scratch.stderr)
    if name.startswith("adds an appointment"):
        introduced = {v["rule"] for v in json.loads(kept.stdout)["introduced"]}
        assert "ip-lead-missing-quarterly-meeting" in introduced  # 2010's quarters came into the calendar
