"""The renderers (checker.render) on a fixed report built by hand.

Golden outputs live in tests/data/render/report.<ext>; re-record them with

    TORCHECK_RECORD=1 pytest tests/test_render.py

and review the diff by eye before committing.

tests/data/sarif-2.1.0.json is the official SARIF 2.1.0 JSON schema, unmodified,
as shipped in the npm package @microsoft/sarif-multitool-linux 5.7.0
(package/sarif-2.1.0.json; SARIF SDK, MIT licence;
sha256 1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c).
It declares JSON Schema draft 2020-12.

Test dependencies: jsonschema (SARIF validation), junitparser (JUnit XML).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from checker import __version__
from checker.model import Location, Param, Report, RuleInfo, Violation
from checker.render import FORMATS, render
from checker.render.text import HINT

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "render"
RECORD = os.environ.get("TORCHECK_RECORD") == "1"
EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml",
              "markdown": "md", "html": "html"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _rule(id, clause, severities, summary, quote, params=(), notes=(), cite=None):
    return RuleInfo(
        id=id, clause=clause, cite=cite or clause, severities=severities, modality="must",
        quote=quote, summary=summary, message="…", params=params, notes=notes,
    )


RULES = (
    _rule("tor-not-submitted-by-secretariat", "9", ("error",),
          "A ToR revision is submitted by the secretariat.",
          "Проект круга ведения вносится секретариатом"),
    _rule("non-partner-logo", "29", ("notice",),
          "Partners may place their logos on U4SSC publications.",
          "Все партнеры U4SSC имеют право размещать свои официальные логотипы"),
    _rule("centre-without-partner", "30", ("error",),
          "A centre works with a partner for as long as it exists.",
          "Такие центры работают в сотрудничестве с одним из партнеров U4SCC."),
    _rule("centre-missing-annual-report", "30", ("warning",),
          "A centre reports on its work every year.",
          "Центры представляют ежегодный отчет",
          params=(Param("annual_report_due", "31 March", "the next year's 31 March"),)),
    _rule("ip-lead-represents-partner", "Annex I.4", ("error",),
          "The Implementation Programme lead may not represent a partner.",
          "Руководитель ПО не может представлять ни одного из партнеров U4SSC",
          notes=("Annex I.4 spells the secretariat U4SCC; read as U4SSC.",),
          cite="Annex I.4, bullet 1"),
)

VIOLATIONS = (
    Violation(
        rule="non-partner-logo", clause="29", severity="notice", record="pub-2026-05",
        message='Publication pub-2026-05 carries the logo of «Ёлки | R&D <Lab>», '
                'which is not a partner',
        because=(
            {"fact": 'publication pub-2026-05 "Города & люди" carries logo o-elki',
             "source": "facts/u4ssc/publications.yaml:31"},
            {"absent": "partnership of o-elki in force on 2026-05-04"},
        ),
        location=None,
    ),
    Violation(
        rule="centre-without-partner", clause="30", severity="error", record="ctr-1",
        message="Centre ctr-1 works with o-city, which is not a partner on 2026-11-28",
        because=(
            {"fact": "centre ctr-1 works with o-city", "source": "facts/u4ssc/centres.yaml:6"},
            {"absent": "partnership of o-city in force on 2026-11-28"},
        ),
        location=Location("facts/u4ssc/centres.yaml", 4),
    ),
    Violation(
        rule="centre-missing-annual-report", clause="30", severity="warning", record="ctr-1",
        message="Centre ctr-1 has no annual report for 2025",
        because=(
            {"fact": "centre ctr-1 approved on 2024-02-01", "source": "facts/u4ssc/centres.yaml:7"},
            {"param": "annual_report_due", "value": "31 March"},
            {"absent": "report of kind centre_annual by ctr-1 for 2025"},
        ),
        location=Location("facts/u4ssc/centres.yaml", 4),
    ),
    Violation(
        rule="ip-lead-represents-partner", clause="Annex I.4", severity="error",
        record="rep-3",
        message="p-ana represented o-x (a partner) on 2026-03-01 while Implementation "
                "Programme lead",
        because=(
            {"holds": "p-ana holds ip_lead on 2026-03-01", "because": [
                {"fact": "appointment a-7: p-ana as ip_lead from 2025-06-01",
                 "source": "facts/u4ssc/appointments.yaml:40"},
                {"holds": "a-7 is in force on 2026-03-01", "because": [
                    {"absent": "end of a-7 on or before 2026-03-01"},
                ]},
            ]},
            {"holds": "o-x is a partner on 2026-03-01", "because": [
                {"fact": "partnership ps-2 of o-x since 2024-01-01",
                 "source": "facts/u4ssc/partnerships.yaml:12"},
            ]},
            {"fact": 'representation rep-3 by p-ana on behalf of o-x ("Smart & Co") '
                     "on 2026-03-01",
             "source": "facts/u4ssc/representations.yaml:3"},
        ),
        location=Location("facts/u4ssc/representations.yaml", 1, 3),
    ),
)

REPORT = Report(
    as_of="2026-11-28", rulebook="u4ssc", violations=VIOLATIONS, rules=RULES, records=42,
    clause_texts={
        "29": "29. Все партнеры U4SSC имеют право размещать свои официальные логотипы на "
              "веб-сайте инициативы, в публикациях <…> & планах действий.",
        "30": "30. Партнеры U4SSC также рассматривают и утверждают запросы о создании "
              "(страновых/городских) центров U4SCC.\nТакие центры работают в "
              "сотрудничестве с одним из партнеров U4SCC.",
    },
)

EMPTY = Report(as_of="2026-11-28", rulebook="u4ssc", violations=(), rules=RULES, records=1)


# --- golden outputs and determinism -------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt):
    out = render(REPORT, fmt)
    path = GOLDEN / f"report.{EXTENSIONS[fmt]}"
    if RECORD:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(out.encode("utf-8"))
    assert out == path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(fmt):
    assert render(REPORT, fmt) == render(REPORT, fmt)
    # a report built afresh, equal but not the same objects, renders the same
    rebuilt = Report(REPORT.as_of, REPORT.rulebook, tuple(VIOLATIONS), tuple(RULES),
                     REPORT.records, dict(reversed(list(REPORT.clause_texts.items()))))
    assert render(rebuilt, fmt) == render(REPORT, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_names_every_violation(fmt):
    out = render(REPORT, fmt)
    for v in VIOLATIONS:
        assert v.rule in out and v.record in out
    # where each record is written; every format but text also gives each fact's source
    # (text keeps a one-line reason: the whole tree is `torcheck explain`'s)
    for where in ("centres.yaml", "representations.yaml") + (("appointments.yaml",) if fmt != "text" else ()):
        assert where in out
    assert "Ёлки" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_an_empty_report(fmt):
    out = render(EMPTY, fmt)
    assert out.endswith("\n")
    if fmt != "json":
        assert "pub-2026-05" not in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_rule_the_report_does_not_list(fmt, sarif_schema):
    # e.g. a report narrowed to some rules: every violation is still rendered
    report = Report(REPORT.as_of, REPORT.rulebook, VIOLATIONS, (), REPORT.records)
    out = render(report, fmt)
    for v in VIOLATIONS:
        assert v.rule in out and v.message.split(" ")[-1] in out
    if fmt == "sarif":
        log = json.loads(out)
        assert all("ruleIndex" not in r for r in log["runs"][0]["results"])
        jsonschema.validators.validator_for(sarif_schema)(sarif_schema).validate(log)


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        render(REPORT, "yaml")


# --- json ------------------------------------------------------------------------------


def test_json_is_cli_md_shape():
    out = render(REPORT, "json")
    assert out == json.dumps(REPORT.to_json(), ensure_ascii=False, indent=2) + "\n"
    data = json.loads(out)
    assert list(data) == ["as_of", "rulebook", "violations", "summary"]
    assert [list(v) for v in data["violations"]] == [
        ["rule", "clause", "severity", "record", "message", "because"]
    ] * 4
    assert list(data["summary"]) == ["error", "warning", "notice", "records", "rules"]
    assert data["summary"] == {"error": 2, "warning": 1, "notice": 1, "records": 42, "rules": 5}
    assert [v["record"] for v in data["violations"]] == ["pub-2026-05", "ctr-1", "ctr-1", "rep-3"]
    assert data["violations"][3]["because"][0]["because"][1] == {
        "holds": "a-7 is in force on 2026-03-01",
        "because": [{"absent": "end of a-7 on or before 2026-03-01"}],
    }
    assert "«Ёлки | R&D <Lab>»" in out  # not \u-escaped


# --- text ------------------------------------------------------------------------------


def test_text_plain_and_coloured():
    plain = render(REPORT, "text")
    coloured = render(REPORT, "text", color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31merror\x1b[0m" in coloured
    assert "\x1b[33mwarning\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_text_groups_by_clause_and_explains():
    out = render(REPORT, "text")
    headings = [line for line in out.splitlines() if line.startswith("ToR ")]
    assert headings == [
        "ToR 29 (non-partner-logo)",
        "ToR 30 (centre-without-partner, centre-missing-annual-report)",
        "ToR Annex I.4 (ip-lead-represents-partner)",
    ]
    assert "  error    ctr-1  facts/u4ssc/centres.yaml:4  [centre-without-partner]" in out
    assert "  notice   pub-2026-05\n" in out  # no location: nothing after the record
    # one line of reason: what was looked for and not found, when anything was ...
    assert "    why: no partnership of o-city in force on 2026-11-28 found\n" in out
    # ... with the parameters used ...
    assert ("    why: no report of kind centre_annual by ctr-1 for 2025 found "
            "(annual_report_due = 31 March)\n") in out
    # ... else the top-level facts and conclusions, without their sources
    assert ("    why: p-ana holds ip_lead on 2026-03-01; o-x is a partner on 2026-03-01; representation "
            'rep-3 by p-ana on behalf of o-x ("Smart & Co") on 2026-03-01\n') in out
    assert all(line.startswith(("ToR ", "  ", "torcheck: ")) or line in ("", HINT) or line[0].isdigit()
               for line in out.splitlines())  # no tree: explain's
    assert out.rstrip("\n").splitlines()[-2:] == [
        "2 errors, 1 warning, 1 notice in 42 records checked against 5 rules", HINT,
    ]


def test_text_one_line_reason_parts():
    from checker.render.explain import crisp, param_value

    assert crisp([{"fact": "a", "source": "f:1"}, {"absent": "b"}, {"param": "p", "value": "--03-31"}]) == (
        "no b found (p = 31 March every year)")
    assert crisp([{"fact": "a", "source": "f:1"}, {"holds": "c", "because": [{"absent": "d"}]}]) == "a; c"
    assert crisp([{"param": "p", "value": "30 days"}]) == "(p = 30 days)"
    assert param_value("--02-29") == "--02-29 (29 February every year)"
    assert param_value("--02-30") == "--02-30"
    assert param_value("30 days") == "30 days"


def test_text_empty_report():
    out = render(EMPTY, "text")
    assert out.splitlines()[-1] == "No violations in 1 record checked against 5 rules"
    assert HINT not in out


# --- sarif -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema():
    return json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("report", [REPORT, EMPTY], ids=["report", "empty"])
def test_sarif_validates_against_the_official_schema(sarif_schema, report):
    log = json.loads(render(report, "sarif"))
    validator = jsonschema.validators.validator_for(sarif_schema)
    validator.check_schema(sarif_schema)
    errors = sorted(validator(sarif_schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_sarif_content():
    log = json.loads(render(REPORT, "sarif"))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("torcheck", __version__)
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    logo = driver["rules"][1]
    assert logo["name"] == "NonPartnerLogo"
    assert logo["shortDescription"]["text"] == RULES[1].summary
    assert "ToR 29" in logo["fullDescription"]["text"]
    assert RULES[1].quote in logo["fullDescription"]["text"]
    assert logo["defaultConfiguration"]["level"] == "note"
    assert logo["properties"]["clause"] == "29"
    assert logo["properties"]["modality"] == "must"
    assert driver["rules"][4]["name"] == "IpLeadRepresentsPartner"
    assert driver["rules"][4]["properties"]["cite"] == "Annex I.4, bullet 1"

    results = run["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("non-partner-logo", 1, "note"),
        ("centre-without-partner", 2, "error"),
        ("centre-missing-annual-report", 3, "warning"),
        ("ip-lead-represents-partner", 4, "error"),
    ]
    assert "locations" not in results[0]
    assert results[1]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "facts/u4ssc/centres.yaml"}, "region": {"startLine": 4},
    }
    assert results[1]["message"]["text"] == (
        VIOLATIONS[1].message + "\nWhy: no partnership of o-city in force on 2026-11-28 found"
    )
    assert results[3]["properties"]["because"] == list(VIOLATIONS[3].because)
    related = results[3]["relatedLocations"]
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in related] == [
        "facts/u4ssc/appointments.yaml", "facts/u4ssc/partnerships.yaml",
        "facts/u4ssc/representations.yaml",
    ]


def test_sarif_fingerprints_follow_rule_record_message():
    fps = [r["partialFingerprints"]["torcheckViolation/v1"]
           for r in json.loads(render(REPORT, "sarif"))["runs"][0]["results"]]
    assert len(set(fps)) == 4
    v = VIOLATIONS[1]
    assert fps[1] == hashlib.sha256(f"{v.rule}\x1f{v.record}\x1f{v.message}".encode()).hexdigest()
    # the location or the explanation may change; the fingerprint does not
    moved = Violation(v.rule, v.clause, v.severity, v.record, v.message, (),
                      Location("elsewhere.yaml", 99))
    again = json.loads(render(Report("2027-01-01", "u4ssc", (moved,), RULES, 1), "sarif"))
    assert again["runs"][0]["results"][0]["partialFingerprints"]["torcheckViolation/v1"] == fps[1]


# --- junit -----------------------------------------------------------------------------


def test_junit_parses_with_counts(tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(render(REPORT, "junit"), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = {s.name: s for s in xml}
    assert list(suites) == [r.id for r in RULES]
    assert (xml.tests, xml.failures, xml.errors) == (5, 4, 0)
    assert (suites["centre-without-partner"].tests, suites["centre-without-partner"].failures) == (1, 1)

    passing = list(suites["tor-not-submitted-by-secretariat"])
    assert [(c.classname, c.name, c.is_passed) for c in passing] == [
        ("tor-not-submitted-by-secretariat", "no violations", True)
    ]
    (case,) = suites["non-partner-logo"]
    assert case.classname == "non-partner-logo"
    assert case.name == "pub-2026-05: " + VIOLATIONS[0].message
    (failure,) = case.result
    assert isinstance(failure, Failure)
    assert failure.type == "notice"  # every reported violation fails, a notice too
    assert failure.message == VIOLATIONS[0].message
    assert "Clause: ToR 29" in failure.text
    assert "Location: unknown" in failure.text
    assert "no partnership of o-elki in force on 2026-05-04 found" in failure.text

    (case,) = suites["ip-lead-represents-partner"]
    text = case.result[0].text
    assert "Location: facts/u4ssc/representations.yaml:1:3" in text
    assert "      - no end of a-7 on or before 2026-03-01 found" in text  # depth 2


def test_junit_empty_report_passes():
    root = ET.fromstring(render(EMPTY, "junit").encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("5", "0")
    assert not root.findall(".//failure")


# --- markdown --------------------------------------------------------------------------


def test_markdown_tables_and_escaping():
    out = render(REPORT, "markdown")
    assert "| error | 2 |" in out and "| notice | 1 |" in out
    assert "| 30 | `centre-missing-annual-report` | 1 |" in out
    # registry text never becomes markup or breaks a table
    assert r"«Ёлки \| R\&D \<Lab\>»" in out
    assert "<Lab>" not in out
    assert "  - no partnership of o\\-elki" not in out  # "-" is only escaped at a line's start
    assert "    - no end of a\\-7" not in out
    assert "      - no end of a-7 on or before 2026\\-03\\-01 found" not in out
    assert "      - no end of a-7 on or before 2026-03-01 found" in out  # depth 2


def test_markdown_escapes_line_starts_and_code_spans():
    from checker.render.markdown import code, line_start, text

    assert text("a_b *c* [d](e) 1. #2") == r"a\_b \*c\* \[d\](e) 1. #2"
    assert line_start(text("# not a heading")) == r"\# not a heading"
    assert line_start(text("1. not a list")) == r"1\. not a list"
    assert line_start(text("- not a list")) == r"\- not a list"
    assert line_start(text("2026-11-28 is a date")) == "2026-11-28 is a date"
    assert code("a|b") == r"`a\|b`"
    assert code("x`y") == "``x`y``"
    assert code("`x") == "`` `x ``"
    out = render(Report("2026-11-28", "u4ssc", (Violation(
        "r", "9", "error", "x", "m", ({"holds": "# 1. <b>", "because": [{"absent": "y"}]},)),),
        (), 1), "markdown")
    assert "  - \\# 1. \\<b\\>\n    - no y found\n" in out


# --- html ------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(out: str) -> _Collector:
    c = _Collector()
    c.feed(out)
    c.close()
    return c


def test_html_is_standalone():
    out = render(REPORT, "html")
    assert "http://" not in out and "https://" not in out
    assert "@import" not in out and "url(" not in out
    tags = _parse(out).tags
    for tag, attrs in tags:
        assert "src" not in attrs, tag
        if "href" in attrs:
            assert attrs["href"].startswith("#"), attrs  # in-page links only
    assert not [t for t, _ in tags if t in ("link", "img", "iframe", "object", "embed")]
    assert [a for t, a in tags if t == "script"] == [{}]  # one inline script, no src
    assert "@media print" in out


def test_html_escapes_input():
    out = render(REPORT, "html")
    assert "«Ёлки | R&amp;D &lt;Lab&gt;»" in out
    assert "&quot;Города &amp; люди&quot;" in out
    assert "<Lab>" not in out and "<…>" not in out
    text = "".join(_parse(out).text)
    assert "«Ёлки | R&D <Lab>»" in text  # and it reads back as written


def test_html_structure():
    out = render(REPORT, "html")
    tags = _parse(out).tags
    sections = [a["id"] for t, a in tags if t == "section" and "id" in a]
    assert sections == ["clause-29", "clause-30", "clause-Annex-I-4"]
    assert sum(1 for t, _ in tags if t == "details") == 4
    assert sum(1 for t, _ in tags if t == "article") == 4
    # ToR text beside its clause; the rules' quote where report.clause_texts has none
    assert "сотрудничестве с одним из партнеров U4SCC" in out
    assert "ToR Annex I.4, as the rules quote it" in out
    assert "Note: Annex I.4 spells the secretariat U4SCC" in out


def test_html_links_rules_only_with_docs_base():
    assert 'href="docs/rules/' not in render(REPORT, "html")
    out = render(REPORT, "html", docs_base="https://example.org/torcheck/")
    hrefs = {a["href"] for t, a in _parse(out).tags if t == "a" and not a["href"].startswith("#")}
    assert hrefs == {f"https://example.org/torcheck/rules/{r}.html" for r in (
        "non-partner-logo", "centre-without-partner", "centre-missing-annual-report",
        "ip-lead-represents-partner")}
