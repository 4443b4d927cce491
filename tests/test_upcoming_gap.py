"""upcoming after a break in office: a later appointment does not make a quarter or year of the current
holding period fall due, and agrees with what `check` reports once the dates have passed."""
from click.testing import CliRunner

from checker.cli import main

REGISTRY = """\
people:
  - id: p-a
    name: A
meetings:
  - id: m-annual
    kind: annual
    date: 2025-12-01
appointments:
  - id: a-1
    person: p-a
    role: ip_lead
    start: 2026-01-01
    end: 2026-02-15
    appointed_by: annual_meeting
    at_meeting: m-annual
  - id: a-2
    person: p-a
    role: ip_lead
    start: 2026-03-01
    end: 2026-12-31
    appointed_by: annual_meeting
    at_meeting: m-annual
"""


def _run(tmp_path, *args):
    (tmp_path / "r.yaml").write_text(REGISTRY, encoding="utf-8")
    return CliRunner().invoke(main, [args[0], str(tmp_path), *args[1:]])


def test_no_quarter_due_from_an_appointment_after_the_break(tmp_path):
    out = _run(tmp_path, "upcoming", "--as-of", "2026-01-10", "--within", "90d", "--format", "json")
    assert out.exit_code == 0, out.output
    assert "2026-Q1" not in out.output


def test_check_agrees_the_broken_quarter_is_not_covered(tmp_path):
    out = _run(tmp_path, "check", "--as-of", "2026-04-02", "--format", "json")
    assert "ip-lead-missing-quarterly-meeting" not in out.output


def test_the_quarter_within_the_second_period_falls_due(tmp_path):
    out = _run(tmp_path, "upcoming", "--as-of", "2026-04-01", "--within", "91d", "--format", "json")
    assert out.exit_code == 0, out.output
    assert "2026-Q2" in out.output and "a-2" in out.output
