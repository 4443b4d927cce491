"""A cache of compiled rulebooks: an unchanged rulebook is not parsed and compiled again.

Building Lark's parser, parsing the rule files and compiling them is most of
what a check of a small registry does besides starting Python. After a
successful compile, `compile_rulebook` (checker.compile) stores the
`Rulebook` here; the next run with the same key decodes it instead, and
imports neither lark nor checker.parse.

The key is the SHA-256 of

- torcheck's version and the source of every module the compiled result
  depends on (checker/compile.py, parse.py, ast.py, ir.py, model.py,
  dates.py, coverage.py, engines/checks.py, this module) and the grammar
  (grammar/rules.lark, found as checker.parse finds it);
- what the compiler reads of the rulebook folder: the name of the folder,
  the names and bytes of its *.rules files (outside `tests/` folders, as the
  compiler lists them), and tor.yaml and clauses.tsv;
- the `display` path, which ends up in the spans and locations of the result.

An entry is JSON, never pickle: reading one runs nothing. It encodes the
object graph of the rulebook: tuples, lists, dicts (any hashable keys, in
order), sets and frozensets, str/int/float/bool/None, and instances of the
dataclasses in `_CLASSES`, an explicit whitelist: decoding makes an instance
of a listed class from its dataclass fields only, and rejects the entry if
it names any other class, or a listed class whose fields have changed. Each
object is encoded once and referred to afterwards, so objects shared in the
compiled graph (the `Frame`s that `Explain.frames` share, which
checker.evaluate groups by identity; `ir.Pos` and terms shared between an
explanation and the program) are shared again after decoding. A graph that
holds anything else, or a cycle, is simply not cached.

Entries live under the user's cache folder (checker.cache.cache_dir(): it
honours $TORCHECK_CACHE_DIR), in `rulebooks/`, one file per rulebook folder
and display path, which holds its key: an edited rulebook replaces its entry.
Entries are written atomically (a temporary file, then os.replace) and sealed
under the user's cache key (checker.trust): the key above is a digest of
public inputs, which anyone could compute, but only the user can seal what is
kept under it. An entry that is not sealed for its key, cannot be read, is
truncated or corrupt, or has another key is ignored and written again; a cache folder that cannot be written only makes the cache
useless. Only a successful compile is stored: a rulebook with a problem is
compiled, and its diagnostics reported, every time.

Set the environment variable TORCHECK_NO_CACHE=1 (any value but "" or "0")
to compile the rulebook every time, neither reading nor writing entries.
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
from dataclasses import fields, is_dataclass
from pathlib import Path

FORMAT = 1
SUBFOLDER = "rulebooks"

_HERE = Path(__file__).resolve().parent
_SOURCES = ("compile.py", "parse.py", "ast.py", "ir.py", "model.py", "diagnostics.py", "dates.py", "coverage.py",
            "engines/checks.py", "rulecache.py")

# tags of encoded containers; a dataclass instance is tagged _CLASS_BASE + its index in the entry's class table
_REF, _TUPLE, _LIST, _DICT, _SET, _FROZENSET = range(6)
_CLASS_BASE = 6
_NEST = frozenset({list, dict})  # what JSON gives for a container: dec() decodes it (and rejects a JSON object)
_SEQ_TAGS = {tuple: _TUPLE, list: _LIST, set: _SET, frozenset: _FROZENSET}


def disabled() -> bool:
    return os.environ.get("TORCHECK_NO_CACHE", "") not in ("", "0")


# ====================================================================== the whitelist


def _classes() -> dict:
    """Every class a decoded entry may construct, by "module.qualname"."""
    from . import ast as A
    from . import compile as C
    from . import ir
    from . import model as M

    allowed = [
        # checker.compile
        C.Field, C.Kind, C.Vocabulary, C.Frame, C.Explain, C.Alternative, C.CompiledRule, C.CompiledDeadline,
        C.Rulebook,
        # checker.ir
        ir.V, ir.K, ir.Fn, ir.Pos, ir.Neg, ir.Cmp, ir.Let, ir.Rule, ir.Program,
        # checker.model
        M.Location, M.Diagnostic, M.Param, M.RuleInfo,
    ]
    # checker.ast: the syntax tree's node classes, listed by name (a missing one is simply not allowed)
    for name in ("Span", "Var", "Name", "Str", "Int", "DateLit", "Duration", "FieldRef", "Call", "BinOp", "And",
                 "Or", "Not", "Atom", "Compare", "InSet", "InField", "Presence", "SimpleType", "EnumType",
                 "RefType", "ListType", "FieldDecl", "KindDecl", "BodyDecl", "LogoDecl", "ParamDecl", "PredDecl",
                 "RuleDecl", "DeadlineDecl", "ClauseDecl", "RuleFile"):
        cls = getattr(A, name, None)
        if cls is not None:
            allowed.append(cls)
    return {_name(c): c for c in allowed if isinstance(c, type) and is_dataclass(c)}


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ====================================================================== the codec


class Unencodable(Exception):
    """The graph holds something the codec does not store (the rulebook is then not cached)."""


def encode(root, allowed: dict | None = None):
    """(class table, encoded root): JSON-ready data for the object graph at `root`."""
    allowed = _classes() if allowed is None else allowed
    memo: dict = {}  # id(obj) -> (number, obj)
    active: set = set()  # ids of the objects being encoded (a cycle is not stored)
    table: list = []  # [[class name, [field names]]]
    class_index: dict = {}  # class -> (tag, field names)

    def enc(x):
        t = type(x)
        if t is str or t is int or x is None or t is bool or t is float:
            return x
        i = id(x)
        seen = memo.get(i)
        if seen is not None:
            if i in active:
                raise Unencodable("a cycle")
            return [_REF, seen[0]]
        memo[i] = (len(memo), x)
        active.add(i)  # no need to discard it on an exception: Unencodable abandons the whole encoding
        if t is tuple or t is list or t is set or t is frozenset:
            out = [_SEQ_TAGS[t]]
            out.extend(map(enc, x))
        elif t is dict:
            out = [_DICT]
            for k, v in x.items():
                out.append(enc(k))
                out.append(enc(v))
        else:
            ci = class_index.get(t)
            if ci is None:
                name = _name(t)
                if allowed.get(name) is not t:
                    raise Unencodable(f"{name} is not in the whitelist")
                names = tuple(f.name for f in fields(t))
                ci = class_index[t] = (_CLASS_BASE + len(table), names)
                table.append([name, list(names)])
            tag, names = ci
            d = getattr(x, "__dict__", None)
            if d is None or len(d) != len(names) or any(n not in d for n in names):
                raise Unencodable(f"{_name(t)} holds attributes other than its fields")
            out = [tag]
            out.extend([enc(d[n]) for n in names])
        active.discard(i)
        return out

    return table, enc(root)


class _Pending:
    """The slot of an object being decoded: a reference to it is a cycle, which encode never writes."""


_PENDING = _Pending()
_new = object.__new__


def decode(table, data, allowed: dict | None = None):
    """The object graph encoded by `encode`; raises ValueError (or TypeError...) on anything unexpected."""
    allowed = _classes() if allowed is None else allowed
    if not isinstance(table, list):
        raise ValueError("malformed class table")
    classes = []
    for entry in table:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                and isinstance(entry[1], list)):
            raise ValueError("malformed class table")
        name, names = entry
        cls = allowed.get(name)  # a name outside the whitelist is never looked up anywhere else
        if cls is None:
            raise ValueError(f"class {name!r} is not allowed")
        expected = [f.name for f in fields(cls)]
        if names != expected:
            raise ValueError(f"the fields of {name} have changed")
        classes.append((cls, expected))
    objs: list = []
    append = objs.append
    ncls = len(classes)

    nest = _NEST

    def dec(x):
        # x is a list or a dict (the callers pass anything else through as it is: str, int, float, bool, None)
        if type(x) is not list or not x:
            raise ValueError("malformed entry")
        tag = x[0]
        if type(tag) is not int:
            raise ValueError("malformed entry")
        if tag >= _CLASS_BASE:
            if tag >= _CLASS_BASE + ncls:
                raise ValueError("unknown tag")
            cls, names = classes[tag - _CLASS_BASE]
            if len(x) != len(names) + 1:
                raise ValueError("malformed instance")
            slot = len(objs)
            append(_PENDING)
            # made from its fields without running __init__ (nor anything else): equal to the one encoded
            o = _new(cls)
            o.__dict__.update(zip(names, [dec(y) if type(y) in nest else y for y in x[1:]]))
            objs[slot] = o
            return o
        if tag == _REF:
            if len(x) != 2 or type(x[1]) is not int or not 0 <= x[1] < len(objs):
                raise ValueError("bad reference")
            o = objs[x[1]]
            if o is _PENDING:
                raise ValueError("a cycle")
            return o
        slot = len(objs)
        append(_PENDING)
        if tag == _TUPLE:
            o = tuple([dec(y) if type(y) in nest else y for y in x[1:]])
        elif tag == _LIST:
            o = [dec(y) if type(y) in nest else y for y in x[1:]]
        elif tag == _DICT:
            if len(x) % 2 != 1:
                raise ValueError("malformed dict")
            o = {}
            for j in range(1, len(x), 2):
                k, v = x[j], x[j + 1]
                k = dec(k) if type(k) in nest else k
                o[k] = dec(v) if type(v) in nest else v
        elif tag == _SET:
            o = {dec(y) if type(y) in nest else y for y in x[1:]}
        elif tag == _FROZENSET:
            o = frozenset([dec(y) if type(y) in nest else y for y in x[1:]])
        else:
            raise ValueError("unknown tag")
        objs[slot] = o
        return o

    return dec(data) if type(data) in _NEST else data


# ====================================================================== the key


def _source_digest() -> bytes:
    from . import __version__

    h = hashlib.sha256(f"torcheck {__version__} rulecache format {FORMAT}\0".encode())
    for name in _SOURCES:
        h.update(name.encode() + b"\0")
        try:
            h.update((_HERE / name).read_bytes())
        except OSError:
            h.update(b"\0missing\0")
        h.update(b"\0")
    h.update(b"grammar\0")
    grammar = _HERE.parent / "grammar" / "rules.lark"  # where checker.parse.grammar_text looks first
    if grammar.is_file():
        h.update(grammar.read_bytes())
    else:
        from importlib import resources

        h.update(resources.files("checker.grammar").joinpath("rules.lark").read_bytes())
    return h.digest()


class _NotCacheable(Exception):
    """The folder holds something the compiler reports on (a FIFO named *.rules, an unreadable file)."""


def rulebook_key(path, display) -> str:
    """The key of the compile of the rulebook at `path` shown as `display`; raises _NotCacheable."""
    folder = Path(path)
    if not folder.is_dir():
        raise _NotCacheable("no folder")
    h = hashlib.sha256(_source_digest())
    h.update(b"display\0" + repr((str(display) if display else None, str(path))).encode("utf-8", "surrogatepass"))
    h.update(b"\0name\0" + folder.resolve().name.encode("utf-8", "surrogatepass"))
    # the files the compiler lists, in its order, listed and read as it reads them (checker.fsread): nothing
    # the compiler would refuse (a FIFO, a device, a link out of the folder) is opened here
    from . import fsread

    files, problems = fsread.rule_files(folder)
    if problems:
        raise _NotCacheable(problems[0].code)
    if not files:
        raise _NotCacheable("no rule file")
    for e in files:
        try:
            data = fsread.read(e)
        except fsread.FsProblem as pr:
            raise _NotCacheable(pr.code) from None
        rel = e.rel.encode("utf-8", "surrogatepass")
        h.update(b"\0rules\0%d\0%s\0%d\0" % (len(rel), rel, len(data)) + data)
    for name in ("tor.yaml", "clauses.tsv"):
        e = fsread.one_file(folder, name)
        if isinstance(e, fsread.FsProblem):
            raise _NotCacheable(e.code)
        if e is not None:
            try:
                data = fsread.read(e)
            except fsread.FsProblem as pr:
                raise _NotCacheable(pr.code) from None
            h.update(b"\0%s\0%d\0" % (name.encode(), len(data)) + data)
        else:
            h.update(b"\0%s\0absent\0" % name.encode())
    return h.hexdigest()


def _entry_path(path, display) -> Path | None:
    """Where the entry of this rulebook and display path is, in the trusted cache folder (or None)."""
    from .trust import open_cache

    cache = open_cache()
    folder = cache.folder(SUBFOLDER) if cache is not None else None
    if folder is None:
        return None
    where = repr((str(Path(path).resolve()), str(display) if display else None))
    name = hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return folder / f"{name}.json"


# ====================================================================== reading and writing


def load(path, display):
    """(rulebook or None, a token for `store`). Never raises: a cache that does not answer is a miss."""
    if disabled():
        return None, None
    try:
        key = rulebook_key(path, display)
        entry_path = _entry_path(path, display)
    except (_NotCacheable, OSError, ValueError, TypeError, LookupError, ImportError):
        return None, None
    if entry_path is None:  # no trusted cache folder (checker.trust)
        return None, None
    from .trust import open_cache

    cache = open_cache()
    token = (key, entry_path, (path, display))
    raw = cache.read(entry_path)
    if raw is None or not cache.opens("rulebook", key, raw):  # sealed by this user, for this key
        return None, token
    try:
        was = gc.isenabled()
        gc.disable()  # thousands of small objects and no garbage: the collector would only slow decoding down
        try:
            entry = json.loads(raw.decode("utf-8", "surrogatepass"))
            if not (isinstance(entry, dict) and entry.get("format") == FORMAT and entry.get("key") == key):
                return None, token
            rb = decode(entry["classes"], entry["root"])
        finally:
            if was:
                gc.enable()
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError, MemoryError):
        return None, token
    if _name(type(rb)) != "checker.compile.Rulebook":
        return None, token
    return rb, token


def store(token, rulebook) -> None:
    """Store a successfully compiled rulebook under `token` (from `load`); never raises on a cache problem."""
    if token is None or disabled():
        return
    key, entry_path, _ = token
    try:
        if rulebook_key(*token[2]) != key:  # a file changed while it was compiled: the key may not be its own
            return
    except (_NotCacheable, OSError, ValueError, TypeError, LookupError, ImportError):
        return
    was = gc.isenabled()
    gc.disable()
    try:
        table, root = encode(rulebook)
        text = json.dumps({"format": FORMAT, "key": key, "classes": table, "root": root},
                          ensure_ascii=False, separators=(",", ":"), check_circular=False)
    except (Unencodable, ValueError, TypeError, RecursionError):
        return
    finally:
        if was:
            gc.enable()
    from .trust import open_cache

    cache = open_cache()
    if cache is not None:
        cache.write(entry_path, cache.seal("rulebook", key, text.encode("utf-8", "surrogatepass")))
