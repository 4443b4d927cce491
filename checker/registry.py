"""Stage 3: a registry folder of YAML files to validated records and facts.

`load_registry` reads every `*.yaml` / `*.yml` file below a folder (sorted,
skipping names that begin with `.`, never following a symlinked folder),
validates each record against the rulebook's declared `Vocabulary` (this
module knows no record kind or field of its own) and returns a `Registry`, or
raises `InputError` with every problem of every file: nothing half-read is
ever returned. `facts` turns a registry into the engine's relations, each row
with the file and line it was written at.

YAML is read safely and by declared type, never by YAML 1.1's guesses. A file
is composed into nodes (never constructed into Python objects) and each
scalar's text is read by the field's type: `name: No` is the text "No",
`code: 010` the text "010", a key `on:` the name "on". An unquoted empty
value, `~` or `null` means the field is absent (quote it for the text
"null"). Anchors and aliases, explicit tags and deep nesting are refused
before any tree is built: a file holding an `&`, `*` or `!` byte anywhere is
first scanned as a stream of parser events (an alias bomb or 5,000 nested
brackets cost one linear scan); a file holding none of them cannot have an
anchor, alias or tag, and is composed at once by libyaml with a composer that
gives up at the 51st level of nesting and resolves no YAML 1.1 tag (the
loader never reads one). Whatever that one pass meets (a syntax error, a
second document, a control character, nesting too deep) sends the file
through the scan and the usual composition, which report it as they always
have: the one pass changes how fast a file is read, never what is said of it.

Normalised values (what engines see): dates as ISO strings "YYYY-MM-DD",
years as int, booleans as the strings "true" / "false", lists as tuples,
everything else str.

Diagnostic codes: declared once, with their severity and meaning, in checker.diagnostics.CODES
(the "registry" stage); `torcheck` users and tests refer to them.

Dangling references are not reported when some file could not be read at all
(a syntax error, say): the ids they name may be in that file.
"""
from __future__ import annotations

import datetime as dt
import difflib
import gc
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import fsread
from .compile import Field, Kind, Vocabulary
from .model import Diagnostic, InputError, Location

__all__ = ["Record", "Registry", "load_registry", "facts", "MAX_FILE_BYTES", "MAX_DEPTH"]

MAX_FILE_BYTES = fsread.MAX_FILE_BYTES  # 64 MiB
MAX_DEPTH = 50
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
YEAR_RE = re.compile(r"[0-9]{1,4}\Z")
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
YAML_SUFFIXES = (".yaml", ".yml")
# what YAML 1.1 allows in a stream (besides NUL, reported as binary-file)
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# what a text value may not hold once YAML escapes are read: C0 controls but tab and line feed, DEL, C1 controls
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_C_SAFE_LOADER = getattr(yaml, "CSafeLoader", None)
_SAFE_LOADER = _C_SAFE_LOADER or yaml.SafeLoader
_MAX_SUGGESTIONS = 200  # difflib over every id is slow; suggest for the first few only
_FAST_RECORDS = True  # validate a record by `_Loader._fast_record` first (tests turn it off to compare)
_FACTS_GC_THRESHOLD = 5000  # the collector's first threshold while facts() makes its rows


@dataclass(frozen=True)
class Record:
    kind: str  # plural kind name, e.g. "appointments"
    id: str
    values: dict  # field -> normalised value, defaults applied, lists as tuples; includes "id"
    location: Location  # the record's first line (the "- id:" item), no column
    field_locations: dict  # field -> Location of its key's line, for fields written in the file


@dataclass
class Registry:
    path: str  # as displayed
    records: dict  # id -> Record, in sorted file order then position (what-if additions last)
    base: "Registry | None" = None  # what-if: the registry as read, before the proposal

    def __len__(self) -> int:
        return len(self.records)


_new = object.__new__


def _fast_loc(path, line, column):
    """Location(path, line, column) without the frozen dataclass's __init__ (object.__setattr__ per field):
    equal, hashed and shown the same. Half a million are made per 100,000 records."""
    loc = _new(Location)
    d = loc.__dict__
    d["path"] = path
    d["line"] = line
    d["column"] = column
    return loc


def _fast_record_of(kind, rid, values, location, field_locations):
    """Record(...) without the frozen dataclass's __init__, as _fast_loc."""
    rec = _new(Record)
    d = rec.__dict__
    d["kind"] = kind
    d["id"] = rid
    d["values"] = values
    d["location"] = location
    d["field_locations"] = field_locations
    return rec


def _fast_classes() -> bool:
    """The shortcuts make what the constructors make (checked once, at import)."""
    try:
        loc, rec = _fast_loc("p", 1, None), _fast_record_of("k", "i", {"id": "i"}, _fast_loc("p", 2, 3), {})
        want_loc, want_rec = Location("p", 1), Record("k", "i", {"id": "i"}, Location("p", 2, 3), {})
        return (loc == want_loc and hash(loc) == hash(want_loc) and str(loc) == str(want_loc)
                and repr(loc) == repr(want_loc) and rec == want_rec and repr(rec) == repr(want_rec))
    except Exception:  # noqa: BLE001 - classes made otherwise (slots, a validating __init__): the constructors
        return False


if _fast_classes():
    _loc, _record = _fast_loc, _fast_record_of
else:  # pragma: no cover
    _loc, _record = Location, Record


# ====================================================================== reading


@dataclass
class _File:
    shown: str
    lines: list

    def loc(self, node_or_mark, column=True) -> Location:
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        return Location(self.shown, mark.line + 1, mark.column + 1 if column else None)

    def src(self, line: int) -> str | None:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else None


@dataclass
class _Ref:
    field: str
    value: str
    location: Location
    source: str | None


@dataclass
class _Read:
    record: Record
    refs: list  # _Ref
    file: _File


def _is_null(node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and node.value in NULLS


def _shape(node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"{node.value!r}"


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


_T_TEXT, _T_ID, _T_REF, _T_DATE, _T_YEAR, _T_BOOLEAN, _T_ENUM, _T_OTHER, _T_RECORD_ID = range(9)
_TYPE_CODES = {"text": _T_TEXT, "id": _T_ID, "ref": _T_REF, "date": _T_DATE, "year": _T_YEAR,
               "boolean": _T_BOOLEAN, "enum": _T_ENUM}


class _Plan:
    """A kind's fields as `_Loader._fast_record` reads them, worked out once per load."""

    def __init__(self, kind: Kind):
        self.name = kind.name
        self.fields = kind.fields
        # field -> (position, name, is a list, type code, enumeration); the record's own id has a code of its own
        self.index = {n: (i, n, fld.is_list, _T_RECORD_ID if n == "id" else _TYPE_CODES.get(fld.type, _T_OTHER),
                          frozenset(fld.values))
                      for i, (n, fld) in enumerate(kind.fields.items())}
        # (name, default, the default names a field, the default as a value) in declared order
        self.defaults = [(n, fld.default, fld.default in kind.fields,
                          None if fld.default in kind.fields else _constant(fld, fld.default))
                         for n, fld in kind.fields.items() if fld.default is not None]
        # (name, required, required when) of the fields but the id that may have to be present
        self.required = [(n, fld.required, fld.required_when) for n, fld in kind.fields.items()
                         if n != "id" and (fld.required or fld.required_when)]


_UNORDERED = object()  # _fast_fields: the fields are not written in declared order


def _date_ok(text: str) -> bool:
    """Written YYYY-MM-DD and a real date (what _scalar accepts as a date)."""
    if not DATE_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


class _TooDeep(Exception):
    """The one-pass composer met a node at nesting level MAX_DEPTH + 1: the file goes through the scan."""


if _C_SAFE_LOADER is not None:
    class _Composer(yaml._yaml.CParser):
        """libyaml's composer, without YAML 1.1 tag resolution and with a bound on nesting.

        For files without an `&`, `*` or `!` byte (see `_Loader._read_data`). libyaml's composer calls
        `resolve` for every node without an explicit tag (nodes keep its answer as their `tag`, which this
        module never reads) and `descend_resolver` / `ascend_resolver` around every node: here they count
        the nesting (a list's length: the ascent is the list's own pop), and a node at level MAX_DEPTH + 1
        (a scalar in a collection of level MAX_DEPTH, or a collection of level MAX_DEPTH + 1) stops the
        composition before libyaml's recursion goes any deeper, and the file is read the careful way.
        """

        def __init__(self, data: bytes | str):
            super().__init__(data)
            levels = []
            push = levels.append

            def descend_resolver(parent, index):
                push(None)
                if len(levels) > MAX_DEPTH:
                    raise _TooDeep

            self.descend_resolver = descend_resolver
            self.ascend_resolver = levels.pop

        def resolve(self, kind, value, implicit):
            return None

    def _compose_at_once(data: bytes | str):
        """The file's root node (None for an empty stream); YAMLError or _TooDeep if anything is amiss."""
        parser = _Composer(data)
        try:
            return parser.get_single_node()
        finally:
            parser.dispose()
else:  # pragma: no cover - PyYAML without libyaml: every file is scanned
    _compose_at_once = None


def _split_read(text: str) -> list[str]:
    """_LINE_BREAK.split(text) for a text libyaml has read (8 times as fast): such a text holds none of
    \\v \\f \\x1c \\x1d \\x1e, the line breaks of str.splitlines that YAML does not know, and splitlines
    gives no last, empty line after a final line break."""
    lines = text.splitlines()
    if not text or text[-1] in "\n\r\x85\u2028\u2029":
        lines.append("")
    return lines


class _Loader:
    def __init__(self, vocab: Vocabulary, cache=None):
        self.vocab = vocab
        self.diags: list[Diagnostic] = []
        self.complete = True  # every file was read whole
        self.suggestions = 0
        self.cache = cache  # checker.cache.RegistryCache: the reads of files that read cleanly before
        self._plans: dict[str, _Plan] = {}  # kind name -> how _fast_record reads its records
        self.reserved = frozenset(vocab.bodies) | frozenset(vocab.logos)  # ids no record may take
        self.dates: set[str] = set()  # date texts found well written and real

    # ------------------------------------------------------------ diagnostics
    def err(self, code, message, f: _File | None = None, where=None, help=None):
        if f is None or where is None:
            self.diags.append(Diagnostic(code, message, None, None, help))
            return
        loc = where if isinstance(where, Location) else f.loc(where)
        self.diags.append(Diagnostic(code, message, loc, f.src(loc.line), help))

    @staticmethod
    def suggest(word, options, cutoff=0.75):
        m = difflib.get_close_matches(word, sorted(options), n=1, cutoff=cutoff)
        return f"did you mean {m[0]!r}?" if m else None

    # ------------------------------------------------------------ folders and files
    def read_folder(self, path: str, display: str) -> list[_Read]:
        root = Path(path)
        if not root.exists():
            self.err("registry-not-found", f"registry folder {display} does not exist")
            return []
        if not root.is_dir():
            self.err("not-a-folder", f"registry {display} is not a folder (a registry is a folder of YAML files)")
            return []
        # checker.fsread: every folder listed whole, only regular files opened, no link out of the folder
        files, problems = fsread.listing(path, want=_is_yaml)
        if not files and not problems:
            self.err("no-yaml-files", f"no *.yaml or *.yml file in registry folder {display}",
                     help="is the path right? files and folders whose names begin with '.' are skipped")
            return []
        out = []
        for pr in problems:
            self.problem(pr, display)
        for e in files:
            out.extend(self.read_file(e, _join(display, e.rel)))
        return out

    def problem(self, pr: "fsread.FsProblem", display: str) -> None:
        """A file or folder the reader refused (checker.fsread), as a diagnostic; the registry is not whole."""
        self.complete = False
        if pr.code == "unreadable-folder":  # a folder: no line to point at
            self.err(pr.code, pr.say(_join(display, pr.rel) if pr.rel else display))
            return
        shown = _join(display, pr.rel) if pr.rel else display
        f, at = _File(shown, []), Location(shown, 1)  # a problem with the whole file is reported at PATH:1
        if pr.code == "file-too-large":
            self.err(pr.code, pr.say(shown).replace("a file may", "a registry file may"), f, at,
                     help="split it into several files")
        else:
            self.err(pr.code, pr.say(shown), f, at)

    def read_file(self, entry: "fsread.Entry", shown: str) -> list[_Read]:
        try:
            data = fsread.read(entry, MAX_FILE_BYTES)
        except fsread.FsProblem as pr:
            pr.rel = ""
            self.problem(pr, shown)
            return []
        if self.cache is None:
            return self._read_data(data, shown)
        cached = self.cache.get(data, shown)
        if cached is not None:
            return cached
        before = len(self.diags)
        reads = self._read_data(data, shown)
        if len(self.diags) == before:  # only a file without a problem is cached
            self.cache.put(data, reads)
        return reads

    def _read_data(self, data: bytes, shown: str) -> list[_Read]:
        nul = data.find(b"\0")
        if nul >= 0:
            self.err("binary-file", f"{shown} holds NUL bytes: it is binary, or text in an encoding other than "
                     f"UTF-8 (UTF-16?)", _File(shown, []), Location(shown, data.count(b"\n", 0, nul) + 1))
            self.complete = False
            return []
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            self.err("not-utf8", f"{shown} is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line})",
                     _File(shown, []), Location(shown, line), help="save the file as UTF-8")
            self.complete = False
            return []
        if (_SAFE_LOADER is _C_SAFE_LOADER and _compose_at_once is not None
                and b"&" not in data and b"*" not in data and b"!" not in data):
            try:
                root = _compose_at_once(data)
            except (yaml.YAMLError, _TooDeep):
                pass  # read again below, by the scan and the usual composition, for the same diagnostics
            else:
                return self._read_root(root, _File(shown, _split_read(text)))
        f = _File(shown, _LINE_BREAK.split(text))
        if not self._scan(text, f):
            self.complete = False
            return []
        try:
            root = self._compose_scanned(text)
        except yaml.YAMLError as e:  # the scan parsed the same text; kept for safety
            self._yaml_error(e, f, text)
            self.complete = False
            return []
        return self._read_root(root, f)

    @staticmethod
    def _compose_scanned(text: str):
        """The root node of a text the scan passed (an `&` in a quoted name, say): by the one-pass composer,
        which resolves no tag, when it takes the text; by the usual composition otherwise (a scalar at the
        51st level, or anything else it gives up on), which says what it always said."""
        if _SAFE_LOADER is _C_SAFE_LOADER and _compose_at_once is not None:
            try:
                return _compose_at_once(text)
            except (yaml.YAMLError, _TooDeep):
                pass
        return yaml.compose(text, Loader=_SAFE_LOADER)

    # ------------------------------------------------------------ the event scan
    def _scan(self, text: str, f: _File) -> bool:
        """Reject what a registry never uses before composing anything. True if the file may be composed."""
        bad = _NON_PRINTABLE.search(text)
        if bad:
            line = len(_LINE_BREAK.findall(text, 0, bad.start())) + 1
            start = max(text.rfind("\n", 0, bad.start()), text.rfind("\r", 0, bad.start())) + 1
            self.err("yaml-syntax", f"control character U+{ord(bad.group()):04X} is not allowed in YAML", f,
                     Location(f.shown, line, bad.start() - start + 1))
            return False
        ok = True
        seen = {}  # code -> [first event, count]
        depth = docs = 0
        try:
            for ev in yaml.parse(text, Loader=_SAFE_LOADER):
                if isinstance(ev, yaml.AliasEvent):
                    seen.setdefault("alias", [ev, 0])[1] += 1
                    continue
                if isinstance(ev, yaml.DocumentStartEvent):
                    docs += 1
                    if docs > 1:
                        self.err("yaml-syntax", "a registry file holds one YAML document; a second one starts here",
                                 f, ev, help="split the documents into separate files")
                        ok = False
                        break
                if isinstance(ev, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                    if ev.anchor is not None:
                        seen.setdefault("anchor", [ev, 0])[1] += 1
                    if ev.tag is not None:
                        seen.setdefault("tag", [ev, 0])[1] += 1
                if isinstance(ev, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        self.err("too-deep", f"nesting deeper than {MAX_DEPTH} levels", f, ev,
                                 help="a registry needs four: kinds, records, fields, lists")
                        ok = False
                        break
                elif isinstance(ev, yaml.CollectionEndEvent):
                    depth -= 1
        except yaml.YAMLError as e:
            self._yaml_error(e, f, text)
            ok = False
        for what, (ev, n) in sorted(seen.items(), key=lambda kv: (kv[1][0].start_mark.line, kv[0])):
            more = f" ({n - 1} more in this file)" if n > 1 else ""
            if what == "alias":
                self.err("yaml-alias", f"YAML alias *{ev.anchor} is not allowed in a registry{more}", f, ev,
                         help="write the value out in full")
            elif what == "anchor":
                self.err("yaml-alias", f"YAML anchor &{ev.anchor} is not allowed in a registry{more}", f, ev,
                         help="write values out in full; anchors and aliases are not used in a registry")
            else:
                self.err("yaml-tag", f"explicit YAML tag {ev.tag} is not allowed in a registry{more}", f, ev,
                         help="values are read by the field's declared type; remove the tag")
        return ok and not seen

    def _yaml_error(self, e: yaml.YAMLError, f: _File, text: str):
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        context = getattr(e, "context", None)
        cm = getattr(e, "context_mark", None)
        if context and cm is not None and mark is not None and cm.line != mark.line:  # an unclosed [ or {: where
            context += f" started on line {cm.line + 1}, column {cm.column + 1}"
        code, msg = "yaml-syntax", f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
        if "nesting depth" in problem:  # libyaml's own limit (1000), met before ours while scanning ahead
            code, msg = "too-deep", f"nesting deeper than {MAX_DEPTH} levels"
        where = Location(f.shown, mark.line + 1, mark.column + 1) if mark is not None else Location(f.shown, 1)
        self.err(code, msg, f, where)

    # ------------------------------------------------------------ the tree, fast
    def _plan(self, kind: Kind) -> "_Plan":
        plan = self._plans.get(kind.name)
        if plan is None:
            plan = self._plans[kind.name] = _Plan(kind)
        return plan

    def _fast_record(self, plan: "_Plan", node, f: _File) -> _Read | None:
        """The record a well-written item reads as, or None when `_read_record` has anything to say of it.

        Only what `_read_record` would accept without a diagnostic is read here, to the same record; on
        anything else (a duplicate or unknown field, a bad value, a missing required field, a reserved id,
        an unusual shape) this returns None and `_read_record` reads the item from the start, reporting it.
        """
        if node.__class__ is not MappingNode:
            return None
        read = self._fast_fields(plan, node.value, node, f)
        if read is _UNORDERED:  # fields not written in declared order: read them sorted into it
            index = plan.index
            try:
                pairs = sorted(node.value, key=lambda pair: index[pair[0].value][0])
            except (KeyError, TypeError, AttributeError):  # an unknown field, a key that is no name
                return None
            read = self._fast_fields(plan, pairs, node, f)
            if read is _UNORDERED:  # a field written twice
                return None
        return read

    def _fast_fields(self, plan: "_Plan", pairs: list, node, f: _File):
        """_fast_record's reading of (key, value) pairs; _UNORDERED if they are not in declared order."""
        index = plan.index
        shown = f.shown
        lines = f.lines  # a ref's source line, as f.src gives it (a mark's line is never below 1)
        nlines = len(lines)
        loc = _loc
        fast_loc = loc is _fast_loc
        new = _new
        scalar = ScalarNode
        values = {}
        field_locs = {}
        refs = []
        dates = self.dates
        last = -1
        for key, v in pairs:
            if key.__class__ is not scalar:
                return None
            entry = index.get(key.value)
            if entry is None:  # an unknown field
                return None
            position, fname, is_list, t, enum = entry
            if position <= last:  # out of declared order, or written twice
                return _UNORDERED
            last = position
            cls = v.__class__
            if cls is scalar:
                text = v.value
                if not v.style and text in NULLS:  # absent: an empty list, or no value
                    if t == _T_RECORD_ID:
                        return None
                    if not is_list:
                        continue
                    text = ()
                elif is_list:
                    return None
                elif t == _T_REF:
                    if not ID_RE.match(text):
                        return None
                    mark = v.start_mark
                    line = mark.line + 1
                    refs.append(_Ref(fname, text, loc(shown, line, mark.column + 1),
                                     lines[line - 1] if line <= nlines else None))
                elif t == _T_TEXT:
                    if not text.isprintable() and _CONTROL.search(text):
                        return None
                elif t == _T_DATE:
                    if text not in dates:
                        if not _date_ok(text):
                            return None
                        dates.add(text)
                elif t == _T_ENUM:
                    if text not in enum:
                        return None
                elif t == _T_RECORD_ID:
                    if not ID_RE.match(text) or text in self.reserved:
                        return None
                elif t == _T_ID:
                    if not ID_RE.match(text):
                        return None
                elif t == _T_YEAR:
                    if not YEAR_RE.match(text) or int(text) == 0:
                        return None
                    text = int(text)
                elif t == _T_BOOLEAN:
                    if text != "true" and text != "false":
                        return None
                else:
                    return None
            elif cls is SequenceNode and is_list:
                out = []
                for item in v.value:
                    if item.__class__ is not scalar:
                        return None
                    text = item.value
                    if not item.style and text in NULLS:
                        return None
                    if t == _T_REF:
                        if not ID_RE.match(text):
                            return None
                        mark = item.start_mark
                        line = mark.line + 1
                        refs.append(_Ref(fname, text, loc(shown, line, mark.column + 1),
                                         lines[line - 1] if line <= nlines else None))
                    elif t == _T_TEXT:
                        if not text.isprintable() and _CONTROL.search(text):
                            return None
                    elif t == _T_DATE:
                        if text not in dates:
                            if not _date_ok(text):
                                return None
                            dates.add(text)
                    elif t == _T_ENUM:
                        if text not in enum:
                            return None
                    elif t == _T_ID:
                        if not ID_RE.match(text):
                            return None
                    elif t == _T_YEAR:
                        if not YEAR_RE.match(text) or int(text) == 0:
                            return None
                        text = int(text)
                    elif t == _T_BOOLEAN:
                        if text != "true" and text != "false":
                            return None
                    else:
                        return None
                    out.append(text)
                text = tuple(out)
            else:
                return None
            values[fname] = text
            if fast_loc:  # _fast_loc, written out: half a million calls
                where = new(Location)
                d = where.__dict__
                d["path"] = shown
                d["line"] = key.start_mark.line + 1
                d["column"] = None
                field_locs[fname] = where
            else:
                field_locs[fname] = loc(shown, key.start_mark.line + 1, None)
        rid = values.get("id")
        if rid is None:
            return None
        # defaults, then what is required (as in _read_record, with no field in error)
        reorder = False  # the fields were read in declared order, which defaults may upset
        for fname, default, of_field, constant in plan.defaults:
            if fname in values:
                continue
            if of_field:
                if default in values and default != "id":
                    values[fname] = values[default]
                    reorder = True
                elif default == "id":
                    values[fname] = rid
                    reorder = True
            else:
                values[fname] = constant
                reorder = True
        for fname, required, when in plan.required:
            if fname in values:
                continue
            if required:
                return None
            other, want = when
            got = values.get(other)
            if got == want or (isinstance(got, tuple) and want in got) or (got is not None and str(got) == want):
                return None
        if reorder:  # declared order, as _read_record leaves them
            values = {k: values[k] for k in plan.fields if k in values}
            field_locs = {k: field_locs[k] for k in values if k in field_locs}
        return _Read(_record(plan.name, rid, values, loc(shown, node.start_mark.line + 1, None), field_locs),
                     refs, f)

    # ------------------------------------------------------------ the tree
    def _read_root(self, root, f: _File) -> list[_Read]:
        if root is None or _is_null(root):
            return []
        if not isinstance(root, MappingNode):
            self.err("not-a-mapping", f"a registry file is a mapping from kinds of records to lists of records; "
                     f"this one holds {_shape(root)}", f, root,
                     help="start with a kind, e.g. `" + next(iter(self.vocab.kinds), "KIND") + ":`")
            return []
        out = []
        seen = {}
        for key, value in root.value:
            if not isinstance(key, ScalarNode):
                self.err("bad-type", f"a kind of record must be a name, not {_shape(key)}", f, key)
                continue
            name = key.value
            if name in seen:
                self.err("duplicate-key", f"kind {name!r} is written twice in this file (first on line {seen[name]})",
                         f, key, help="put all its records under one key")
                continue
            seen[name] = key.start_mark.line + 1
            kind = self.vocab.kinds.get(name)
            if kind is None:
                singular = {k.singular: k.name for k in self.vocab.kinds.values()}
                help = (f"did you mean {singular[name]!r}? kinds are written in the plural" if name in singular
                        else self.suggest(name, self.vocab.kinds)
                        or "kinds: " + ", ".join(self.vocab.kinds))
                self.err("unknown-kind", f"unknown kind of record {name!r}", f, key, help)
                continue
            if _is_null(value):
                continue
            if not isinstance(value, SequenceNode):
                self.err("not-a-list", f"the value of {name!r} must be a list of records (each beginning `- id:`); "
                         f"got {_shape(value)}", f, value)
                continue
            plan = self._plan(kind) if _FAST_RECORDS else None
            for item in value.value:
                r = self._fast_record(plan, item, f) if plan is not None else None
                if r is None:
                    r = self._read_record(kind, item, f)
                if r is not None:
                    out.append(r)
        return out

    def _read_record(self, kind: Kind, node, f: _File) -> _Read | None:
        if not isinstance(node, MappingNode):
            self.err("not-a-mapping", f"a record of {kind.name} must be a mapping of fields (id: ..., ...); "
                     f"got {_shape(node)}", f, node)
            return None
        line = node.start_mark.line + 1
        present = {}  # field -> (key node, value node)
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.err("bad-type", f"a field name must be a name, not {_shape(key)}", f, key)
                continue
            name = key.value
            if name in present:
                self.err("duplicate-key", f"field {name!r} is written twice in this {kind.singular} "
                         f"(first on line {present[name][0].start_mark.line + 1})", f, key)
                continue
            present[name] = (key, value)
        # the id first: every later message names the record by it
        rid = None
        if "id" not in present or _is_null(present["id"][1]):
            where = present["id"][0] if "id" in present else node
            self.err("missing-id", f"this {kind.singular} has no id", f, where,
                     help="every record begins with `- id: ...`")
        else:
            v = present["id"][1]
            if isinstance(v, ScalarNode) and ID_RE.match(v.value):
                rid = v.value
            else:
                self.err("bad-id", f"{_shape(v)} is not a valid id for {_article(kind.singular)}", f, v,
                         help="an id is a letter or digit followed by letters, digits and . _ : -")
        what = f"{kind.singular} {rid}" if rid else f"the {kind.singular} on line {line}"
        if rid is not None and (rid in self.vocab.bodies or rid in self.vocab.logos):
            owner = "fixed body" if rid in self.vocab.bodies else "logo"
            self.err("reserved-id", f"{rid!r} is the id of a {owner}; no record may take it", f,
                     present["id"][1], help="choose another id")
            rid = None
        values = {"id": rid}
        field_locs = {"id": Location(f.shown, present["id"][0].start_mark.line + 1)} if rid else {}
        refs = []
        bad = set()
        for name, (key, value) in present.items():
            if name not in kind.fields:
                self.err("unknown-field", f"unknown field {name!r} in {what}", f, key,
                         self.suggest(name, kind.fields) or "fields: " + ", ".join(kind.fields))
        for fname, fld in kind.fields.items():
            if fname == "id" or fname not in present:
                continue
            key, value = present[fname]
            ok, v = self._value(fld, value, f, what, refs)
            if not ok:
                bad.add(fname)
            elif v is not None:
                values[fname] = v
                field_locs[fname] = Location(f.shown, key.start_mark.line + 1)
        # defaults, then what is required
        for fname, fld in kind.fields.items():
            if fname in values or fname in bad or fld.default is None:
                continue
            if fld.default in kind.fields:
                if fld.default in values and fld.default != "id":
                    values[fname] = values[fld.default]
                elif fld.default == "id" and rid is not None:
                    values[fname] = rid
            else:
                values[fname] = _constant(fld, fld.default)
        for fname, fld in kind.fields.items():
            if fname == "id" or fname in values or fname in bad:
                continue
            where = present[fname][0] if fname in present else node
            if fld.required:
                self.err("missing-field", f"{what} has no {fname!r}, which is required", f, where)
            elif fld.required_when:
                other, want = fld.required_when
                got = values.get(other)
                if got == want or (isinstance(got, tuple) and want in got) or (got is not None and str(got) == want):
                    self.err("missing-field", f"{what} has no {fname!r}, which is required when {other} is {want}",
                             f, where)
        if rid is None:
            return None
        values = {k: values[k] for k in kind.fields if k in values}  # declared order
        field_locs = {k: field_locs[k] for k in values if k in field_locs}
        rec = Record(kind.name, rid, values, Location(f.shown, line), field_locs)
        return _Read(rec, refs, f)

    # ------------------------------------------------------------ values by declared type
    def _value(self, fld: Field, node, f: _File, what: str, refs: list):
        """(ok, normalised value or None when absent)."""
        if _is_null(node):
            return True, (() if fld.is_list else None)
        if fld.is_list:
            if not isinstance(node, SequenceNode):
                self.err("bad-type", f"field {fld.name!r} of {what} must be a list of {_type_words(fld, True)}; "
                         f"got {_shape(node)}", f, node,
                         help=f"write [{node.value}]" if isinstance(node, ScalarNode) else None)
                return False, None
            out, ok = [], True
            for item in node.value:
                good, v = self._scalar(fld, item, f, what, refs, in_list=True)
                ok = ok and good
                if good and v is not None:
                    out.append(v)
            return ok, tuple(out)
        return self._scalar(fld, node, f, what, refs)

    def _scalar(self, fld: Field, node, f: _File, what: str, refs: list, in_list=False):
        name = f"field {fld.name!r} of {what}" + (" (an item of the list)" if in_list else "")
        if not isinstance(node, ScalarNode):
            extra = "; only one value is allowed here" if isinstance(node, SequenceNode) and not in_list else ""
            self.err("bad-type", f"{name} must be {_type_words(fld)}, not {_shape(node)}{extra}", f, node)
            return False, None
        if in_list and _is_null(node):
            self.err("bad-type", f"{name} is empty", f, node)
            return False, None
        text = node.value
        t = fld.type
        if t == "text":
            bad = _CONTROL.search(text)
            if bad:  # written as a YAML escape ("\e[31m"): it would reach terminals and XML reports as is
                self.err("bad-text", f"{name} holds the control character U+{ord(bad.group()):04X}; text may hold "
                         f"tabs and line breaks but no other control character", f, node)
                return False, None
            return True, text
        if t == "id" or t == "ref":
            if not ID_RE.match(text):
                self.err("bad-id", f"{name} must be {_type_words(fld)}; {text!r} is not a valid id", f, node,
                         help="an id is a letter or digit followed by letters, digits and . _ : -")
                return False, None
            if t == "ref":
                loc = f.loc(node)
                refs.append(_Ref(fld.name, text, loc, f.src(loc.line)))
            return True, text
        if t == "date":
            if not DATE_RE.match(text):
                self.err("bad-date", f"{name} must be a date written YYYY-MM-DD; got {text!r}", f, node)
                return False, None
            try:
                dt.date.fromisoformat(text)
            except ValueError as e:
                self.err("bad-date", f"{name} must be a real date; {text} is not a real date ({e})", f, node)
                return False, None
            return True, text
        if t == "year":
            if not YEAR_RE.match(text) or int(text) == 0:
                self.err("bad-year", f"{name} must be a year written in digits, e.g. 2026; got {text!r}", f, node)
                return False, None
            return True, int(text)
        if t == "boolean":
            if text not in ("true", "false"):
                self.err("bad-boolean", f"{name} must be true or false; got {text!r}", f, node)
                return False, None
            return True, text
        if t == "enum":
            if text not in fld.values:
                self.err("bad-enum", f"{name} must be one of {', '.join(fld.values)}; got {text!r}", f, node,
                         self.suggest(text, fld.values, 0.6))
                return False, None
            return True, text
        self.err("bad-type", f"{name} has type {t!r}, which the loader does not know", f, node)
        return False, None

    # ------------------------------------------------------------ references
    def check_refs(self, reads: list[_Read], records: dict, removed: dict):
        """Check every reference of the records kept; collect references to removed records."""
        vocab = self.vocab
        referrers: dict[str, list] = {}
        accepted: dict[str, dict] = {}  # kind -> {field: the kinds of record it may refer to, None for any}
        get = records.get
        for r in reads:
            if not r.refs:
                continue
            rec = r.record
            accepts = accepted.get(rec.kind)
            if accepts is None:
                accepts = accepted[rec.kind] = {n: None if "any" in fld.targets else frozenset(fld.targets)
                                                for n, fld in vocab.kinds[rec.kind].fields.items()}
            kind = what = None
            for ref in r.refs:
                found = get(ref.value)
                if found is not None:  # a reference to a record of a kind the field allows: nothing to say
                    kinds = accepts[ref.field]
                    if kinds is None or found.kind in kinds:
                        continue
                if kind is None:
                    kind = vocab.kinds[rec.kind]
                    what = f"{kind.singular} {rec.id}"
                fld = kind.fields[ref.field]
                targets = fld.targets
                v = ref.value
                where = f"field {ref.field!r} of {what}"
                found = records.get(v)
                if found is not None:
                    if found.kind in targets or "any" in targets:
                        continue
                    fk = vocab.kinds[found.kind]
                    self._ref_diag("wrong-kind-ref", f"{where} refers to {fk.singular} {v} ({found.location}); "
                                   f"it must refer to {_targets_words(fld, vocab)}", ref)
                elif v in vocab.bodies:
                    if "body" in targets or "any" in targets or v in targets:
                        continue
                    self._ref_diag("wrong-kind-ref", f"{where} refers to the fixed body {v}; it must refer to "
                                   f"{_targets_words(fld, vocab)}", ref)
                elif v in vocab.logos:
                    if "logo" in targets or v in targets:
                        continue
                    self._ref_diag("wrong-kind-ref", f"{where} refers to the logo {v}; it must refer to "
                                   f"{_targets_words(fld, vocab)}", ref)
                elif v in removed:
                    referrers.setdefault(v, []).append((what, ref))
                elif self.complete:
                    help = None
                    if self.suggestions < _MAX_SUGGESTIONS:
                        self.suggestions += 1
                        help = self.suggest(v, _candidates(fld, vocab, records), 0.6)
                    self._ref_diag("dangling-ref", f"{where} refers to {v!r}, which is no record, "
                                   f"fixed body or logo; it must refer to {_targets_words(fld, vocab)}", ref, help)
        return referrers

    def _ref_diag(self, code, message, ref: _Ref, help=None):
        self.diags.append(Diagnostic(code, message, ref.location, ref.source, help))


def _is_yaml(name: str) -> bool:
    return name.endswith(YAML_SUFFIXES)


def _join(display: str, rel: str) -> str:
    return display + rel if display.endswith("/") else f"{display}/{rel}"


def _constant(fld: Field, text: str):
    if fld.type == "year" and text.isdigit():
        return int(text)
    return (text,) if fld.is_list else text


def _type_words(fld: Field, plural=False) -> str:
    t = fld.type
    words = {
        "id": ("an id", "ids"),
        "text": ("text", "texts"),
        "date": ("a date (YYYY-MM-DD)", "dates (YYYY-MM-DD)"),
        "year": ("a year", "years"),
        "boolean": ("true or false", "true or false values"),
        "enum": ("one of " + ", ".join(fld.values), "values among " + ", ".join(fld.values)),
        "ref": ("a reference (an id)", "references (ids)"),
    }.get(t, (t, t))
    return words[1] if plural else words[0]


def _targets_words(fld: Field, vocab: Vocabulary) -> str:
    parts = []
    for t in fld.targets:
        if t == "any":
            parts.append("any record or fixed body")
        elif t == "body":
            parts.append("a fixed body (" + ", ".join(vocab.bodies) + ")")
        elif t == "logo":
            parts.append("a logo (" + ", ".join(vocab.logos) + ")")
        elif t in vocab.kinds:
            parts.append(_article(vocab.kinds[t].singular))
        elif t in vocab.bodies:
            parts.append(f"the body {t}")
        elif t in vocab.logos:
            parts.append(f"the logo {t}")
        else:
            parts.append(t)
    if len(parts) <= 1:
        return "".join(parts) or "nothing"
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _candidates(fld: Field, vocab: Vocabulary, records: dict):
    targets = set(fld.targets)
    out = set()
    if "any" in targets:
        out.update(records)
        out.update(vocab.bodies)
    else:
        out.update(i for i, r in records.items() if r.kind in targets)
        if "body" in targets:
            out.update(vocab.bodies)
        if "logo" in targets:
            out.update(vocab.logos)
        out.update(t for t in targets if t in vocab.bodies or t in vocab.logos)
    return out


# ====================================================================== the entry points


def load_registry(path: str, vocab: Vocabulary, *, display: str | None = None,
                  add_files: Sequence[str] = (), remove_ids: Sequence[str] = (), cache=None) -> Registry:
    """Read and validate the registry folder at `path` (and a what-if proposal).

    `display` is the path shown in diagnostics and locations (default: `path`
    as given). `add_files` are proposal files whose records are added after
    the ids in `remove_ids` are left out; references are checked on the
    result. `cache` (checker.cache.RegistryCache) gives the records of files
    that read cleanly before; the checks across files are made all the same.
    Raises InputError with every diagnostic.
    """
    shown = (display if display is not None else path).replace("\\", "/")
    if len(shown) > 1:
        shown = shown.rstrip("/") or "/"
    ld = _Loader(vocab, cache)
    base = ld.read_folder(path, shown)
    base_complete = ld.complete
    proposal = []
    for a in add_files:
        a_shown = a.replace("\\", "/")
        p = Path(a)
        if not p.is_file():
            ld.err("proposal-not-found", f"proposal file {a_shown} " +
                   ("is not a file" if p.exists() else "does not exist"))
            ld.complete = False
            continue
        entry = fsread.given(a)  # named by the user: a link is followed, but only a regular file is opened
        if isinstance(entry, fsread.FsProblem):
            ld.problem(entry, a_shown)
            continue
        proposal.extend(ld.read_file(entry, a_shown))

    records: dict[str, Record] = {}
    kept: dict[str, _Read] = {}
    for r in base:
        rec = r.record
        if rec.id in records:
            _dup(ld, vocab, r, records[rec.id])
            continue
        records[rec.id] = rec
        kept[rec.id] = r
    from_registry = set(records)
    as_read = dict(records) if add_files or remove_ids else None
    removed: dict[str, Record] = {}
    for rid in dict.fromkeys(remove_ids):
        if rid in records:
            removed[rid] = records.pop(rid)
            del kept[rid]
        elif rid in vocab.bodies or rid in vocab.logos:
            owner = "fixed body" if rid in vocab.bodies else "logo"
            ld.err("unknown-id", f"cannot remove {rid!r}: it is a {owner}, not a record")
        elif base_complete:
            ld.err("unknown-id", f"cannot remove {rid!r}: the registry has no record with that id",
                   help=ld.suggest(rid, records, 0.8))
    for r in proposal:
        rec = r.record
        if rec.id in records:
            _dup(ld, vocab, r, records[rec.id], what_if=rec.id in from_registry and rec.id not in removed)
            continue
        records[rec.id] = rec
        kept[rec.id] = r

    reads = [kept[i] for i in records]
    referrers = ld.check_refs(reads, records, removed)
    for rid, refs in referrers.items():
        who = "; ".join(f"{what} (field {ref.field!r}, {ref.location.path}:{ref.location.line})" for what, ref in refs)
        ld.err("referenced-record", f"cannot remove {rid!r}: still referred to by {who}",
               help="remove or change the referring records too, or replace the record (--add a file with the same id)")
    if ld.diags:
        raise InputError(ld.diags)
    return Registry(shown, records, None if as_read is None else Registry(shown, as_read))


def _dup(ld: _Loader, vocab: Vocabulary, r: _Read, first: Record, what_if=False):
    rec = r.record
    fk = vocab.kinds[first.kind].singular
    loc = rec.field_locations.get("id", rec.location)
    if what_if:
        ld.diags.append(Diagnostic(
            "duplicate-id", f"the registry already has a record with id {rec.id!r} (the {fk} at {first.location})",
            loc, r.file.src(loc.line), f"to replace it, also remove it (--remove {rec.id})"))
    else:
        ld.diags.append(Diagnostic(
            "duplicate-id", f"id {rec.id!r} is already taken by the {fk} at {first.location}",
            loc, r.file.src(loc.line), "ids are unique across the whole registry"))


def _relations(vocab: Vocabulary) -> dict[str, list]:
    """Every declared relation, empty."""
    rels: dict[str, list[tuple]] = {}
    for k in vocab.kinds.values():
        rels[k.rel()] = []
        for fname in k.fields:
            if fname != "id":
                rels[k.field_rel(fname)] = []
    return rels


def _facts_checked(reg: Registry, vocab: Vocabulary) -> tuple[dict, dict]:
    """facts(), asking of every row whether it is new (what facts() does when rows can coincide)."""
    rels = _relations(vocab)
    locs: dict[tuple, Location] = {}

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


def facts(reg: Registry, vocab: Vocabulary) -> tuple[dict[str, list[tuple]], dict[tuple, Location]]:
    """The registry as relations for the engines, and where each row is written.

    Relations: `kind.rel()` with rows (id,) and `kind.field_rel(f)` with rows
    (id, value), one per list item; every declared relation is present, maybe
    empty. Rows follow the registry's order, then the kind's field order, then
    list order; a repeated row is given once. Locations: the record's line for
    its kind row and for defaulted fields, the key's line for written fields.
    """
    # A million tuples (of strings: the collector untracks them at its first look) and no cycle: collected
    # every 700 allocations, as by default, they took a third of the time; every few thousand, a tenth.
    # (Pausing the collector instead would leave all of them to the first collection after, as long again.)
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], _FACTS_GC_THRESHOLD), *thresholds[1:])
    try:
        return _facts(reg, vocab)
    finally:
        gc.set_threshold(*thresholds)


def _facts(reg: Registry, vocab: Vocabulary) -> tuple[dict, dict]:
    rels = _relations(vocab)
    # Record ids are unique (the registry is keyed by them), so a row can repeat only within one record's list
    # value: rows are added without asking whether they are new, list items once each, and the count of rows
    # checked at the end against the count of locations. Should two rows still coincide (relation names of
    # two kinds that clash, a registry made by hand), `_facts_checked` builds them asking every time.
    named: dict[str, tuple] = {}  # kind -> (relation, its list's append, {field: (relation, its list's append)})
    locs: dict[tuple, Location] = {}
    for rec in reg.records.values():
        kind_rels = named.get(rec.kind)
        if kind_rels is None:
            kind = vocab.kinds[rec.kind]
            kind_rels = named[rec.kind] = (kind.rel(), rels[kind.rel()].append, {
                f: (kind.field_rel(f), rels[kind.field_rel(f)].append) for f in kind.fields if f != "id"})
        rel, append, field_rels = kind_rels
        rid = rec.id
        where = rec.location
        row = (rid,)
        locs[(rel, row)] = where
        append(row)
        at = rec.field_locations
        for fname, v in rec.values.items():
            frel = field_rels.get(fname)
            if frel is None:
                if fname == "id":
                    continue
                return _facts_checked(reg, vocab)  # a field the kind does not declare (a registry made by hand)
            frel, append = frel
            if isinstance(v, tuple):
                loc = at.get(fname, where)
                for item in (v if len(v) < 2 else dict.fromkeys(v)):
                    row = (rid, item)
                    locs[frel, row] = loc
                    append(row)
            else:
                row = (rid, v)
                locs[frel, row] = at.get(fname, where)
                append(row)
    if sum(map(len, rels.values())) != len(locs):
        return _facts_checked(reg, vocab)
    return rels, locs
