"""check --format html --docs-base links each violation's rule to its page of the docs site."""
from click.testing import CliRunner

from checker.cli import main

from .conftest import FACTS


def test_html_report_links_rules_to_the_site():
    out = CliRunner().invoke(main, ["check", str(FACTS), "--as-of", "2026-11-28", "--format", "html",
                                    "--docs-base", "site"])
    assert out.exit_code == 1
    assert 'href="site/rules/partner-not-un-entity.html"' in out.output


def test_no_links_without_docs_base():
    out = CliRunner().invoke(main, ["check", str(FACTS), "--as-of", "2026-11-28", "--format", "html"])
    assert "rules/partner-not-un-entity.html" not in out.output
