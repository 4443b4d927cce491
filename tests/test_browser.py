"""The site and the html check report in a real browser: headless Chromium from Debian, driven by selenium.

The pages are opened from files (file://), as a reader would open them from a
folder or an e-mail: they must load without a console error, the search must
find a paragraph, and the print stylesheet must hide what paper does not need.
A screenshot of a paragraph page is written to tests/artifacts/ (ignored by git).

Chromium and its driver are Debian's (`apt-get install chromium chromium-driver`,
which .ci/setup-chromium does in CI). Where they are absent the test is skipped,
except under CI=true, where it must run.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import ROOT, torcheck

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "tests" / "artifacts"


def _why_not() -> str | None:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(DRIVER, os.X_OK)):
        return f"{CHROMIUM} or {DRIVER} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


def _require_browser():
    why = _why_not()
    if why is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test must run: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _require_browser()
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium never looks for a driver on the network
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    _require_browser()
    out = tmp_path_factory.mktemp("browser")
    site = out / "site"
    r = torcheck("docs", "--rules", "rules/u4ssc", "--out", str(site))
    assert r.returncode == 0, r.stderr
    report = out / "report.html"
    r = torcheck("check", "facts/u4ssc", "--as-of", "2026-11-28", "--format", "html", "-o", str(report))
    assert r.returncode == 1, r.stderr  # the example registry has violations
    # the same report linked to the site's rule pages (render(report, "html", docs_base=...))
    from checker.compile import compile_rulebook
    from checker.evaluate import evaluate
    from checker.registry import load_registry
    from checker.render import render

    rb = compile_rulebook(str(ROOT / "rules" / "u4ssc"), "rules/u4ssc")
    reg = load_registry(str(ROOT / "facts" / "u4ssc"), rb.vocabulary, display="facts/u4ssc")
    linked = out / "linked-report.html"
    linked.write_text(render(evaluate(rb, reg, "2026-11-28").report(), "html", docs_base="site"), encoding="utf-8")
    return {"site": site, "report": report, "linked": linked}


def _open(driver, path: Path):
    driver.get_log("browser")  # forget what earlier pages said
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")


def _console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _wait(driver, fn, what, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: fn(d), message=what)


def test_the_site_loads_from_files_without_a_console_error(browser, files):
    from selenium.webdriver.common.by import By

    for page in ("index.html", "coverage.html", "definitions.html", "clauses/36.html",
                 "rules/u4ssc-logo-without-approval.html", "rules/ip-lead-missing-quarterly-meeting.html"):
        _open(browser, files["site"] / page)
        assert browser.find_element(By.TAG_NAME, "h1").text, page
        assert _console_errors(browser) == [], page


def test_the_search_finds_a_paragraph(browser, files):
    from selenium.webdriver.common.by import By

    _open(browser, files["site"] / "index.html")
    box = browser.find_element(By.ID, "q")
    box.send_keys("36")
    first = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results li"), "no search result")[0]
    assert first.get_attribute("data-kind") == "clause"
    assert first.get_attribute("data-id") == "36"
    assert first.find_element(By.TAG_NAME, "a").text == "ToR 36"
    kinds = [(li.get_attribute("data-kind"), li.get_attribute("data-id"))
             for li in browser.find_elements(By.CSS_SELECTOR, "#results li")]
    assert ("rule", "u4ssc-logo-without-approval") in kinds  # the rule that encodes 36
    first.find_element(By.TAG_NAME, "a").click()
    _wait(browser, lambda d: d.current_url.endswith("#p-36"), "the result does not lead to paragraph 36")
    top = browser.execute_script("return document.getElementById('p-36').getBoundingClientRect().top")
    # a browser may scroll to a sub-pixel position (Chromium 156: -0.453125): allow two pixels
    assert -2 <= top < 200  # paragraph 36 is at the top of the window
    section = browser.find_element(By.ID, "p-36")
    assert "Логотип U4SSC" in section.text
    assert "u4ssc-logo-without-approval" in section.text
    assert _console_errors(browser) == []


def test_the_search_reads_english_and_russian(browser, files):
    from selenium.webdriver.common.by import By

    _open(browser, files["site"] / "index.html")
    box = browser.find_element(By.ID, "q")
    for query, expected in (("logo approval", ("rule", "u4ssc-logo-without-approval")),
                            ("письменного согласия", ("clause", "Annex I.4, bullet 2")),
                            ("annex i.3", ("clause", "Annex I.3"))):
        box.clear()
        box.send_keys(query)
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results li"), f"nothing found for {query}")
        hits = [(li.get_attribute("data-kind"), li.get_attribute("data-id"))
                for li in browser.find_elements(By.CSS_SELECTOR, "#results li")]
        assert expected in hits, (query, hits[:5])
    box.clear()
    box.send_keys("zzzz-nothing")
    _wait(browser, lambda d: d.find_element(By.ID, "count").text == "Nothing found.", "no 'Nothing found.'")
    assert _console_errors(browser) == []


def test_a_paragraph_page_screenshot_and_print_layout(browser, files):
    from selenium.webdriver.common.by import By

    _open(browser, files["site"] / "clauses" / "36.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == "ToR 36"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    shot = ARTIFACTS / "clause-36.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    # on paper: no navigation, the rule sources shown
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        nav = browser.find_element(By.CSS_SELECTOR, "nav.top")
        assert nav.value_of_css_property("display") == "none"
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
        assert pdf["data"]
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert _console_errors(browser) == []


def test_the_html_check_report(browser, files):
    from selenium.webdriver.common.by import By

    _open(browser, files["report"])
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("torcheck: u4ssc rulebook, as of 2026-11-28")
    assert browser.find_elements(By.CSS_SELECTOR, "article.violation")
    assert _console_errors(browser) == []
    # linked to the site: a rule id leads to the rule's page
    _open(browser, files["linked"])
    link = browser.find_element(By.CSS_SELECTOR, 'a[href="site/rules/u4ssc-logo-without-approval.html"]')
    link.click()
    _wait(browser, lambda d: d.current_url.endswith("/site/rules/u4ssc-logo-without-approval.html"),
          "the rule link does not open the rule's page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "u4ssc-logo-without-approval"
    assert _console_errors(browser) == []


def test_ci_installs_the_browser():
    script = ROOT / ".ci" / "setup-chromium"
    assert script.is_file() and os.access(script, os.X_OK)
