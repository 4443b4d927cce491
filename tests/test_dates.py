"""Date arithmetic of the rule language (checker/dates.py): the spec's 29 February rule."""
import pytest

from checker import dates


def test_two_years_after_29_february_is_28_february():
    assert dates.add_years("2024-02-29", 2) == "2026-02-28"
    assert dates.add_years("2024-02-29", 4) == "2028-02-29"
    assert dates.add_years("2024-02-28", 2) == "2026-02-28"


def test_a_day_of_the_year_29_february_falls_on_28_february_in_other_years():
    assert dates.make_date(2025, "02-29") == "2025-02-28"
    assert dates.make_date(2024, "02-29") == "2024-02-29"
    assert dates.make_date(2026, 3, 31) == "2026-03-31"


def test_an_impossible_date_still_fails():
    with pytest.raises(ValueError):
        dates.make_date(2025, 2, 30)


def test_months_keep_the_last_day_of_a_shorter_month():
    assert dates.add_months("2025-01-31", 1) == "2025-02-28"
    assert dates.add_days("2024-02-28", 2) == "2024-03-01"


def test_quarters_are_calendar_quarters_with_exclusive_ends():
    assert list(dates.quarters(2025, 2025))[2] == ("2025-Q3", "2025-07-01", "2025-10-01")
