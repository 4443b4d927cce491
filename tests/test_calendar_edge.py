"""The engine's calendar at the ends of the date range: a clean check, never a traceback."""
from click.testing import CliRunner

from checker.cli import main

from .conftest import FACTS


def test_check_as_of_the_last_year_python_dates_reach():
    out = CliRunner().invoke(main, ["check", str(FACTS), "--as-of", "9999-12-01", "--format", "json"])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert out.exit_code == 1
    assert '"as_of": "9999-12-01"' in out.output
