"""The registry loader (checker.registry): YAML folders to validated records and facts.

The vocabulary here is built by hand from the compiler's dataclasses, small
but covering every field type, list fields, defaults (a field and a constant),
`required when`, and every kind of reference target (kinds, a named body, a
named logo, `body`, `logo`, `any`).
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.compile import Field, Kind, Vocabulary
from checker.model import InputError, Location
from checker.registry import MAX_FILE_BYTES, Record, Registry, facts, load_registry

DATA = Path(__file__).parent / "data" / "registry"
REPO = Path(__file__).parent.parent


def _kind(name, singular, *fields):
    return Kind(name, singular, None, {f.name: f for f in (Field("id", "id"),) + fields})


def make_vocab() -> Vocabulary:
    return Vocabulary(
        kinds={
            "organizations": _kind(
                "organizations", "organization",
                Field("name", "text", required=True),
                Field("type", "enum", values=("un_entity", "city", "other"), required=True),
            ),
            "people": _kind(
                "people", "person",
                Field("name", "text", required=True),
                Field("affiliation", "ref", targets=("organizations",)),
                Field("code", "text"),
            ),
            "appointments": _kind(
                "appointments", "appointment",
                Field("person", "ref", targets=("people",), required=True),
                Field("role", "enum", values=("chair", "vice_chair", "lead", "expert"), required=True),
                Field("start", "date", required=True),
                Field("end", "date"),
                Field("appointed_by", "ref", targets=("body", "people", "organizations"), required=True),
                Field("appointed_on", "date", default="start"),
                Field("nominated_by", "ref", targets=("organizations", "partners")),
                Field("consulted", "ref", targets=("body",), is_list=True),
            ),
            "publications": _kind(
                "publications", "publication",
                Field("title", "text", required=True),
                Field("status", "enum", values=("draft", "published"), required=True),
                Field("published_on", "date", required_when=("status", "published")),
                Field("year", "year"),
                Field("logos", "ref", targets=("logo", "organizations"), is_list=True),
                Field("reproduces", "ref", targets=("publications",), is_list=True),
            ),
            "fundraising": _kind(
                "fundraising", "fundraising",
                Field("by", "ref", targets=("people",), required=True),
                Field("via_programme", "boolean", required=True),
                Field("on", "date"),
                Field("on_behalf_of", "ref", targets=("u4ssc", "organizations"), default="u4ssc"),
            ),
            "approvals": _kind(
                "approvals", "approval",
                Field("by", "ref", targets=("body",), required=True),
                Field("subject", "ref", targets=("any",), required=True),
            ),
        },
        bodies={"secretariat": "the secretariat", "partners": "the partners", "chair": "the Chair"},
        logos={"u4ssc": "the U4SSC logo"},
    )


VOCAB = make_vocab()

ORGS = """\
organizations:
  - id: itu
    name: ITU
    type: un_entity
people:
  - id: p-lee
    name: Lee
"""


def write(root: Path, files: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
    return root


def load(root: Path, **kw) -> Registry:
    return load_registry(str(root), VOCAB, display=kw.pop("display", "reg"), **kw)


def diags(root: Path, **kw):
    with pytest.raises(InputError) as e:
        load(root, **kw)
    return e.value.diagnostics


def only(ds, code):
    """The diagnostics of one code, asserting there is at least one."""
    found = [d for d in ds if d.code == code]
    assert found, f"no {code} among {[(d.code, d.message) for d in ds]}"
    return found


def where(d) -> str:
    return f"{d.location.path}:{d.location.line}"


# ====================================================================== a valid registry


def test_valid_registry_round_trip():
    reg = load_registry(str(DATA / "valid"), VOCAB, display="facts/x")
    assert reg.path == "facts/x"
    # sorted file order (2026/ before appointments.yml), then position; hidden files and folders skipped
    assert list(reg.records) == ["pub-1", "pub-2", "f-1", "ap-1", "a-chair", "a-lead", "itu", "o-city", "p-lee"]
    r = reg.records
    assert r["a-chair"] == Record(
        "appointments", "a-chair",
        {"id": "a-chair", "person": "p-lee", "role": "chair", "start": "2025-06-01", "appointed_by": "partners",
         "appointed_on": "2025-06-01", "consulted": ("secretariat", "chair")},
        Location("facts/x/appointments.yml", 2),
        {"id": Location("facts/x/appointments.yml", 2), "person": Location("facts/x/appointments.yml", 3),
         "role": Location("facts/x/appointments.yml", 4), "start": Location("facts/x/appointments.yml", 5),
         "appointed_by": Location("facts/x/appointments.yml", 6),
         "consulted": Location("facts/x/appointments.yml", 7)},
    )
    # a written appointed_on wins over the default; an empty list is an empty tuple; quoted dates are dates
    assert r["a-lead"].values["appointed_on"] == "2025-05-20"
    assert r["a-lead"].values["start"] == "2025-07-01"
    assert r["a-lead"].values["consulted"] == ()
    # years are ints, booleans the strings "true"/"false", a constant default applies
    assert r["pub-1"].values["year"] == 2026 and isinstance(r["pub-1"].values["year"], int)
    assert r["pub-1"].values["logos"] == ("u4ssc", "itu")
    assert r["f-1"].values["via_programme"] == "true"
    assert r["f-1"].values["on_behalf_of"] == "u4ssc"
    assert "on_behalf_of" not in r["f-1"].field_locations
    # YAML 1.1 traps: the text "No", the text "010", the key "on"
    assert r["o-city"].values["name"] == "No"
    assert r["p-lee"].values["code"] == "010"
    assert r["f-1"].values["on"] == "2026-01-15"
    # the flow-mapping record and its location
    assert r["pub-2"].location == Location("facts/x/2026/publications.yaml", 11)
    assert "published_on" not in r["pub-2"].values


def test_facts_rows_and_locations():
    reg = load_registry(str(DATA / "valid"), VOCAB, display="facts/x")
    rels, locs = facts(reg, VOCAB)
    # every declared relation is there, even empty ones
    assert rels["organization"] == [("itu",), ("o-city",)]
    assert rels["person.affiliation"] == [("p-lee", "itu")]
    assert rels["appointment.end"] == [("a-lead", "2026-07-01")] and rels["approval.by"] == [("ap-1", "secretariat")]
    assert rels["publication.published_on"] == [("pub-1", "2026-03-01")] and rels["fundraising.on"] == [("f-1", "2026-01-15")]
    assert rels["organization.name"] == [("itu", "International Telecommunication Union"), ("o-city", "No")]
    assert rels["appointment"] == [("a-chair",), ("a-lead",)]
    assert rels["appointment.consulted"] == [("a-chair", "secretariat"), ("a-chair", "chair")]
    assert rels["appointment.appointed_on"] == [("a-chair", "2025-06-01"), ("a-lead", "2025-05-20")]
    assert rels["publication.logos"] == [("pub-1", "u4ssc"), ("pub-1", "itu")]
    assert rels["publication.year"] == [("pub-1", 2026)]
    assert rels["fundraising.via_programme"] == [("f-1", "true")]
    assert rels["fundraising.on_behalf_of"] == [("f-1", "u4ssc")]
    assert "appointment.id" not in rels
    p = "facts/x/appointments.yml"
    assert locs[("appointment", ("a-chair",))] == Location(p, 2)
    assert locs[("appointment.consulted", ("a-chair", "chair"))] == Location(p, 7)
    assert locs[("appointment.appointed_on", ("a-chair", "2025-06-01"))] == Location(p, 2)  # defaulted
    assert locs[("appointment.appointed_on", ("a-lead", "2025-05-20"))] == Location(p, 14)
    assert locs[("fundraising.on_behalf_of", ("f-1", "u4ssc"))] == Location("facts/x/2026/publications.yaml", 13)
    # every row has a location, and nothing else does
    assert set(locs) == {(rel, row) for rel, rows in rels.items() for row in rows}


def test_display_defaults_to_path_as_given(tmp_path, monkeypatch):
    write(tmp_path / "reg", {"sub/people.yaml": ORGS})
    monkeypatch.chdir(tmp_path)
    reg = load_registry("reg/", VOCAB)
    assert reg.path == "reg"
    assert reg.records["itu"].location == Location("reg/sub/people.yaml", 2)


def test_empty_files_make_an_empty_valid_registry(tmp_path):
    write(tmp_path, {"a.yaml": "", "b.yml": "# only a comment\n", "c.yaml": "people:\n"})
    reg = load(tmp_path)
    assert reg.records == {}
    rels, locs = facts(reg, VOCAB)
    assert all(rows == [] for rows in rels.values()) and locs == {}


def test_yaml_11_traps_are_read_by_declared_type(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + """\
  - {id: p-no, name: No, code: 010}
  - {id: p-yes, name: yes, code: '0x1F'}
  - {id: p-time, name: "null", code: 12:30}
  - {id: p-float, name: .inf, code: 1_000}
  - {id: '2026', name: 2026-01-01, code: ~}
fundraising:
  - {id: f-on, by: p-lee, via_programme: false, on: '2026-01-15'}
"""})
    r = load(tmp_path).records
    assert (r["p-no"].values["name"], r["p-no"].values["code"]) == ("No", "010")
    assert r["p-yes"].values["name"] == "yes"
    assert (r["p-time"].values["name"], r["p-time"].values["code"]) == ("null", "12:30")
    assert (r["p-float"].values["name"], r["p-float"].values["code"]) == (".inf", "1_000")
    assert r["2026"].values["name"] == "2026-01-01" and "code" not in r["2026"].values
    assert r["f-on"].values["on"] == "2026-01-15" and r["f-on"].values["via_programme"] == "false"


def test_real_u4ssc_registry_loads_against_the_rulebook_vocabulary():
    from checker.compile import compile_rulebook

    vocab = compile_rulebook(str(REPO / "rules" / "u4ssc")).vocabulary
    reg = load_registry(str(REPO / "facts" / "u4ssc"), vocab, display="facts/u4ssc")
    assert len(reg.records) > 100
    rels, locs = facts(reg, vocab)
    assert all(loc.path.startswith("facts/u4ssc/") for loc in locs.values())


# ====================================================================== one test per error class


def test_registry_not_found(tmp_path):
    ds = diags(tmp_path / "nope")
    assert [d.code for d in ds] == ["registry-not-found"]
    assert "reg" in ds[0].message and "does not exist" in ds[0].message


def test_registry_not_a_folder(tmp_path):
    write(tmp_path, {"x.yaml": ORGS})
    ds = diags(tmp_path / "x.yaml")
    assert [d.code for d in ds] == ["not-a-folder"]


def test_no_yaml_files(tmp_path):
    write(tmp_path, {"README.md": "x", ".hidden.yaml": ORGS, ".github/ci.yaml": ORGS})
    ds = diags(tmp_path)
    assert [d.code for d in ds] == ["no-yaml-files"]
    assert "no *.yaml or *.yml file" in ds[0].message


def test_file_too_large(tmp_path):
    write(tmp_path, {"a.yaml": ORGS})
    with open(tmp_path / "big.yaml", "wb") as fh:  # sparse: costs no disk
        fh.truncate(MAX_FILE_BYTES + 1)
    ds = diags(tmp_path)
    assert [d.code for d in ds] == ["file-too-large"]
    assert "reg/big.yaml" in ds[0].message and "64 MiB" in ds[0].message


def test_binary_file(tmp_path):
    write(tmp_path, {"a.yaml": b"people:\n  - id: x\n\x00\x01\x02"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("binary-file", "reg/a.yaml:3")
    assert "NUL" in d.message


def test_utf16_is_reported_as_binary(tmp_path):
    write(tmp_path, {"a.yaml": ORGS.encode("utf-16")})
    (d,) = diags(tmp_path)
    assert d.code == "binary-file" and "UTF-16" in d.message


def test_not_utf8(tmp_path):
    write(tmp_path, {"a.yaml": "people:\n  - id: p\n    name: Ren\xe9e\n".encode("latin-1")})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("not-utf8", "reg/a.yaml:3")
    assert "0xe9" in d.message and "UTF-8" in d.message


def test_utf8_bom_is_fine(tmp_path):
    write(tmp_path, {"a.yaml": b"\xef\xbb\xbf" + ORGS.encode()})
    assert list(load(tmp_path).records) == ["itu", "p-lee"]


def test_yaml_syntax_error_has_the_parsers_line(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "  - id: p-2\n    name: [Lee\n"})
    (d,) = diags(tmp_path)
    assert d.code == "yaml-syntax" and d.location.path == "reg/a.yaml"
    assert d.location.line >= 9 and "YAML syntax error" in d.message


def test_control_character(tmp_path):
    write(tmp_path, {"a.yaml": "people:\n  - id: p\n    name: a\x07b\n"})
    (d,) = diags(tmp_path)
    assert (d.code, str(d.location)) == ("yaml-syntax", "reg/a.yaml:3:12")
    assert "U+0007" in d.message


def test_two_documents_in_one_file(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "---\npeople: []\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("yaml-syntax", "reg/a.yaml:8")
    assert "one YAML document" in d.message


def test_yaml_anchor_and_alias(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "  - &x {id: p-2, name: Two}\n  - *x\n  - {id: p-3, name: *y}\n"})
    ds = diags(tmp_path)
    assert {(d.code, where(d)) for d in ds} == {("yaml-alias", "reg/a.yaml:8"), ("yaml-alias", "reg/a.yaml:9")}
    alias = [d for d in ds if "alias" in d.message][0]
    assert "*x" in alias.message and "1 more" in alias.message


@pytest.mark.parametrize("tag", ["!!str", "!!python/object/apply:os.system", "!custom", "!"])
def test_yaml_tag(tmp_path, tag):
    write(tmp_path, {"a.yaml": ORGS + f"    code: {tag} '010'\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("yaml-tag", "reg/a.yaml:8")
    assert "tag" in d.message


def test_too_deep(tmp_path):
    write(tmp_path, {"a.yaml": "people:\n  - id: p\n    name: " + "[" * 60 + "]" * 60 + "\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("too-deep", "reg/a.yaml:3")
    assert "50" in d.message


def test_duplicate_key_in_a_record_and_at_the_top(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "    name: Again\norganizations: []\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("duplicate-key", "reg/a.yaml:8"), ("duplicate-key", "reg/a.yaml:9")]
    got = {where(d): d.message for d in ds}
    assert "field 'name' is written twice" in got["reg/a.yaml:8"] and "first on line 7" in got["reg/a.yaml:8"]
    assert "kind 'organizations' is written twice" in got["reg/a.yaml:9"] and "line 1" in got["reg/a.yaml:9"]


@pytest.mark.parametrize("text, holds", [("- id: p\n  name: x\n", "a list"), ("just text\n", "'just text'")])
def test_file_that_is_not_a_mapping(tmp_path, text, holds):
    write(tmp_path, {"a.yaml": text})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("not-a-mapping", "reg/a.yaml:1")
    assert "mapping from kinds of records" in d.message and holds in d.message


def test_record_that_is_not_a_mapping(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "  - p-2\n  - [a, b]\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("not-a-mapping", "reg/a.yaml:8"), ("not-a-mapping", "reg/a.yaml:9")]
    assert "a record of people must be a mapping" in ds[0].message and "'p-2'" in ds[0].message


def test_kind_that_is_not_a_list(tmp_path):
    write(tmp_path, {"a.yaml": "people:\n  id: p-1\n  name: Lee\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("not-a-list", "reg/a.yaml:2")
    assert "'people' must be a list of records" in d.message


def test_unknown_kind_with_suggestions(tmp_path):
    write(tmp_path, {"a.yaml": "peeple: []\nperson: []\nwidgets: []\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("unknown-kind", f"reg/a.yaml:{i}") for i in (1, 2, 3)]
    assert "'peeple'" in ds[0].message and ds[0].help == "did you mean 'people'?"
    assert "plural" in ds[1].help and "'people'" in ds[1].help
    assert ds[2].help.startswith("kinds: organizations, people")


def test_unknown_field_with_suggestion(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "    affiliaton: itu\n    colour: red\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("unknown-field", "reg/a.yaml:8"), ("unknown-field", "reg/a.yaml:9")]
    assert ds[0].message == "unknown field 'affiliaton' in person p-lee"
    assert ds[0].help == "did you mean 'affiliation'?"
    assert ds[1].help == "fields: id, name, affiliation, code"


def test_missing_id(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "  - name: Nobody\n  - id:\n    name: Empty\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("missing-id", "reg/a.yaml:8"), ("missing-id", "reg/a.yaml:9")]
    assert "this person has no id" in ds[0].message


def test_missing_required_field(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "  - id: p-2\n  - id: p-3\n    name:\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("missing-field", "reg/a.yaml:8"), ("missing-field", "reg/a.yaml:10")]
    assert ds[0].message == "person p-2 has no 'name', which is required"


def test_required_when(tmp_path):
    write(tmp_path, {"a.yaml": "publications:\n  - {id: pub-1, title: T, status: published}\n"
                               "  - {id: pub-2, title: T, status: draft}\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("missing-field", "reg/a.yaml:2")
    assert d.message == "publication pub-1 has no 'published_on', which is required when status is published"


@pytest.mark.parametrize("value", ["p 2", "-p", "p/2", "[p]", "{a: b}", "''"])
def test_bad_id(tmp_path, value):
    write(tmp_path, {"a.yaml": ORGS + f"  - id: {value}\n    name: X\n"})
    ds = diags(tmp_path)
    (d,) = only(ds, "bad-id")
    assert where(d) == "reg/a.yaml:8" and "is not a valid id for a person" in d.message


def test_bad_id_in_a_reference(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "    affiliation: The ITU\n"})
    (d,) = diags(tmp_path)
    assert (d.code, str(d.location)) == ("bad-id", "reg/a.yaml:8:18")
    assert "'The ITU' is not a valid id" in d.message


def test_bad_type(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + """\
  - id: p-2
    name: [Lee, Kim]
  - id: p-3
    name: {first: Lee}
appointments:
  - {id: a-1, person: p-lee, role: chair, start: 2025-01-01, appointed_by: partners, consulted: secretariat}
  - {id: a-2, person: p-lee, role: chair, start: 2025-01-01, appointed_by: partners, consulted: [[secretariat]]}
"""})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("bad-type", f"reg/a.yaml:{i}") for i in (9, 11, 13, 14)]
    assert "field 'name' of person p-2 must be text, not a list; only one value is allowed here" == ds[0].message
    assert "not a mapping" in ds[1].message
    assert "field 'consulted' of appointment a-1 must be a list" in ds[2].message and ds[2].help == "write [secretariat]"
    assert "an item of the list" in ds[3].message


@pytest.mark.parametrize("value, words", [
    ("2026-02-30", "not a real date"),
    ("'2026-02-30'", "not a real date"),
    ("2026-2-3", "YYYY-MM-DD"),
    ("2026-02-03T10:00:00", "YYYY-MM-DD"),
    ("03/02/2026", "YYYY-MM-DD"),
    ("yesterday", "YYYY-MM-DD"),
])
def test_bad_date(tmp_path, value, words):
    write(tmp_path, {"a.yaml": ORGS + "appointments:\n  - id: a-1\n    person: p-lee\n    role: chair\n"
                                      f"    start: {value}\n    appointed_by: partners\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("bad-date", "reg/a.yaml:12")
    assert "field 'start' of appointment a-1" in d.message and words in d.message


@pytest.mark.parametrize("value", ["twenty", "2026.0", "-1", "0", "20260"])
def test_bad_year(tmp_path, value):
    write(tmp_path, {"a.yaml": f"publications:\n  - {{id: pub-1, title: T, status: draft, year: {value}}}\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("bad-year", "reg/a.yaml:2")
    assert "must be a year written in digits" in d.message


@pytest.mark.parametrize("value", ["yes", "True", "1", "on", "'no'"])
def test_bad_boolean(tmp_path, value):
    write(tmp_path, {"a.yaml": ORGS + f"fundraising:\n  - {{id: f-1, by: p-lee, via_programme: {value}}}\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("bad-boolean", "reg/a.yaml:9")
    assert "must be true or false" in d.message


def test_bad_enum_lists_the_allowed_values(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "appointments:\n  - id: a-7\n    person: p-lee\n    role: chiar\n"
                                      "    start: 2025-01-01\n    appointed_by: partners\n"})
    (d,) = diags(tmp_path)
    assert (d.code, str(d.location)) == ("bad-enum", "reg/a.yaml:11:11")
    assert d.message == ("field 'role' of appointment a-7 must be one of chair, vice_chair, lead, expert; "
                         "got 'chiar'")
    assert d.help == "did you mean 'chair'?"
    assert d.source_line == "    role: chiar"


def test_duplicate_id_names_the_first(tmp_path):
    write(tmp_path, {"a.yaml": ORGS, "b/c.yaml": "organizations:\n  - {id: p-lee, name: X, type: city}\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("duplicate-id", "reg/b/c.yaml:2")
    assert "'p-lee' is already taken by the person at reg/a.yaml:6" in d.message


def test_id_need_not_be_the_first_key(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "  - name: Kim\n    id: p-kim\n", "b.yaml": "people:\n  - name: K\n    id: p-kim\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d), d.source_line) == ("duplicate-id", "reg/b.yaml:3", "    id: p-kim")
    assert "already taken by the person at reg/a.yaml:8" in d.message
    (tmp_path / "b.yaml").unlink()
    kim = load(tmp_path).records["p-kim"]
    assert kim.location == Location("reg/a.yaml", 8)
    assert kim.field_locations == {"id": Location("reg/a.yaml", 9), "name": Location("reg/a.yaml", 8)}
    assert list(kim.values) == ["id", "name"]  # the kind's declared order


@pytest.mark.parametrize("rid, owner", [("secretariat", "fixed body"), ("u4ssc", "logo")])
def test_reserved_id(tmp_path, rid, owner):
    write(tmp_path, {"a.yaml": ORGS + f"  - id: {rid}\n    name: X\n"})
    (d,) = diags(tmp_path)
    assert (d.code, where(d)) == ("reserved-id", "reg/a.yaml:8")
    assert f"'{rid}' is the id of a {owner}" in d.message


def test_dangling_ref(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "    affiliation: itv\n"
                                      "approvals:\n  - {id: ap-1, by: secretariat, subject: nothing-here}\n"})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("dangling-ref", "reg/a.yaml:8"), ("dangling-ref", "reg/a.yaml:10")]
    assert ds[0].message == ("field 'affiliation' of person p-lee refers to 'itv', which is no record, fixed body "
                             "or logo; it must refer to an organization")
    assert ds[0].help == "did you mean 'itu'?"
    assert "any record or fixed body" in ds[1].message


def test_wrong_kind_ref(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "    affiliation: p-lee\n" + """\
appointments:
  - {id: a-1, person: p-lee, role: chair, start: 2025-01-01, appointed_by: u4ssc, nominated_by: secretariat}
publications:
  - {id: pub-1, title: T, status: draft, logos: [u4ssc, p-lee], reproduces: [itu]}
"""})
    ds = diags(tmp_path)
    assert [(d.code, where(d)) for d in ds] == [("wrong-kind-ref", f"reg/a.yaml:{i}") for i in (8, 10, 10, 12, 12)]
    msgs = [d.message for d in ds]
    assert msgs[0] == ("field 'affiliation' of person p-lee refers to person p-lee (reg/a.yaml:6); "
                       "it must refer to an organization")
    assert any("refers to the logo u4ssc" in m and "a fixed body (secretariat, partners, chair), a person or an "
               "organization" in m for m in msgs)
    assert any("refers to the fixed body secretariat; it must refer to an organization or the body partners" in m
               for m in msgs)
    assert any("field 'logos' of publication pub-1 refers to person p-lee" in m for m in msgs)
    assert any("field 'reproduces' of publication pub-1 refers to organization itu" in m for m in msgs)


def test_unreadable_file(tmp_path):
    write(tmp_path, {"a.yaml": ORGS})
    os.symlink(tmp_path / "missing-target.yaml", tmp_path / "broken.yaml")
    (d,) = diags(tmp_path)
    assert d.code == "unreadable-file" and "reg/broken.yaml" in d.message


# ====================================================================== all at once, determinism, safety


def test_every_problem_of_every_file_is_reported(tmp_path):
    write(tmp_path, {
        "a.yaml": ORGS + "  - id: p-2\n    nmae: X\n",
        "b.yaml": "appointments:\n  - {id: a-1, person: nobody, role: boss, start: 2026-13-01, appointed_by: partners}\n",
        "c/d.yaml": "widgets: []\n",
        "e.yaml": "people: [\n",
    })
    ds = diags(tmp_path)
    got = [(d.code, where(d)) for d in ds]
    assert got == [
        ("missing-field", "reg/a.yaml:8"),
        ("unknown-field", "reg/a.yaml:9"),
        ("bad-enum", "reg/b.yaml:2"),  # same line: by column
        ("bad-date", "reg/b.yaml:2"),
        ("unknown-kind", "reg/c/d.yaml:1"),
        ("yaml-syntax", "reg/e.yaml:2"),
    ]  # no dangling-ref for `nobody`: e.yaml could not be read, it might be there


def test_dangling_refs_reported_once_every_file_is_read(tmp_path):
    write(tmp_path, {"a.yaml": ORGS, "b.yaml": "appointments:\n  - {id: a-1, person: nobody, role: boss, "
                                               "start: 2026-01-01, appointed_by: partners}\n"})
    ds = diags(tmp_path)
    assert [d.code for d in ds] == ["dangling-ref", "bad-enum"]  # `person: nobody` is first on the line


def test_diagnostics_carry_source_line_and_render(tmp_path):
    write(tmp_path, {"a.yaml": ORGS + "    affiliation: itv\n"})
    (d,) = diags(tmp_path)
    assert d.render().splitlines() == [
        "reg/a.yaml:8:18: error[dangling-ref]: field 'affiliation' of person p-lee refers to 'itv', which is no "
        "record, fixed body or logo; it must refer to an organization",
        "        affiliation: itv",
        "                     ^",
        "    help: did you mean 'itu'?",
    ]


FILES = {
    "z.yaml": ORGS,
    "a/people.yaml": "people:\n  - {id: p-2, name: Two, affiliation: itu}\n",
    "a.yml": "publications:\n  - {id: pub-1, title: T, status: draft, logos: [itu, u4ssc]}\n",
    "m/n/o.yaml": "approvals:\n  - {id: ap-1, by: chair, subject: pub-1}\n",
}
BAD = {"b.yaml": "people:\n  - {id: p-9, name: X, affiliation: nowhere}\n", "k.yaml": "peple: []\n"}


def _in_order(root: Path, files: dict, order):
    for name in order:
        write(root, {name: files[name]})
        time.sleep(0.001)
    return root


def test_determinism_regardless_of_file_creation_order(tmp_path):
    names = list(FILES)
    r1 = load(_in_order(tmp_path / "one", FILES, names))
    r2 = load(_in_order(tmp_path / "two", FILES, names[::-1]))
    assert list(r1.records.items()) == list(r2.records.items())
    # sorted by path components, as pathlib sorts: a/people.yaml, a.yml, m/n/o.yaml, z.yaml
    assert list(r1.records) == ["p-2", "pub-1", "ap-1", "itu", "p-lee"]
    assert facts(r1, VOCAB) == facts(r2, VOCAB)
    bad = {**FILES, **BAD}
    d1 = diags(_in_order(tmp_path / "three", bad, list(bad)))
    d2 = diags(_in_order(tmp_path / "four", bad, list(bad)[::-1]))
    assert [d.render() for d in d1] == [d.render() for d in d2]


def test_symlinked_folders_are_not_followed(tmp_path):
    write(tmp_path / "reg", {"a.yaml": ORGS})
    os.symlink(tmp_path / "reg", tmp_path / "reg" / "loop")
    write(tmp_path / "elsewhere", {"b.yaml": "people:\n  - {id: p-x, name: X}\n"})
    os.symlink(tmp_path / "elsewhere", tmp_path / "reg" / "linked")
    assert list(load(tmp_path / "reg").records) == ["itu", "p-lee"]


def test_alias_bomb_rejected_quickly(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    write(tmp_path, {"bomb.yaml": "\n".join(lines) + "\n"})
    t = time.perf_counter()
    ds = diags(tmp_path)
    assert time.perf_counter() - t < 2
    assert {d.code for d in ds} == {"yaml-alias"}
    assert where(ds[0]) == "reg/bomb.yaml:1"


def test_deep_nesting_rejected_quickly(tmp_path):
    write(tmp_path, {"deep.yaml": "people: " + "[" * 5000 + "]" * 5000 + "\n",
                     "deep2.yaml": "".join("  " * i + f"k{i}:\n" for i in range(5000))})
    t = time.perf_counter()
    ds = diags(tmp_path)
    assert time.perf_counter() - t < 2
    assert [(d.code, where(d)) for d in ds] == [("too-deep", "reg/deep.yaml:1"), ("too-deep", "reg/deep2.yaml:51")]


def test_the_pure_python_loader_reads_the_same(tmp_path, monkeypatch):
    import yaml

    import checker.registry as registry

    c_reg = load_registry(str(DATA / "valid"), VOCAB)
    monkeypatch.setattr(registry, "_SAFE_LOADER", yaml.SafeLoader)
    assert load_registry(str(DATA / "valid"), VOCAB) == c_reg
    write(tmp_path, {"a.yaml": ORGS + "    code: !!python/object/apply:os.system ['true']\n",
                     "b.yaml": "people: " + "[" * 5000 + "]" * 5000 + "\n",
                     "c.yaml": "a: &a [1]\nb: *a\n"})
    assert [(d.code, where(d)) for d in diags(tmp_path)] == [
        ("yaml-tag", "reg/a.yaml:8"), ("too-deep", "reg/b.yaml:1"), ("yaml-alias", "reg/c.yaml:1"),
        ("yaml-alias", "reg/c.yaml:2")]


def test_python_tags_are_never_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    write(tmp_path / "reg", {"a.yaml": ORGS + f"    code: !!python/object/apply:os.system ['touch {marker}']\n",
                             "b.yaml": f"!!python/object/apply:os.system ['touch {marker}']\n"})
    ds = diags(tmp_path / "reg")
    assert [(d.code, where(d)) for d in ds] == [("yaml-tag", "reg/a.yaml:8"), ("yaml-tag", "reg/b.yaml:1")]
    assert "python/object/apply:os.system" in ds[0].message
    assert calls == [] and not marker.exists()


# ====================================================================== what-if


BASE = {
    "a.yaml": ORGS,
    "pubs.yaml": """\
publications:
  - {id: pub-1, title: One, status: draft}
  - {id: pub-2, title: Two, status: draft, reproduces: [pub-1]}
approvals:
  - {id: ap-1, by: secretariat, subject: pub-2}
""",
}


def test_what_if_add_and_remove(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    prop = write(tmp_path, {"prop.yaml": "publications:\n  - {id: pub-3, title: Three, status: draft, "
                                         "reproduces: [pub-2]}\n"}) / "prop.yaml"
    reg = load(reg_dir, add_files=[str(prop)], remove_ids=["ap-1"])
    assert list(reg.records) == ["itu", "p-lee", "pub-1", "pub-2", "pub-3"]
    assert reg.records["pub-3"].location == Location(str(prop), 2)


def test_what_if_replace_keeps_references(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    prop = write(tmp_path, {"p.yaml": "publications:\n  - {id: pub-1, title: One, status: published, "
                                      "published_on: 2026-01-01}\n"}) / "p.yaml"
    reg = load(reg_dir, add_files=[str(prop)], remove_ids=["pub-1"])
    assert reg.records["pub-1"].values["status"] == "published"
    assert list(reg.records) == ["itu", "p-lee", "pub-2", "ap-1", "pub-1"]


def test_what_if_unknown_id(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    ds = diags(reg_dir, remove_ids=["pub-9", "secretariat"])
    assert [(d.code, d.location) for d in ds] == [("unknown-id", None), ("unknown-id", None)]
    msgs = sorted(d.message for d in ds)
    assert msgs[0] == "cannot remove 'pub-9': the registry has no record with that id"
    assert "'secretariat': it is a fixed body, not a record" in msgs[1]


def test_what_if_duplicate_id(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    prop = write(tmp_path, {"p.yaml": "publications:\n  - {id: pub-1, title: Again, status: draft}\n"}) / "p.yaml"
    (d,) = diags(reg_dir, add_files=[str(prop)])
    assert (d.code, where(d)) == ("duplicate-id", f"{prop}:2")
    assert "the registry already has a record with id 'pub-1' (the publication at reg/pubs.yaml:2)" in d.message
    assert d.help == "to replace it, also remove it (--remove pub-1)"


def test_what_if_referenced_record(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    (d,) = diags(reg_dir, remove_ids=["pub-1", "pub-2"])
    # pub-1 is referred to only by pub-2, which goes too; pub-2 by ap-1, which stays
    assert (d.code, d.location) == ("referenced-record", None)
    assert d.message == "cannot remove 'pub-2': still referred to by approval ap-1 (field 'subject', reg/pubs.yaml:5)"


def test_what_if_proposal_is_validated_with_its_own_path(tmp_path, monkeypatch):
    reg_dir = write(tmp_path / "reg", BASE)
    write(tmp_path, {"props/p.yaml": "publications:\n  - {id: pub-3, title: T, status: publishd, reproduces: [pub-9]}\n"})
    monkeypatch.chdir(tmp_path)
    ds = diags(reg_dir, add_files=["props/p.yaml"])
    assert [(d.code, where(d)) for d in ds] == [("bad-enum", "props/p.yaml:2"), ("dangling-ref", "props/p.yaml:2")]


def test_what_if_proposal_not_found(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    ds = diags(reg_dir, add_files=[str(tmp_path / "missing.yaml"), str(reg_dir)])
    assert [d.code for d in ds] == ["proposal-not-found"] * 2
    assert sorted(d.message.rsplit(" ", 3)[-3:][-1] for d in ds) == ["exist", "file"]


def test_what_if_does_not_change_files(tmp_path):
    reg_dir = write(tmp_path / "reg", BASE)
    before = {p: p.read_bytes() for p in reg_dir.rglob("*")}
    load(reg_dir, remove_ids=["ap-1"])
    assert {p: p.read_bytes() for p in reg_dir.rglob("*")} == before


# ====================================================================== property: a result or a clean diagnostic


_yamlish = st.text(alphabet=st.sampled_from(list("abpeoplid-:[]{},'\"&*!#\n 0123456789\t|>?%@`~\x00\xe9")), max_size=120)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_yamlish, _yamlish.map(lambda s: "people:\n  - id: p\n    name: " + s)))
def test_any_text_gives_a_registry_or_diagnostics(tmp_path, body):
    root = tmp_path / "prop"
    shutil.rmtree(root, ignore_errors=True)
    write(root, {"a.yaml": body})
    try:
        reg = load(root)
    except InputError as e:
        assert e.diagnostics and all(d.code and d.message for d in e.diagnostics)
    else:
        assert isinstance(reg, Registry)
        facts(reg, VOCAB)
