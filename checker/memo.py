"""Kept results: a check whose inputs have not changed since it was last made is not made again.

A check is a function of its inputs: the bytes of every registry file, the
rulebook's files, the as-of date, the engine asked for, the paths shown in
the report, torcheck's own code and the Python running it. `ResultMemo` digests all of them into one
key (SHA-256) and keeps, under it, the violations the check found (the
complete JSON of each, explanation and record location included) and the
number of records. The next `torcheck check` with the same key reads them
back instead of reading the registry and evaluating the rules; any change to
any of those inputs (one byte of one file, a file added or removed, another
`--as-of`) gives another key, and the check is made in full.

The registry's files are listed and read as the loader lists and reads them
(checker.fsread): the key covers exactly the files the loader reads, and
nothing is opened that the loader would refuse (a FIFO, a device, a link out
of the folder); the rulebook's folder is listed whole (names beginning with
`.` too). Hashing the
files is the whole cost of a kept result: 13 MB (100,000 records) hash in
about 30 ms. A file that cannot be read gives no key: the check is made in
full and reports the problem.

Only the result of a check that read every input without a problem is kept
(a problem stops the check before it gets here). Entries are JSON, never
pickle, sealed under the user's cache key (checker.trust): the key of an
entry is a digest of public inputs, so anyone could compute it, but only the
user can seal what is kept under it. An entry that is not sealed for its
key, does not parse or does not match its key is ignored and written again. They live in `results/` under the cache folder of
checker.cache (`--no-cache` skips them too), and the oldest go once there
are more than KEEP.

What-if uses a kept result for the registry as it is (the `before` side).
A check made with the SQLite engine also keeps its database, facts and
derived relations (23 MB and 40 ms to write at 100,000 records; the
KEEP_STATES newest), its bytes sealed in a file beside it: what-if then changes a copy of it by the proposal's
facts and evaluates again only the strata those reach, instead of the whole
proposed registry (checker.whatif.from_state).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from pathlib import Path

from . import __version__
from .model import Location, Violation

FORMAT = 1
KEEP = 32  # entries kept; the oldest beyond this are removed
KEEP_STATES = 2  # kept databases (100,000 records: 23 MB each)
_YAML = (".yaml", ".yml")


def _code_fingerprint() -> bytes:
    """torcheck's version and the bytes of its package (code and grammar): a change of either is a new key."""
    h = hashlib.sha256(f"torcheck {__version__} memo {FORMAT} python {sys.version}".encode())
    here = Path(__file__).resolve().parent
    for p in sorted(here.rglob("*")):
        if p.suffix in (".py", ".lark") and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(here)).encode() + b"\0")
            h.update(p.read_bytes())
    grammar = here.parent / "grammar"
    if grammar.is_dir():
        for p in sorted(grammar.glob("*.lark")):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.digest()


def _tree(h, root: Path, want=None, hidden=True) -> None:
    """Every file below root (sorted, symlinked folders not followed), name and content, into h.

    Listed and read by checker.fsread, as the loader lists and reads them: a FIFO, a device, a link out of
    the folder or a folder that cannot be listed is never opened, and gives no key (OSError)."""
    from . import fsread

    files, problems = fsread.listing(root, want=want, hidden=hidden)
    if problems:
        raise OSError(problems[0].code)
    if not files:
        raise OSError("no files")
    for e in files:
        try:
            data = fsread.read(e)
        except fsread.FsProblem as pr:
            raise OSError(pr.code) from None
        h.update(e.rel.encode("utf-8", "surrogateescape") + b"\0")
        h.update(len(data).to_bytes(8, "big"))
        h.update(hashlib.sha256(data).digest())


def check_key(registry: str, shown: str, rules_dir: str, rules_shown: str, as_of: str, engine: str) -> str | None:
    """The key of a check's inputs, or None when one cannot be read (the check then runs and says why)."""
    try:
        root = Path(registry)
        if not root.is_dir():
            return None
        h = hashlib.sha256(_code_fingerprint())
        for part in (shown, rules_shown, as_of, engine):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        _tree(h, Path(rules_dir))
        h.update(b"\0registry\0")
        _tree(h, root, lambda name: name.endswith(_YAML), hidden=False)  # the files the loader reads
        return h.hexdigest()
    except (OSError, ValueError):
        return None


class ResultMemo:
    def __init__(self, folder: str | os.PathLike | None = None):
        from .cache import cache_dir
        from .trust import open_cache

        self.dir = (Path(folder) if folder is not None else cache_dir()) / "results"
        self.cache = open_cache(folder)  # None: not trusted (checker.trust), nothing read or kept
        self._dir = None

    def _folder(self) -> Path | None:
        if self._dir is None and self.cache is not None:
            self._dir = self.cache.folder("results")
        return self._dir

    def _path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: str | None):
        """(records, violations) kept under key, or None."""
        if key is None or self._folder() is None:
            return None
        path = self._folder() / f"{key}.json"
        raw = self.cache.read(path)
        if raw is None or not self.cache.opens("result", key, raw):  # sealed by this user, for this key
            return None
        try:
            entry = json.loads(raw)
            if entry.get("format") != FORMAT or entry.get("key") != key:
                return None
            records = entry["records"]
            if type(records) is not int:
                return None
            vs = [_violation(v) for v in entry["violations"]]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError, MemoryError):
            return None
        try:
            os.utime(path)  # recently used: the last to be removed
        except OSError:
            pass
        return records, vs

    def put(self, key: str | None, records: int, violations) -> None:
        if key is None or self._folder() is None:
            return
        entry = {"format": FORMAT, "key": key, "records": records,
                 "violations": [_encode(v) for v in violations]}
        body = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if self.cache.write(self._folder() / f"{key}.json", self.cache.seal("result", key, body)):
            self._prune()  # a result that cannot be kept is only made again next time

    def _prune(self, pattern="*.json", keep=KEEP):
        entries = []
        try:
            for p in self._folder().glob(pattern):
                try:
                    entries.append((p.stat().st_mtime, p.name, p))
                except OSError:
                    continue
            entries.sort(reverse=True)
            for _, _, p in entries[keep:]:
                p.unlink(missing_ok=True)
                if pattern == "*.sqlite":
                    p.with_name(p.name + ".mac").unlink(missing_ok=True)
        except OSError:
            return

    # ------------------------------------------------------------ the evaluation itself, for what-if
    def state_path(self, key: str) -> Path:
        return self.dir / f"{key}.sqlite"

    def put_state(self, key: str | None, engine) -> None:
        """Keep the SQLite engine's database (facts and derived relations) beside the result of `key`.

        The database's bytes are sealed (checker.trust) in KEY.sqlite.mac, written after the database:
        a database and a seal that do not go together are only a database not used.
        """
        if key is None or not hasattr(engine, "dump") or self._folder() is None:
            return
        import sqlite3

        try:
            data = engine.dump()
        except (OSError, sqlite3.Error, MemoryError):
            return
        path = self._folder() / f"{key}.sqlite"
        seal = path.with_name(path.name + ".mac")
        try:
            seal.unlink(missing_ok=True)
        except OSError:
            return
        if self.cache.write(path, data) and self.cache.write(seal, self.cache.mac("state", key, data).encode()):
            self._prune("*.sqlite", KEEP_STATES)

    def state(self, key: str | None) -> bytes | None:
        """The bytes of the database kept beside the result of `key`, if there is one sealed for it."""
        if key is None or self._folder() is None:
            return None
        path = self._folder() / f"{key}.sqlite"
        seal = self.cache.read(path.with_name(path.name + ".mac"))
        if seal is None:
            return None
        data = self.cache.read(path)
        if data is None or not hmac.compare_digest(seal.strip(), self.cache.mac("state", key, data).encode()):
            return None
        try:
            os.utime(path)  # recently used: the last to be removed
        except OSError:
            pass
        return data


def _encode(v: Violation) -> dict:
    d = v.to_json()
    loc = v.location
    d["location"] = None if loc is None else [loc.path, loc.line, loc.column]
    return d


def _violation(d: dict) -> Violation:
    loc = d["location"]
    if loc is not None:
        path, line, column = loc
        if not (isinstance(path, str) and type(line) is int and (column is None or type(column) is int)):
            raise ValueError("malformed location")
        loc = Location(path, line, column)
    for k in ("rule", "clause", "severity", "record", "message"):
        if not isinstance(d[k], str):
            raise ValueError("malformed violation")
    if not isinstance(d["because"], list):
        raise ValueError("malformed explanation")
    return Violation(rule=d["rule"], clause=d["clause"], severity=d["severity"], record=d["record"],
                     message=d["message"], because=tuple(d["because"]), location=loc)
