"""`torcheck docs`: the rulebook as a static site, read as a lawyer would, and byte-stable."""
from __future__ import annotations

import json
import re
import shutil
from html import unescape
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from checker.cli import main
from checker.docs import build_site, highlight, slug

from .conftest import FACTS, RULES, torcheck

VOID = {"meta", "link", "br", "input", "img", "hr"}


class Balance(HTMLParser):
    """Every element closed, in order; ids unique."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.ids, self.errors = [], set(), []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "id":
                if v in self.ids:
                    self.errors.append(f"duplicate id {v}")
                self.ids.add(v)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    r = torcheck("docs", "--rules", "rules/u4ssc", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    return out


@pytest.fixture(scope="module")
def pages(site):
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def test_the_pages(site, pages, rulebook):
    expected = {"index.html", "coverage.html", "definitions.html"}
    expected |= {f"clauses/{slug(c)}.html" for c, _ in rulebook.clauses}
    expected |= {f"rules/{r.info.id}.html" for r in rulebook.rules}
    assert set(pages) == expected
    assert "clauses/36.html" in pages and "clauses/annex-i-4-bullet-2.html" in pages


def test_every_page_is_well_formed_and_self_contained(pages):
    for name, html in pages.items():
        b = Balance()
        b.feed(html)
        assert not b.errors and not b.stack, (name, b.errors[:3], b.stack)
        assert html.startswith("<!DOCTYPE html>\n") and html.endswith("</html>\n")
        # nothing fetched: no external stylesheet, script, font or image
        assert not re.search(r'<(link|script|img)[^>]+(href|src)="(?!data:)', html), name
        assert not re.search(r'(href|src)="(https?:)?//', html), name
        assert "@import" not in html and "url(" not in html


def test_links_between_pages_resolve(site, pages):
    for name, html in pages.items():
        here = (site / name).parent
        for href in re.findall(r'href="([^"#:]+)(#[^"]*)?"', html):
            target = (here / unescape(href[0])).resolve()
            assert target.is_file(), (name, href)
            if href[1]:
                anchor = href[1][1:]
                assert f'id="{anchor}"' in (target.read_text(encoding="utf-8")), (name, href)


def test_the_index_shows_every_paragraph_in_order_in_russian(pages, rulebook):
    index = pages["index.html"]
    ids = re.findall(r'<section class="clause" id="p-[^"]+" data-clause="([^"]+)">', index)
    assert [unescape(i) for i in ids] == [c for c, _ in rulebook.clauses]
    text = unescape(re.sub(r"<[^>]+>", "", index))
    for cid, t in rulebook.clauses:
        assert t in text, cid


def _section(html, cid):
    m = re.search(rf'<section class="clause" id="p-{slug(cid)}".*?</section>', html, re.S)
    assert m, cid
    return m.group(0)


def test_an_encoded_paragraph_beside_its_rule(pages):
    sec = _section(pages["index.html"], "36")
    assert '<a href="rules/u4ssc-logo-without-approval.html"><code>u4ssc-logo-without-approval</code></a>' in sec
    assert '<span class="sev sev-error">error</span> or <span class="sev sev-warning">warning</span>' in sec
    assert "prohibition (may not)" in sec
    assert "The U4SSC logo may be used only with the secretariat&#x27;s approval" in sec
    assert "Note: tor-notes 16" in sec
    # the words the rule quotes are marked in the Russian text
    assert ("<mark>Он может быть использован только после получения необходимого одобрения "
            "секретариата U4SSC.</mark>") in sec
    # the rule as written, highlighted at build time
    assert '<span class="k">rule</span> <span class="i">u4ssc-logo-without-approval</span>' in sec
    assert '<span class="s">&quot;36&quot;</span>' in sec


def test_declared_readings_beside_the_rule(pages):
    sec = _section(pages["index.html"], "20(e)")
    assert 'minutes_grace_days</a> = 30 days (cites 20(e))</dt><dd>20(e) asks leads to upload' in sec


def test_a_paragraph_no_rule_encodes_says_why(pages, rulebook):
    sec = _section(pages["index.html"], "33")
    assert '<p class="status status-not_computable">Not computable</p>' in sec
    assert rulebook.coverage["33"].reason.split(".")[0].replace("'", "&#x27;") in sec
    sec = _section(pages["index.html"], "Annex II")
    assert "Data</p>" in sec


def test_a_chapeau_lists_the_rules_of_its_parts(pages):
    sec = _section(pages["index.html"], "Annex I.4")
    assert "Encoded through its parts:" in sec
    assert '<li><a href="#p-annex-i-4-bullet-3">Annex I.4, bullet 3</a>: ' \
           '<a href="rules/ip-lead-appointment-without-consent.html">' in sec


def test_a_rule_page_with_its_examples(pages, rulebook):
    page = pages["rules/term-exceeds-two-years.html"]
    assert "<h1><code>term-exceeds-two-years</code></h1>" in page
    assert "<mark>Срок полномочий Председателя, заместителей Председателя и руководителей U4SSC составляет " \
           "два года.</mark>" in page
    assert "<h2>Examples</h2>" in page
    for kind in ("Violating", "Near miss", "Boundary"):
        assert f"<h3>{kind}</h3>" in page
    # a case: its registry as written in the case file, the as-of date, what the check must report
    assert "<p><strong>A lead appointed for three years</strong></p>" in page
    assert "As of 2026-06-01. The registry:" in page
    assert ("people:\n  - {id: p-cai, name: Cai}\nappointments:\n  - {id: a-lead, person: p-cai, role: lead, "
            "start: 2025-01-01, end: 2028-01-01,\n     appointed_by: chair") in page
    assert ("<li><code>a-lead</code> <span class=\"sev sev-error\">error</span>: Appointment a-lead of p-cai "
            "as lead runs beyond two years from 2025-01-01</li>") in page
    assert "Expected: <strong>no violation</strong> of this rule." in page
    # what falls due, and the helpers a rule rests on
    assert "<h2>What falls due</h2>" in page and "term-reaches-two-years" in page
    assert '<h3 id="helper-is_partner"><code>is_partner</code>' in pages["rules/centre-without-partner.html"]
    n_cases = page.count('<div class="example">')
    assert n_cases == sum(1 for line in (RULES / "tests" / "term-exceeds-two-years.yaml").read_text(
        encoding="utf-8").splitlines() if line.startswith("  - name:"))


def test_the_coverage_table_and_the_definitions(pages, rulebook):
    cov = pages["coverage.html"]
    assert cov.count("<tr id=") == len(rulebook.clauses)
    assert '<td class="status status-encoded">Encoded</td><td><a href="rules/partner-not-un-entity.html">' in cov
    defs = pages["definitions.html"]
    for name in rulebook.params:
        assert f'id="param-{name}"' in defs
    for name in rulebook.helpers:
        assert f'id="helper-{name}"' in defs


def test_the_search_index(pages, rulebook):
    index = pages["index.html"]
    m = re.search(r'<script type="application/json" id="search-data">(.*?)</script>', index, re.S)
    data = json.loads(m.group(1))
    clauses = [e for e in data if e["k"] == "clause"]
    rules = [e for e in data if e["k"] == "rule"]
    assert [e["id"] for e in clauses] == [c for c, _ in rulebook.clauses]
    assert {e["id"] for e in rules} == {r.info.id for r in rulebook.rules}
    e36 = next(e for e in clauses if e["id"] == "36")
    assert e36["u"] == "index.html#p-36" and "Логотип U4SSC" in e36["x"]
    assert '<input id="q" type="search"' in index


def test_the_print_stylesheet(pages):
    css = re.search(r"<style>(.*?)</style>", pages["index.html"], re.S).group(1)
    assert "@media print" in css and "@page" in css
    assert 'addEventListener("beforeprint"' in pages["rules/term-exceeds-two-years.html"]


def test_the_same_rulebook_gives_the_same_site_wherever_it_lies(site, pages, tmp_path):
    copy = tmp_path / "elsewhere" / "u4ssc"
    shutil.copytree(RULES, copy)
    out = tmp_path / "again"
    r = CliRunner().invoke(main, ["docs", "--rules", str(copy), "--out", str(out)])
    assert r.exit_code == 0, r.output
    again = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}
    assert again == pages
    assert str(tmp_path) not in "".join(again.values())


def test_highlight_keeps_the_text():
    src = (RULES / "30-publications-and-ip.rules").read_text(encoding="utf-8")
    lines = highlight(src)
    assert len(lines) == len(src.splitlines())
    assert unescape(re.sub(r"<[^>]+>", "", "\n".join(lines))) == src.rstrip("\n")


def test_build_site_is_a_library_call(rulebook):
    a = build_site(rulebook)
    assert a == build_site(rulebook)
    assert "rules/non-partner-logo.html" in a
    assert "This rule has no test cases." in a["rules/non-partner-logo.html"]  # no cases given


def test_a_rulebook_that_does_not_compile(tmp_path):
    (tmp_path / "x.rules").write_text("rule broken when\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["docs", "--rules", str(tmp_path), "--out", str(tmp_path / "site")])
    assert r.exit_code == 2
    assert f"{tmp_path.as_posix()}/x.rules:1:" in r.stderr
    assert not (tmp_path / "site").exists()


def test_an_invalid_case_file(tmp_path):
    copy = tmp_path / "u4ssc"
    shutil.copytree(RULES, copy)
    (copy / "tests" / "partner-not-un-entity.yaml").write_text("rule: partner-not-un-entity\ncases: 3\n",
                                                                encoding="utf-8")
    r = CliRunner().invoke(main, ["docs", "--rules", str(copy), "--out", str(tmp_path / "site")])
    assert r.exit_code == 2
    assert "partner-not-un-entity.yaml:2:8: error[case-shape]" in r.stderr


def test_the_html_check_report_links_to_the_rule_pages(pages, rulebook):
    from checker.evaluate import evaluate
    from checker.registry import load_registry
    from checker.render import render

    reg = load_registry(str(FACTS), rulebook.vocabulary, display="facts/u4ssc")
    report = evaluate(rulebook, reg, "2026-11-28").report()
    html = render(report, "html", docs_base="../site")
    linked = set(re.findall(r'href="\.\./site/rules/([^"]+)\.html"', html))
    assert linked and linked <= {r.info.id for r in rulebook.rules}
    assert all(f"rules/{r}.html" in pages for r in linked)
