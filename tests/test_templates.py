"""The HTML report and the documentation site are Jinja2 templates: data stays data.

A registry value or a rule's text that looks like markup (`<script>`) or like a
template (`{{ 7*7 }}`, `{% ... %}`) arrives in the pages escaped and as written,
never run by the browser nor evaluated by Jinja2; the templates ship with the
package; the environment refuses a value a template names but is not given.
"""
from __future__ import annotations

import fnmatch
import json
import re
import shutil
import tomllib
from pathlib import Path

import jinja2
import pytest

from checker.model import Location, Report, RuleInfo, Violation
from checker.render import render
from checker.render.templating import environment

from .conftest import FACTS, ROOT, RULES, torcheck

PAYLOAD = "<!-- <script>alert(1)</script> {{ 7*7 }} {% if true %}yes{% endif %} & 'x'"
# the payload as the pages must show it: html.escape's five characters, braces untouched
ESCAPED = ("&lt;!-- &lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} {% if true %}yes{% endif %} "
           "&amp; &#x27;x&#x27;")
TEMPLATES = ROOT / "checker" / "render" / "templates"


def _assert_inert(page: str, where: str) -> None:
    assert ESCAPED in page, where
    assert "<script>alert" not in _without_json(page) and "<!--" not in page, where


def _without_json(page: str) -> str:
    """The page less its search index (a JSON block, checked on its own)."""
    return re.sub(r'<script type="application/json" id="search-data">.*?</script>', "", page, flags=re.S)


def _scripts(page: str) -> int:
    return len(re.findall(r"<script\b", page))


# --- the environment --------------------------------------------------------------------------


def test_environment_escapes_and_is_strict():
    env = environment()
    assert env.autoescape is True
    t = env.from_string("<p title=\"{{ x }}\">{{ x }}</p>")
    assert t.render(x=PAYLOAD) == f'<p title="{ESCAPED}">{ESCAPED}</p>'
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_every_template_compiles_and_ships():
    files = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*") if p.is_file())
    assert {"report.html.j2", "report.css", "print.js", "site/base.html.j2", "site/rule.html.j2",
            "site/site.css", "site/search.js"} <= set(files)
    env = environment()
    for name in files:
        if name.endswith(".j2"):
            env.get_template(name)
    # every file of the folder is package data of a non-editable install
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = conf["tool"]["setuptools"]["package-data"]["checker.render"]
    for name in files:
        path = f"templates/{name}"
        assert any(fnmatch.fnmatch(path, g) for g in globs), f"{path} is not in checker.render's package-data"
    assert "jinja2" in " ".join(conf["project"]["dependencies"]).lower()


# --- the report -------------------------------------------------------------------------------


def _report() -> Report:
    rule = RuleInfo(id="r-1", clause="30", cite="30", severities=("error",), modality="obligation",
                    quote=PAYLOAD, summary=PAYLOAD, message=PAYLOAD, params=(), notes=(PAYLOAD,))
    v = Violation(rule="r-1", clause="30", severity="error", record="rec-1", message=PAYLOAD,
                  because=({"fact": PAYLOAD, "source": "f.yaml:3"}, {"absent": PAYLOAD}),
                  location=Location("f.yaml", 2))
    return Report(as_of="2026-11-28", rulebook="u4ssc", violations=(v,), records=1, rules=(rule,),
                  clause_texts={})


def test_report_shows_rule_text_and_values_inert():
    page = render(_report(), "html")
    _assert_inert(page, "report")
    # summary, note, message, the reason, two tree nodes, and the quote beside the clause
    assert page.count(ESCAPED) >= 6
    assert _scripts(page) == _scripts(render(Report(as_of="2026-11-28", rulebook="u4ssc", violations=(),
                                                     records=0, rules=(), clause_texts={}), "html"))


def test_report_of_a_registry_value_inert(facts_copy, tmp_path):
    f = facts_copy / "external_work.yaml"
    text = f.read_text(encoding="utf-8")
    forum = '"IEEE Smart Cities technical community, working group on urban KPIs"'
    assert forum in text
    f.write_text(text.replace(forum, f'"{PAYLOAD}"'), encoding="utf-8")
    out = tmp_path / "report.html"
    r = torcheck("check", str(facts_copy), "--as-of", "2026-11-28", "--format", "html", "--no-cache",
                 "-o", str(out))
    assert r.returncode == 1, r.stderr
    page = out.read_text(encoding="utf-8")
    _assert_inert(page, "report of the registry")
    assert _scripts(page) == 1  # print.js alone


# --- the site ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_with_payload(tmp_path_factory):
    rules = tmp_path_factory.mktemp("rules") / "u4ssc"
    shutil.copytree(RULES, rules)
    f = rules / "50-conduct.rules"
    text = f.read_text(encoding="utf-8")
    summary = ('summary "The secretariat must be informed immediately of joint or duplicate work in other forums: '
               'work unreported more than 30 days after it started (the rulebook\'s reading of «незамедлительно», 38) '
               'breaches."')
    assert summary in text
    f.write_text(text.replace(summary, f'summary "{PAYLOAD}"\n  note "{PAYLOAD}"', 1), encoding="utf-8")
    out = tmp_path_factory.mktemp("site")
    r = torcheck("docs", "--rules", str(rules), "--out", str(out))
    assert r.returncode == 0, r.stderr
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


def test_site_shows_rule_text_inert(site_with_payload):
    rule = site_with_payload["rules/external-work-not-reported.html"]
    _assert_inert(rule, "rule page")
    # the lead (summary), the note, and the rule's source as written
    assert rule.count(ESCAPED) >= 2
    assert f'<p class="lead">{ESCAPED}</p>' in rule
    assert f"<li>Note: {ESCAPED}</li>" in rule
    clause = site_with_payload["clauses/38.html"]
    _assert_inert(clause, "clause page")
    for name, page in site_with_payload.items():
        assert "<script>alert" not in page.lower(), name
        assert _scripts(page) == (3 if name == "index.html" else 1), name


def test_site_search_index_keeps_the_text_inside_its_script(site_with_payload):
    index = site_with_payload["index.html"]
    _assert_inert(index, "index")
    data = re.search(r'<script type="application/json" id="search-data">(.*?)</script>', index, re.S).group(1)
    assert "</" not in data and "<!--" not in data and "<script" not in data.lower()
    entries = json.loads(data)
    rule = next(e for e in entries if e["id"] == "external-work-not-reported")
    assert rule["x"].startswith(PAYLOAD + " ")  # the summary, as written, for the search box
