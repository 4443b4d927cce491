"""The engine's calendar at the ends of the date range: a clean check, never a traceback."""
from click.testing import CliRunner

from checker.cli import main


def test_check_as_of_the_last_year_python_dates_reach(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "organizations:\n  - {id: o-city, name: A city, type: city}\n"
        "partnerships:\n  - {id: ps-city, organization: o-city, since: 2025-01-01}\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["check", str(tmp_path), "--as-of", "9999-12-01", "--format", "json"])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert out.exit_code == 1
    assert '"as_of": "9999-12-01"' in out.output and '"record": "ps-city"' in out.output
