"""torcheck upcoming: every deadline of the rulebook, the window's boundaries, text, JSON and iCalendar."""
import json

import icalendar
import pytest
from click.testing import CliRunner

from checker.cli import main
from checker.registry import load_registry
from checker.upcoming import horizon, render_ics, upcoming

from .conftest import ROOT

AS_OF = "2026-11-28"

# One record for each deadline of the rulebook, as of 2026-11-28.
REGISTRY = """\
organizations:
  - id: o-un
    name: A UN entity
    type: un_entity
partnerships:
  - id: ps-un
    organization: o-un
    since: 2016-05-18
people:
  - id: p-ip
    name: Programme lead
  - id: p-lead
    name: Thematic lead
meetings:
  - id: m-annual
    kind: annual
    date: 2025-12-01
  - id: m-e-lead
    kind: e_meeting
    date: 2026-11-20
    convened_by: p-lead
  - id: m-e-ip-q3
    kind: e_meeting
    date: 2026-08-01
    participants: [p-ip, secretariat]
appointments:
  - id: a-ip
    person: p-ip
    role: ip_lead
    start: 2026-01-01
    appointed_by: annual_meeting
    at_meeting: m-annual
  - id: a-lead
    person: p-lead
    role: lead
    start: 2025-01-01
    appointed_by: chair
    consulted: [secretariat]
centres:
  - id: c-one
    name: A centre
    scope: city
    partner: o-un
    approved_by: partners
    approved_on: 2025-05-01
external_work:
  - id: w-due-today
    by: p-lead
    forum: A forum
    started: 2026-10-29
"""

EXPECTED_6M = [
    # due, rule, record
    ("2026-11-28", "external-work-not-reported", "w-due-today"),
    ("2026-12-20", "e-meeting-minutes-not-uploaded", "m-e-lead"),
    ("2026-12-31", "term-exceeds-two-years", "a-lead"),
    ("2026-12-31", "ip-lead-missing-quarterly-meeting", "a-ip"),
    ("2026-12-31", "ip-lead-no-progress-report", "a-ip"),
    ("2027-03-31", "centre-missing-annual-report", "c-one"),
    ("2027-03-31", "ip-lead-missing-quarterly-meeting", "a-ip"),
]


@pytest.fixture(autouse=True)
def _at_top(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("reg")
    (d / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def registry(rulebook, folder):
    return load_registry(str(folder), rulebook.vocabulary, display="reg")


def entries(cal):
    return [(e.due, e.rule, e.record) for e in cal.entries]


def test_every_kind_of_deadline(rulebook, registry):
    cal = upcoming(rulebook, registry, AS_OF, horizon(AS_OF, "6m"))
    assert entries(cal) == EXPECTED_6M
    assert upcoming(rulebook, registry, AS_OF, horizon(AS_OF, "6m"), "sqlite") == cal
    assert {e.deadline for e in cal.entries} == {d.id for d in rulebook.deadlines}
    quarterly = [e for e in cal.entries if e.rule == "ip-lead-missing-quarterly-meeting"]
    assert [e.message for e in quarterly] == [
        "Implementation Programme lead p-ip still needs an e-meeting with the secretariat in 2026-Q4: due by 2026-12-31",
        "Implementation Programme lead p-ip still needs an e-meeting with the secretariat in 2027-Q1: due by 2027-03-31",
    ]
    assert cal.entries[0].clause == "38" and str(cal.entries[0].location) == "reg/registry.yaml:47"


def test_nothing_overdue_is_listed_and_check_reports_it(rulebook, registry):
    """What is due before the as-of date is a violation; a day earlier it was upcoming."""
    from checker.evaluate import evaluate

    later = "2026-11-29"
    assert ("2026-11-28", "external-work-not-reported", "w-due-today") not in \
        entries(upcoming(rulebook, registry, later, horizon(later, "90d")))
    vs = evaluate(rulebook, registry, later).violations()
    assert ("external-work-not-reported", "w-due-today") in {(v.rule, v.record) for v in vs}
    assert ("external-work-not-reported", "w-due-today") not in \
        {(v.rule, v.record) for v in evaluate(rulebook, registry, AS_OF).violations()}


@pytest.mark.parametrize("within,through", [("90d", "2027-02-26"), ("33d", "2026-12-31"), ("32d", "2026-12-30"),
                                            ("0d", "2026-11-28"), ("2w", "2026-12-12"), ("3m", "2027-02-28"),
                                            ("4m", "2027-03-28")])
def test_the_window_includes_both_ends(rulebook, registry, within, through):
    assert horizon(AS_OF, within) == through
    got = entries(upcoming(rulebook, registry, AS_OF, through))
    assert got == [x for x in EXPECTED_6M if x[0] <= through]


def test_boundaries_on_the_window(rulebook, registry):
    # due on the as-of date: listed; on as_of + within: listed; one day later: not
    assert entries(upcoming(rulebook, registry, AS_OF, "2026-11-28"))[0][0] == "2026-11-28"
    assert entries(upcoming(rulebook, registry, "2026-11-20", "2026-12-20"))[-1] == \
        ("2026-12-20", "e-meeting-minutes-not-uploaded", "m-e-lead")
    assert "m-e-lead" not in [r for _, _, r in entries(upcoming(rulebook, registry, "2026-11-20", "2026-12-19"))]


def test_within_spans():
    assert horizon("2026-01-31", "1m") == "2026-02-28"
    assert horizon("2024-02-29", "12m") == "2025-02-28"
    assert horizon("2026-11-28", "1w") == "2026-12-05"
    assert horizon("9999-12-01", "90d") == "9999-12-31"
    for bad in ("90", "d", "-1d", "1y", "1.5m", "90 d", "12345d"):
        with pytest.raises(ValueError):
            horizon(AS_OF, bad)


# ---------------------------------------------------------------- the command and its formats


def run(*args):
    r = CliRunner().invoke(main, ["upcoming", *args], catch_exceptions=False)
    return r.exit_code, r.stdout_bytes, r.stderr


def test_text(folder):
    code, out, _ = run(str(folder), "--as-of", AS_OF, "--within", "33d")
    lines = out.decode().splitlines()
    assert code == 0
    assert lines[0] == "torcheck: u4ssc rulebook, due from 2026-11-28 through 2026-12-31"
    assert lines[2].startswith("2026-11-28  ToR 38  external-work-not-reported  w-due-today  ")
    assert lines[3] == "    Report external work w-due-today in A forum, started 2026-10-29, to the secretariat by 2026-11-28"
    assert lines[-1] == "5 deadlines from 2026-11-28 through 2026-12-31"


def test_json(folder):
    code, out, _ = run(str(folder), "--as-of", AS_OF, "--within", "6m", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert list(data) == ["as_of", "through", "rulebook", "deadlines"]
    assert (data["as_of"], data["through"]) == (AS_OF, "2027-05-28")
    assert [(d["due"], d["rule"], d["record"]) for d in data["deadlines"]] == EXPECTED_6M
    assert list(data["deadlines"][0]) == ["due", "rule", "clause", "record", "message", "deadline"]


def test_a_bad_within_is_a_usage_error(folder):
    code, out, err = run(str(folder), "--within", "soon")
    assert code == 2 and out == b""
    assert "Invalid value for '--within'" in err


def test_ics_is_valid_stable_crlf_and_folded(folder, tmp_path):
    code, out, _ = run(str(folder), "--as-of", AS_OF, "--within", "6m", "--format", "ics")
    assert code == 0
    assert out.endswith(b"\r\n") and b"\n" not in out.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in out.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(out)
    assert str(cal["VERSION"]) == "2.0" and "torcheck" in str(cal["PRODID"])
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(EXPECTED_6M)
    assert len({str(e["UID"]) for e in events}) == len(events)
    first = events[0]
    assert first.decoded("DTSTART").isoformat() == "2026-11-28"  # an all-day event: a date, not a time
    assert first.decoded("DTEND").isoformat() == "2026-11-29"
    assert first.decoded("DTSTAMP").isoformat() == "2026-11-28T00:00:00+00:00"
    assert str(first["UID"]) == "external-work-not-reported/w-due-today/2026-11-28@torcheck"
    assert str(first["SUMMARY"]) == \
        "Report external work w-due-today in A forum, started 2026-10-29, to the secretariat by 2026-11-28"
    # a second run, written with -o: the same bytes
    target = tmp_path / "due.ics"
    run(str(folder), "--as-of", AS_OF, "--within", "6m", "--format", "ics", "-o", str(target))
    assert target.read_bytes() == out


def test_ics_folds_long_lines_between_characters_and_escapes_text(rulebook, tmp_path):
    long_forum = "Форум; " + "очень длинное название, " * 6 + "и т. д.\\ конец"
    d = tmp_path / "reg"
    d.mkdir()
    (d / "r.yaml").write_text(f"""\
people:
  - id: p1
    name: One
external_work:
  - id: w1
    by: p1
    forum: "{long_forum.replace(chr(92), chr(92) * 2)}"
    started: 2026-11-01
""", encoding="utf-8")
    reg = load_registry(str(d), rulebook.vocabulary)
    cal = upcoming(rulebook, reg, AS_OF, horizon(AS_OF, "90d"))
    raw = render_ics(cal).encode("utf-8")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    raw.decode("utf-8")  # no line was cut inside a character
    parsed = icalendar.Calendar.from_ical(raw)
    (ev,) = parsed.walk("VEVENT")
    assert str(ev["SUMMARY"]) == cal.entries[0].message
    assert long_forum in str(ev["SUMMARY"])
