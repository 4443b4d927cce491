"""A cache of validated registry files: an unchanged file is not read as YAML again.

Reading a registry is mostly YAML: a large registry spends nearly all of a
check parsing and validating files that have not changed since the last run.
`RegistryCache` keeps, for each file that read cleanly, the records it holds
(values, lines, references), under a key made of

- the SHA-256 of the file's bytes,
- the fingerprint of the rulebook's vocabulary (kinds, fields, types,
  bodies, logos: a record valid under one vocabulary may not be under
  another), and
- torcheck's version and the source of the loader and of this module (a
  change to validation invalidates every entry, released or not).

An entry is JSON (never pickle: a cache file is data, and reading it runs
nothing), one file per key under the cache folder: `$TORCHECK_CACHE_DIR`, or
`$XDG_CACHE_HOME/torcheck`, or `~/.cache/torcheck`. Only files read without
a single diagnostic are stored, so a file with a problem is read, and its
problems reported, every time. Cross-file checks (duplicate ids, references)
are not cached: `load_registry` makes them on every load, cached files or not.
Entries are sealed under the user's cache key (checker.trust): the key of an
entry is a digest of the file's bytes, which anyone could compute, but only
the user can seal what is kept under it. An entry that is not sealed for its
key, cannot be read, or does not match its key is ignored and written again; a cache folder that cannot be written to only makes the cache
useless, never the check wrong. Paths shown in locations are those of the
current run, not of the run that stored the entry.

`torcheck check --no-cache` reads every file.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from . import __version__
from .model import Location

FORMAT = 1
PRUNE_AFTER_DAYS = 30  # entries not used for this long are removed (at most once a day)


def cache_dir() -> Path:
    """The user's cache folder for torcheck."""
    env = os.environ.get("TORCHECK_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "torcheck"


def vocabulary_fingerprint(vocab) -> str:
    """A digest of everything in the vocabulary that validation depends on."""
    kinds = []
    for k in vocab.kinds.values():
        fields = [[f.name, f.type, list(f.values), list(f.targets), f.is_list, f.required,
                   list(f.required_when) if f.required_when else None, f.default] for f in k.fields.values()]
        kinds.append([k.name, k.singular, fields])
    doc = {"kinds": kinds, "bodies": list(vocab.bodies), "logos": list(vocab.logos)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _code_fingerprint() -> str:
    h = hashlib.sha256(f"torcheck {__version__} format {FORMAT}".encode())
    here = Path(__file__).resolve().parent
    for name in ("registry.py", "cache.py", "model.py", "diagnostics.py"):
        try:
            h.update((here / name).read_bytes())
        except OSError:
            h.update(name.encode())
    return h.hexdigest()


class _Lines:
    """A file's lines, split only if a diagnostic needs one (a duplicate id, say)."""

    def __init__(self, data: bytes):
        self.data = data
        self.lines = None

    def _split(self):
        if self.lines is None:
            from .registry import _LINE_BREAK

            self.lines = _LINE_BREAK.split(self.data.decode("utf-8"))
        return self.lines

    def __len__(self):
        return len(self._split())

    def __getitem__(self, i):
        return self._split()[i]


class RegistryCache:
    def __init__(self, vocab, folder: str | os.PathLike | None = None):
        from .trust import open_cache

        root = Path(folder) if folder is not None else cache_dir()
        self.salt = hashlib.sha256((vocabulary_fingerprint(vocab) + _code_fingerprint()).encode()).hexdigest()
        self.dir = root / "registry" / self.salt[:16]
        self.hits = self.misses = self.stored = 0
        self.cache = open_cache(folder)  # None: not trusted (checker.trust), nothing read or written
        self._subs: dict = {}

    def key(self, data: bytes) -> str:
        return hashlib.sha256(self.salt.encode() + b"\0" + data).hexdigest()

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def _folder(self, key: str) -> Path | None:
        """The trusted folder of key's entry (checker.trust), made if missing; None if there is none."""
        sub = key[:2]
        if sub not in self._subs:
            self._subs[sub] = None if self.cache is None else self.cache.folder("registry", self.salt[:16], sub)
        return self._subs[sub]

    # ------------------------------------------------------------ reading
    def get(self, data: bytes, shown: str):
        """The file's reads (checker.registry._Read) if cached, else None."""
        key = self.key(data)
        folder = self._folder(key)
        if folder is None:
            self.misses += 1
            return None
        path = folder / f"{key}.json"
        raw = self.cache.read(path)
        try:
            if raw is None or not self.cache.opens("registry", key, raw):  # sealed by this user, for this key
                raise ValueError("not sealed")
            entry = json.loads(raw)
            reads = self._reads(entry, key, data, shown)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError, MemoryError):
            self.misses += 1
            return None
        self.hits += 1
        try:
            if time.time() - path.stat().st_mtime > 86400:
                os.utime(path)  # still in use: keep it from being pruned
        except OSError:
            pass
        return reads

    def _reads(self, entry, key, data, shown):
        from .registry import _File, _Read, _Ref, _fast_loc, _fast_record_of

        if entry.get("format") != FORMAT or entry.get("key") != key:
            raise ValueError("not this entry")
        f = _File(shown, _Lines(data))
        out = []
        new, location = _new, Location
        # the fields' locations made in line (half a million per 100,000 records: a call each would be a
        # tenth of reading the cache), as checker.registry._fast_loc makes the others
        for kind, rid, values, line, field_lines, refs in entry["records"]:
            if not (kind.__class__ is str and rid.__class__ is str and values.__class__ is dict
                    and field_lines.__class__ is dict):
                raise ValueError("malformed")
            vals = {}
            for k, v in values.items():
                c = v.__class__
                if c is list:
                    v = tuple(v)
                elif c is not str and c is not int:  # not bool, a subclass of int
                    raise ValueError("malformed value")
                vals[k] = v
            fields = {}
            for k, n in field_lines.items():
                if n.__class__ is not int:
                    raise ValueError("malformed location")
                loc = new(location)
                d = loc.__dict__
                d["path"] = shown
                d["line"] = n
                d["column"] = None
                fields[k] = loc
            if line.__class__ is not int:
                raise ValueError("malformed location")
            rec = _fast_record_of(kind, rid, vals, _fast_loc(shown, line, None), fields)
            rs = []
            for fld, v, ln, col, src in refs:
                if ln.__class__ is not int or not (col is None or col.__class__ is int):
                    raise ValueError("malformed location")
                rs.append(_Ref(fld, v, _fast_loc(shown, ln, col), src))
            out.append(_Read(rec, rs, f))
        return out

    # ------------------------------------------------------------ writing
    def put(self, data: bytes, reads) -> None:
        """Store the reads of a file that read without a diagnostic."""
        key = self.key(data)
        records = []
        add = records.append
        for r in reads:  # tuples and the values' own dict: JSON writes them as arrays and an object
            rec = r.record
            add((rec.kind, rec.id, rec.values, rec.location.line,
                 {k: loc.line for k, loc in rec.field_locations.items()},
                 [(x.field, x.value, x.location.line, x.location.column, x.source) for x in r.refs]))
        folder = self._folder(key)
        if folder is None:
            return  # no trusted cache: the check goes on
        entry = {"format": FORMAT, "key": key, "records": records}
        # one string encoded whole: json.dump writes piece by piece
        raw = self.cache.seal("registry", key, _ENCODER.encode(entry).encode("ascii"))
        if not self.cache.write(folder / f"{key}.json", raw):
            return  # a cache that cannot be written is no cache; the check goes on
        self.stored += 1
        self._prune()

    def _prune(self):
        """Once a day at most: remove entries not used for PRUNE_AFTER_DAYS, and the folders of old versions."""
        top = self.cache.folder("registry")
        if top is None:
            return
        marker = top / ".pruned"
        now = time.time()
        try:
            if marker.exists() and now - marker.stat().st_mtime < 86400:
                return
            marker.touch(mode=0o600)
            cutoff = now - PRUNE_AFTER_DAYS * 86400
            for p in top.glob("*/*/*.json"):
                st = os.lstat(p)
                if st.st_mtime < cutoff:  # lstat: a link is removed, never what it points to
                    p.unlink(missing_ok=True)
        except OSError:
            return


_new = object.__new__
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)  # records hold no cycle
