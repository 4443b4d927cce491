"""The loader's quick paths (checker.registry) read exactly what its careful paths read.

`load_registry` reads a file without an `&`, `*` or `!` byte in one pass (libyaml's composer, no tag
resolution, nesting bounded), and a well-written record by a per-kind plan (`_Loader._fast_record`);
anything either meets that is not plain goes the careful way: the event scan, the usual composition,
`_read_record`. These tests read the same folders both ways and ask for the same records, in the same
order, with the same locations, or the same diagnostics, word for word. `facts` is held to the
straightforward algorithm it replaced. Nothing here is timed.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

import checker.registry as registry
from checker.compile import Field, Kind, Vocabulary
from checker.model import InputError, Location
from checker.registry import MAX_DEPTH, Record, Registry, facts, load_registry

REPO = Path(__file__).parent.parent
U4SSC = REPO / "facts" / "u4ssc"


def _kind(name, singular, *fields, id_first=True):
    fs = (Field("id", "id"),) + fields if id_first else fields + (Field("id", "id"),)
    return Kind(name, singular, None, {f.name: f for f in fs})


def make_vocab(id_first=True) -> Vocabulary:
    return Vocabulary(
        kinds={
            "organizations": _kind(
                "organizations", "organization",
                Field("name", "text", required=True),
                Field("type", "enum", values=("un_entity", "city", "other"), required=True),
                id_first=id_first,
            ),
            "people": _kind(
                "people", "person",
                Field("name", "text", required=True),
                Field("affiliation", "ref", targets=("organizations",)),
                Field("code", "text"),
                Field("tags", "text", is_list=True),
                id_first=id_first,
            ),
            "appointments": _kind(
                "appointments", "appointment",
                Field("person", "ref", targets=("people",), required=True),
                Field("role", "enum", values=("chair", "lead"), required=True),
                Field("start", "date", required=True),
                Field("end", "date"),
                Field("appointed_on", "date", default="start"),
                Field("consulted", "ref", targets=("body",), is_list=True),
                Field("on_behalf_of", "ref", targets=("u4ssc", "organizations"), default="u4ssc"),
                Field("roles", "enum", values=("a", "b"), is_list=True, default="a"),
                Field("mirror", "id", default="id"),
                id_first=id_first,
            ),
            "publications": _kind(
                "publications", "publication",
                Field("title", "text", required=True),
                Field("status", "enum", values=("draft", "published"), required=True),
                Field("published_on", "date", required_when=("status", "published")),
                Field("year", "year"),
                Field("years", "year", is_list=True),
                Field("open", "boolean"),
                Field("flags", "boolean", is_list=True),
                Field("days", "date", is_list=True),
                Field("odd", "colour"),  # a type the loader does not know
                id_first=id_first,
            ),
        },
        bodies={"secretariat": "the secretariat", "partners": "the partners"},
        logos={"u4ssc": "the U4SSC logo"},
    )


VOCAB = make_vocab()

GOOD = """\
organizations:
  - id: itu
    name: "ITU"
    type: un_entity
  - id: unece
    name: UNECE
    type: other
people:
  - id: p-lee
    name: Lee
    affiliation: itu
    tags: [a, b, a]
  - id: p-kim
    name: 'Kim'
    tags:
      - x
      - ""
    code: ~
  - id: p-none
    name: None
    tags:
appointments:
  - id: a-1
    person: p-lee
    role: chair
    start: 2026-01-31
    consulted: [secretariat, partners, secretariat]
  - id: a-2
    person: p-kim
    role: lead
    start: 2025-02-28
    end: 2026-02-28
    appointed_on: 2025-01-01
    on_behalf_of: itu
    roles: [b]
    mirror: m-2
publications:
  - id: pub-1
    title: "A title"
    status: published
    published_on: 2026-03-01
    year: 2026
    years: [2025, "2026"]
    open: true
    flags: [true, false]
    days: [2026-01-01, 2026-01-01]
  - title: Second
    status: draft
    id: pub-2
"""


# ====================================================================== reading both ways


def _both(monkeypatch, read):
    """read() the quick way (the default) and the careful way (every quick path turned off)."""
    quick = read()
    with monkeypatch.context() as m:
        m.setattr(registry, "_compose_at_once", None)
        m.setattr(registry, "_FAST_RECORDS", False)
        careful = read()
    return quick, careful


def _outcome(root, vocab=VOCAB, **kw):
    """Everything a load says: the records in full (their order, values' order, locations) or the diagnostics."""
    try:
        reg = load_registry(str(root), vocab, display=kw.pop("display", "reg"), **kw)
    except InputError as e:
        return "diagnostics", [(d.code, d.message, d.location, d.source_line, d.help) for d in e.diagnostics]
    return "records", _records(reg), _records(reg.base) if reg.base else None


def _records(reg: Registry):
    return [(i, r.kind, r.id, r.values, list(r.values), r.location, r.field_locations, list(r.field_locations))
            for i, r in reg.records.items()]


def _same_both_ways(monkeypatch, root, vocab=VOCAB, **kw):
    quick, careful = _both(monkeypatch, lambda: _outcome(root, vocab, **dict(kw)))
    assert quick == careful
    return quick


def write(root: Path, files: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


@pytest.fixture
def one_pass(monkeypatch):
    """Counts the files composed by the one-pass composer, those it gave up on, and those scanned."""
    seen = {"composed": 0, "gave up": 0}
    real = registry._compose_at_once

    def counting(data):
        try:
            node = real(data)
        except (yaml.YAMLError, registry._TooDeep):
            seen["gave up"] += 1
            raise
        seen["composed"] += 1
        return node

    monkeypatch.setattr(registry, "_compose_at_once", counting)
    real_scan = registry._Loader._scan

    def scan(self, text, f):
        seen["scanned"] = seen.get("scanned", 0) + 1
        return real_scan(self, text, f)

    monkeypatch.setattr(registry._Loader, "_scan", scan)
    return seen


def test_a_plain_registry_is_read_in_one_pass_to_the_same_records(tmp_path, monkeypatch, one_pass):
    write(tmp_path, {"a.yaml": GOOD})
    quick = _same_both_ways(monkeypatch, tmp_path)
    assert quick[0] == "records"
    assert one_pass == {"composed": 1, "gave up": 0, "scanned": 1}  # scanned by the careful reading only
    reg = load_registry(str(tmp_path), VOCAB, display="reg")
    kim = reg.records["p-kim"]
    assert kim.values == {"id": "p-kim", "name": "Kim", "tags": ("x", "")}  # code: ~ is absent
    assert reg.records["p-none"].values == {"id": "p-none", "name": "None", "tags": ()}
    assert reg.records["p-lee"].values["tags"] == ("a", "b", "a")
    a1 = reg.records["a-1"]
    assert a1.values["appointed_on"] == "2026-01-31" and a1.values["on_behalf_of"] == "u4ssc"
    assert a1.values["roles"] == ("a",) and a1.values["mirror"] == "a-1"
    assert list(a1.values) == [f for f in VOCAB.kinds["appointments"].fields if f != "end"]  # defaults in order
    assert "appointed_on" not in a1.field_locations and a1.field_locations["start"] == Location("reg/a.yaml", 26)
    pub = reg.records["pub-1"]
    assert pub.values["year"] == 2026 and pub.values["years"] == (2025, 2026) and pub.values["open"] == "true"
    assert list(reg.records["pub-2"].values) == ["id", "title", "status"]  # written out of order, kept in order
    assert reg.records["pub-2"].location == Location("reg/a.yaml", 47)


@pytest.mark.parametrize("id_first", [True, False])
def test_a_vocabulary_whose_id_is_not_first(tmp_path, monkeypatch, id_first):
    write(tmp_path, {"a.yaml": GOOD})
    vocab = make_vocab(id_first)
    assert _same_both_ways(monkeypatch, tmp_path, vocab)[0] == "records"
    reg = load_registry(str(tmp_path), vocab)
    for r in reg.records.values():
        order = list(vocab.kinds[r.kind].fields)
        assert list(r.values) == [f for f in order if f in r.values]
        assert list(r.field_locations) == [f for f in order if f in r.field_locations]


def test_the_u4ssc_registry_both_ways(monkeypatch):
    from checker.pipeline import default_rules_dir
    from checker.compile import compile_rulebook

    vocab = compile_rulebook(default_rules_dir(), "rules").vocabulary
    quick = _same_both_ways(monkeypatch, U4SSC, vocab, display="facts/u4ssc")
    assert quick[0] == "records" and len(quick[1]) > 100
    quick, careful = _both(monkeypatch, lambda: facts(load_registry(str(U4SSC), vocab), vocab))
    assert quick == careful and list(quick[1]) == list(careful[1])


# ====================================================================== what the scan looks for


@pytest.mark.parametrize("text", [
    'people:\n  - id: p-1\n    name: "R&D * notes !"\n',
    "people:\n  - id: p-1\n    name: R&D * notes !\n",
    "people:\n  - id: p-1\n    name: 'a ! b'\n    tags: [\"*\", '&', '!']\n",
    "# a comment with & and * and !\npeople:\n  - id: p-1\n    name: x\n",
])
def test_anchor_alias_and_tag_bytes_in_text_read_the_same(tmp_path, monkeypatch, one_pass, text):
    write(tmp_path, {"a.yaml": text})
    quick = _same_both_ways(monkeypatch, tmp_path)
    assert quick[0] == "records"
    assert one_pass == {"composed": 1, "gave up": 0, "scanned": 2}  # scanned first, then composed (quick way)


@pytest.mark.parametrize("text, codes", [
    ("people:\n  - &a id: p-1\n    name: *a\n", ["yaml-alias", "yaml-alias"]),
    ("people:\n  - id: !!str p-1\n    name: !x y\n", ["yaml-tag"]),
    ("%TAG !e! tag:example.com,2000:\n---\npeople: []\n", []),
    ("a: &x [1]\nb: *x\nc: *x\n", ["yaml-alias", "yaml-alias"]),
    ("!!python/object/apply:os.system ['true']\n", ["yaml-tag"]),
])
def test_anchors_aliases_and_tags_reported_the_same(tmp_path, monkeypatch, text, codes):
    write(tmp_path, {"a.yaml": text})
    quick = _same_both_ways(monkeypatch, tmp_path)
    if codes:
        assert quick[0] == "diagnostics" and [d[0] for d in quick[1]] == codes


def _nested_block(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "v\n"


def _nested_flow(levels: int, leaf: str = "") -> str:
    return "people: " + "[" * levels + leaf + "]" * levels + "\n"


def test_the_one_pass_composer_gives_up_at_the_depth_limit():
    compose = registry._compose_at_once
    assert compose(_nested_flow(MAX_DEPTH - 1).encode()) is not None  # collections 50 deep
    for deep in (_nested_flow(MAX_DEPTH), _nested_flow(MAX_DEPTH - 1, "x"), _nested_block(60),
                 _nested_block(5000)):
        with pytest.raises(registry._TooDeep):
            compose(deep.encode())
    with pytest.raises((registry._TooDeep, yaml.YAMLError)):  # whichever libyaml or the bound meets first
        compose(("people: " + "[" * 100_000 + "]" * 100_000).encode())


@pytest.mark.parametrize("text, code", [
    (_nested_flow(MAX_DEPTH - 1), "not-a-mapping"),  # 50 levels: not too deep, but no record
    (_nested_flow(MAX_DEPTH - 1, "x"), "not-a-mapping"),
    (_nested_flow(MAX_DEPTH), "too-deep"),
    ("people:\n  - id: p-1\n    name: " + "[" * 60 + "]" * 60 + "\n", "too-deep"),
    (_nested_block(MAX_DEPTH - 1), "unknown-kind"),
    (_nested_block(MAX_DEPTH), "unknown-kind"),  # a scalar at level 51: fine
    ("# & \n" + _nested_block(MAX_DEPTH), "unknown-kind"),  # scanned, then composed the usual way
    (_nested_block(MAX_DEPTH + 1), "too-deep"),
    (_nested_block(5000), "too-deep"),
    (_nested_flow(5000), "too-deep"),
    (_nested_flow(100_000), "too-deep"),
])
def test_deep_nesting_reported_the_same(tmp_path, monkeypatch, text, code):
    write(tmp_path, {"a.yaml": text})
    quick = _same_both_ways(monkeypatch, tmp_path)
    assert quick[0] == "diagnostics" and quick[1][0][0] == code


@pytest.mark.parametrize("text", [
    "people:\n  - id: p-1\n    name: \"unterminated\n",
    "people: []\n---\npeople: []\n",
    "people: []\n---\n",
    "people: []\n...\n",
    "people:\n  - id: p-1\n    name: \"a\x01b\"\n",
    "people:\n  - id: p-1\n    name: a\x7fb\n",
    "people:\n  - id: p-1\n    name: \"a\\eb\"\n",
    "people:\n  - id: p-1\n    name: \"a\\x85b\"\n",
    "\ufeffpeople:\n  - id: p-1\n    name: x\n",
    "people:\r\n  - id: p-1\r\n    name: x\r\n    affiliation: nowhere\r\n",
    "people:\r  - id: p-1\r    name: x\r    affiliation: nowhere\r",
    "people:\n  - id: p-1\n    name: x\u2028y\n    affiliation: nowhere",
    "people:\n  - id: p-1\n    name: x\x85    affiliation: nowhere\n\n\n",
    "people:\n  - id: p-1\n    name: x\n  key: wrong indent\n",
    "people:\n\t- id: p-1\n",
    "",
    "# only a comment\n",
    "~\n",
    "[a, b]\n",
    "just text\n",
    "people: {id: p-1}\n",
    "? [a]\n: b\n",
])
def test_files_the_one_pass_cannot_take_read_the_same(tmp_path, monkeypatch, text):
    write(tmp_path, {"a.yaml": text, "b.yaml": "organizations:\n  - id: itu\n    name: ITU\n    type: city\n"})
    _same_both_ways(monkeypatch, tmp_path)


def test_the_pure_python_loader_never_takes_the_one_pass(tmp_path, monkeypatch, one_pass):
    write(tmp_path, {"a.yaml": GOOD})
    quick = _outcome(tmp_path)
    monkeypatch.setattr(registry, "_SAFE_LOADER", yaml.SafeLoader)
    assert _outcome(tmp_path) == quick
    assert one_pass == {"composed": 1, "gave up": 0, "scanned": 1}  # the pure Python loader scans


# ====================================================================== what _read_record reports


RECORD_CASES = {
    "duplicate key": "people:\n  - id: p-1\n    name: a\n    name: b\n",
    "duplicate key out of order": "people:\n  - name: a\n    id: p-1\n    name: b\n",
    "duplicate id key": "people:\n  - id: p-1\n    id: p-1\n    name: a\n",
    "unknown field": "people:\n  - id: p-1\n    name: a\n    nmae: b\n",
    "missing id": "people:\n  - name: a\n",
    "null id": "people:\n  - id: ~\n    name: a\n",
    "empty id": "people:\n  - id:\n    name: a\n",
    "quoted null id": "people:\n  - id: \"null\"\n    name: a\n",
    "bad id": "people:\n  - id: -x\n    name: a\n",
    "list id": "people:\n  - id: [p-1]\n    name: a\n",
    "reserved id": "people:\n  - id: secretariat\n    name: a\n",
    "logo id": "people:\n  - id: u4ssc\n    name: a\n",
    "key not a name": "people:\n  - id: p-1\n    [a]: b\n    name: a\n",
    "record not a mapping": "people:\n  - p-1\n  - [p-2]\n",
    "kind not a list": "people: p-1\n",
    "kind written twice": "people: []\npeople: []\n",
    "unknown kind": "peple:\n  - id: p-1\n",
    "missing required": "people:\n  - id: p-1\n",
    "required null": "people:\n  - id: p-1\n    name: null\n",
    "required when": "publications:\n  - id: pub\n    title: t\n    status: published\n",
    "required when met": "publications:\n  - id: pub\n    title: t\n    status: draft\n",
    "bad text": "people:\n  - id: p-1\n    name: \"a\\eb\"\n",
    "bad text in a list": "people:\n  - id: p-1\n    name: a\n    tags: [\"\\x1b\"]\n",
    "text with a tab and a line break": "people:\n  - id: p-1\n    name: \"a\\tb\\nc\u00e9\u2028\"\n",
    "mapping as a value": "people:\n  - id: p-1\n    name: {a: b}\n",
    "list as a value": "people:\n  - id: p-1\n    name: [a]\n",
    "value as a list": "people:\n  - id: p-1\n    name: a\n    tags: x\n",
    "null in a list": "people:\n  - id: p-1\n    name: a\n    tags: [x, ~]\n",
    "list in a list": "people:\n  - id: p-1\n    name: a\n    tags: [x, [y]]\n",
    "bad ref": "people:\n  - id: p-1\n    name: a\n    affiliation: 'i t u'\n",
    "bad ref in a list": "appointments:\n  - id: a\n    person: p\n    role: chair\n    start: 2026-01-01\n"
                         "    consulted: [secretariat, 'no way']\n",
    "bad date": "appointments:\n  - id: a\n    person: p\n    role: chair\n    start: 2026-1-1\n",
    "unreal date": "appointments:\n  - id: a\n    person: p\n    role: chair\n    start: 2026-02-30\n",
    "unreal date twice": "appointments:\n  - id: a\n    person: p\n    role: chair\n    start: 2026-02-29\n"
                         "  - id: b\n    person: p\n    role: chair\n    start: 2026-02-29\n",
    "bad date in a list": "publications:\n  - id: pub\n    title: t\n    status: draft\n    days: [2026-01-01, x]\n",
    "bad enum": "appointments:\n  - id: a\n    person: p\n    role: chiar\n    start: 2026-01-01\n",
    "bad enum in a list": "appointments:\n  - id: a\n    person: p\n    role: chair\n    start: 2026-01-01\n"
                          "    roles: [a, c]\n",
    "bad year": "publications:\n  - id: pub\n    title: t\n    status: draft\n    year: 26a\n",
    "year zero": "publications:\n  - id: pub\n    title: t\n    status: draft\n    year: 0000\n",
    "bad year in a list": "publications:\n  - id: pub\n    title: t\n    status: draft\n    years: [2026, 12345]\n",
    "bad boolean": "publications:\n  - id: pub\n    title: t\n    status: draft\n    open: yes\n",
    "bad boolean in a list": "publications:\n  - id: pub\n    title: t\n    status: draft\n    flags: [true, 'no']\n",
    "unknown type": "publications:\n  - id: pub\n    title: t\n    status: draft\n    odd: blue\n",
    "unknown type, null": "publications:\n  - id: pub\n    title: t\n    status: draft\n    odd: ~\n",
    "default over a bad field": "appointments:\n  - id: a\n    person: p\n    role: chair\n    start: 2026-13-01\n",
    "empty list default": "appointments:\n  - id: a\n    person: p-1\n    role: chair\n    start: 2026-01-01\n"
                          "    roles: []\n    on_behalf_of:\n",
    "duplicate record id": "people:\n  - id: p-1\n    name: a\n  - id: p-1\n    name: b\n",
    "dangling ref": "people:\n  - id: p-1\n    name: a\n    affiliation: itx\n",
    "wrong kind ref": "people:\n  - id: p-1\n    name: a\n    affiliation: p-1\n",
    "ref to a body": "people:\n  - id: p-1\n    name: a\n    affiliation: secretariat\n",
    "ref to a logo": "people:\n  - id: p-1\n    name: a\n    affiliation: u4ssc\n",
}


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_every_record_problem_reported_the_same(tmp_path, monkeypatch, case):
    write(tmp_path, {"a.yaml": GOOD, "b.yaml": RECORD_CASES[case]})
    _same_both_ways(monkeypatch, tmp_path)


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_every_record_problem_reported_the_same_in_what_if(tmp_path, monkeypatch, case):
    write(tmp_path / "reg", {"a.yaml": GOOD})
    write(tmp_path, {"p.yaml": RECORD_CASES[case]})
    _same_both_ways(monkeypatch, tmp_path / "reg", add_files=[str(tmp_path / "p.yaml")], remove_ids=["p-kim"])


def test_mutated_registries_read_the_same(tmp_path, monkeypatch):
    """A few hundred small edits of a good file: whatever they break, both ways say the same."""
    rng = random.Random(8)
    junk = ["&a ", "*a", "!x ", "[", "]", "{", "}", "~", "null", '"null"', "''", "[]", "- ", "  ", "#", ":",
            "---\n", "\\e", "2026-02-30", "0", "yes", "true", "x: 1\n", "id: p-lee\n", "\x01", "\u2028", "\r",
            " & ", "'a ! b'", "p-kim", "itu", "secretariat"]
    lines = GOOD.split("\n")
    outcomes = set()
    for n in range(300):
        edited = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(edited))
            op = rng.random()
            if op < 0.2:
                del edited[i]
            elif op < 0.35:
                edited.insert(i, edited[rng.randrange(len(edited))])
            elif op < 0.5:
                j = rng.randrange(len(edited))
                edited[i], edited[j] = edited[j], edited[i]
            else:
                k = rng.randint(0, len(edited[i]))
                edited[i] = edited[i][:k] + rng.choice(junk) + edited[i][k:]
        root = write(tmp_path / str(n), {"a.yaml": "\n".join(edited)})
        outcomes.add(_same_both_ways(monkeypatch, root)[0])
    assert outcomes == {"records", "diagnostics"}


# ====================================================================== pieces


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\n\n", "a\r\nb", "a\rb\r", "a\x85b\u2028c\u2029", "\n", "\r\n\r\n",
                                  "a\tb\n c"])
def test_split_read_splits_as_the_line_break_pattern(text):
    assert registry._split_read(text) == registry._LINE_BREAK.split(text)


def test_records_and_locations_made_without_init_are_the_same():
    assert registry._fast_classes()
    loc = registry._fast_loc("a.yaml", 3, None)
    assert loc == Location("a.yaml", 3) and hash(loc) == hash(Location("a.yaml", 3)) and str(loc) == "a.yaml:3"
    assert {loc: 1}[Location("a.yaml", 3)] == 1
    rec = registry._fast_record_of("people", "p", {"id": "p"}, loc, {"id": loc})
    assert rec == Record("people", "p", {"id": "p"}, Location("a.yaml", 3), {"id": Location("a.yaml", 3)})
    with pytest.raises(Exception):
        loc.line = 4  # still frozen


def test_cached_reads_of_quick_reads_are_the_same(tmp_path, monkeypatch):
    from checker.cache import RegistryCache

    write(tmp_path / "reg", {"a.yaml": GOOD})
    cache = RegistryCache(VOCAB, tmp_path / "cache")
    first = _outcome(tmp_path / "reg", cache=cache)
    for flush in ("flush", "wait"):  # a cache that defers its writing, if it does
        if hasattr(cache, flush):
            getattr(cache, flush)()
    again = RegistryCache(VOCAB, tmp_path / "cache")
    assert _outcome(tmp_path / "reg", cache=again) == first == _both(monkeypatch, lambda: _outcome(tmp_path / "reg"))[1]
    assert again.hits == 1


# ====================================================================== facts


def _facts_reference(reg, vocab):
    """facts() as it was written first: a closure per row, asking whether each row is new."""
    rels: dict = {}
    for k in vocab.kinds.values():
        rels[k.rel()] = []
        for fname in k.fields:
            if fname != "id":
                rels[k.field_rel(fname)] = []
    locs: dict = {}

    def add(rel, row, loc):
        if (rel, row) not in locs:
            locs[(rel, row)] = loc
            rels.setdefault(rel, []).append(row)

    for rec in reg.records.values():
        kind = vocab.kinds[rec.kind]
        add(kind.rel(), (rec.id,), rec.location)
        for fname, v in rec.values.items():
            if fname == "id":
                continue
            loc = rec.field_locations.get(fname, rec.location)
            for item in (v if isinstance(v, tuple) else (v,)):
                add(kind.field_rel(fname), (rec.id, item), loc)
    return rels, locs


def _same_facts(reg, vocab):
    got, want = facts(reg, vocab), _facts_reference(reg, vocab)
    assert got == want
    assert list(got[0]) == list(want[0]) and list(got[1].items()) == list(want[1].items())
    return got


def test_facts_as_the_reference(tmp_path):
    write(tmp_path, {"a.yaml": GOOD})
    rels, locs = _same_facts(load_registry(str(tmp_path), VOCAB, display="reg"), VOCAB)
    assert rels["person.tags"][:2] == [("p-lee", "a"), ("p-lee", "b")]  # a repeated item given once
    assert locs[("appointment.consulted", ("a-1", "secretariat"))] == Location("reg/a.yaml", 27)


def test_facts_of_the_u4ssc_registry_as_the_reference():
    from checker.pipeline import default_rules_dir
    from checker.compile import compile_rulebook

    vocab = compile_rulebook(default_rules_dir(), "rules").vocabulary
    _same_facts(load_registry(str(U4SSC), vocab), vocab)


def test_facts_when_rows_coincide():
    """Relation names that clash (two kinds of one singular) or a record of undeclared fields, made by hand:
    facts() falls back to asking of every row, and says what the reference says."""
    vocab = Vocabulary(kinds={
        "xs": Kind("xs", "x", None, {"id": Field("id", "id"), "y.z": Field("y.z", "text")}),
        "xys": Kind("xys", "x.y", None, {"id": Field("id", "id"), "z": Field("z", "text")}),
    })
    at = Location("h.yaml", 1)
    reg = Registry("h", {
        "a": Record("xs", "a", {"id": "a", "y.z": "v"}, at, {}),
        "b": Record("xys", "a", {"id": "a", "z": "v"}, Location("h.yaml", 2), {}),  # the same id, by hand
    })
    rels, locs = _same_facts(reg, vocab)
    assert rels["x.y.z"] == [("a", "v")] and locs[("x.y.z", ("a", "v"))] == at
    odd = Registry("h", {"a": Record("xs", "a", {"id": "a", "w": ("1", "1", "2")}, at, {})})
    assert _same_facts(odd, vocab)[0]["x.w"] == [("a", "1"), ("a", "2")]


def test_facts_leaves_the_collector_as_it_found_it():
    import gc

    reg = Registry("h", {})
    before = gc.get_threshold()
    try:
        for enabled, thresholds in ((True, before), (False, before), (True, (100, 5, 5)), (True, (100_000, 10, 10))):
            (gc.enable if enabled else gc.disable)()
            gc.set_threshold(*thresholds)
            facts(reg, VOCAB)
            assert gc.isenabled() is enabled and gc.get_threshold() == thresholds
    finally:
        gc.enable()
        gc.set_threshold(*before)
