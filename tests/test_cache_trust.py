"""What the caches trust (checker.trust): a cache is an accelerator, never an input.

Anyone who can write the cache folder can compute every entry's key (a digest of public inputs);
only the user can seal an entry with the key kept outside it. Each attack of issue 12 is made here
through the command line, and the verdict (exit status and report) must be that of `--no-cache`.
Each attack is also made once with the user's own seal, which the cache does accept: proof that the
test forges what a check really reads.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from checker import rulecache
from checker.files import display_path
from checker.pipeline import default_rules_dir
from checker.memo import check_key

from .conftest import ROOT, torcheck

AS_OF = "2026-11-28"
ARGS = ("--as-of", AS_OF)


def reseal(path: Path, data: dict, purpose: str, key: str | None = None) -> None:
    """Write an entry's JSON (`data`, its seal left out) to `path`, sealed with the user's key for `key`.

    This is what only the user (torcheck itself) can do: the cache then uses the entry. `purpose` is
    "rulebook", "registry" or "result"; `key` defaults to the entry's own key.
    """
    from checker.trust import open_cache

    body = json.dumps({k: v for k, v in data.items() if k != "mac"}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    cache = open_cache(path.parent)
    assert cache is not None
    path.write_bytes(cache.seal(purpose, key or data["key"], body))


def files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and not p.name.startswith("."))


def verdict(r):
    return r.returncode, r.stdout


@pytest.fixture
def reg(facts_copy):
    return facts_copy


@pytest.fixture
def no_cache(reg):
    r = torcheck("check", str(reg), *ARGS, "--format", "json", "--no-cache")
    assert r.returncode == 1 and json.loads(r.stdout)["violations"]
    return r


# ====================================================================== the three attacks of the issue


def _rulebook_entry(cache_folder: Path) -> Path:
    [path] = files(cache_folder / "rulebooks", "*.json")
    return path


def _without_alternatives(entry: dict) -> dict:
    rb = rulecache.decode(entry["classes"], entry["root"])
    assert rb.rules
    for r in rb.rules:
        object.__setattr__(r, "alternatives", type(r.alternatives)())
    table, root = rulecache.encode(rb)
    return {"format": entry["format"], "key": entry["key"], "classes": table, "root": root}


def test_a_compiled_rulebook_emptied_of_its_alternatives_changes_no_verdict(reg, cache_folder, no_cache):
    args = ("check", str(reg), *ARGS, "--format", "json")
    assert verdict(torcheck(*args)) == verdict(no_cache)
    shutil.rmtree(cache_folder / "results")  # and no kept result to answer instead of the rulebook
    path = _rulebook_entry(cache_folder)
    entry = json.loads(path.read_bytes())
    forged = _without_alternatives(entry)
    for mac in (None, entry["mac"]):  # no seal; the genuine entry's seal copied
        body = json.dumps(forged if mac is None else {**forged, "mac": mac}, separators=(",", ":"))
        path.write_text(body, encoding="utf-8")
        r = torcheck(*args)
        assert verdict(r) == verdict(no_cache), r.stderr
        assert r.stderr == ""
        shutil.rmtree(cache_folder / "results")
    # the same entry sealed with the user's key is what a check reads: "No violations", exit 0
    reseal(path, forged, "rulebook")
    r = torcheck(*args)
    assert r.returncode == 0 and json.loads(r.stdout)["violations"] == []


def test_a_forged_kept_result_changes_no_verdict(reg, cache_folder, no_cache):
    args = ("check", str(reg), *ARGS, "--format", "json")
    rules = default_rules_dir()
    key = check_key(str(reg), display_path(str(reg)), rules, display_path(rules), AS_OF, "auto")
    assert key is not None
    forged = {"format": 1, "key": key, "records": 165, "violations": []}
    results = cache_folder / "results"
    results.mkdir(parents=True, mode=0o700)
    (results / f"{key}.json").write_text(json.dumps(forged), encoding="utf-8")
    r = torcheck(*args)
    assert verdict(r) == verdict(no_cache) and r.stderr == ""
    assert files(results, "*.json") == [results / f"{key}.json"]  # the key is the one a check uses...
    assert json.loads((results / f"{key}.json").read_bytes())["violations"]  # ...and the entry written again
    assert verdict(torcheck(*args)) == verdict(no_cache)
    # sealed with the user's key, the same entry is what the check says
    reseal(results / f"{key}.json", forged, "result")
    r = torcheck(*args)
    assert r.returncode == 0 and json.loads(r.stdout)["violations"] == []


def _publications_entry(cache_folder: Path):
    for path in files(cache_folder / "registry", "*.json"):
        entry = json.loads(path.read_bytes())
        if any(rec[0] == "publications" and "logos" in rec[2] for rec in entry["records"]):
            return path, entry
    raise AssertionError("no cached publications entry with a logo")


def test_a_registry_entry_without_its_logos_changes_no_verdict(reg, cache_folder, no_cache):
    args = ("check", str(reg), *ARGS, "--format", "json")
    assert any(v["rule"] == "u4ssc-logo-without-approval" for v in json.loads(no_cache.stdout)["violations"])
    assert verdict(torcheck(*args)) == verdict(no_cache)
    path, entry = _publications_entry(cache_folder)
    for rec in entry["records"]:
        if rec[0] == "publications":
            rec[2].pop("logos", None)
            rec[4].pop("logos", None)
    shutil.rmtree(cache_folder / "results")
    path.write_text(json.dumps(entry), encoding="utf-8")  # the genuine seal kept, the entry changed
    r = torcheck(*args)
    assert verdict(r) == verdict(no_cache) and r.stderr == ""
    # sealed with the user's key, the entry is read instead of the file: the logo violation goes
    shutil.rmtree(cache_folder / "results")
    reseal(path, entry, "registry")
    r = torcheck(*args)
    rules = {v["rule"] for v in json.loads(r.stdout)["violations"]}
    assert "u4ssc-logo-without-approval" not in rules


def test_an_entry_under_another_entry_s_name_is_not_used(reg, cache_folder):
    """A genuine entry copied over another's: sealed for its own key only (no replay)."""
    a = ("check", str(reg), "--as-of", "2026-03-01", "--format", "json")
    b = ("check", str(reg), *ARGS, "--format", "json")
    torcheck(*a)
    expected = torcheck(*b, "--no-cache")
    first = set(files(cache_folder / "results", "*.json"))
    torcheck(*b)
    [mine] = set(files(cache_folder / "results", "*.json")) - first
    [other] = first
    shutil.copyfile(other, mine)
    assert verdict(torcheck(*b)) == verdict(expected)


# ====================================================================== damage to each cache file in turn


def _empty_lists(x):
    if isinstance(x, list):
        return []
    if isinstance(x, dict):
        return {k: _empty_lists(v) for k, v in x.items()}
    return x


def _first_items(x):
    if isinstance(x, list):
        return [_first_items(y) for y in x[:1]]
    if isinstance(x, dict):
        return {k: _first_items(v) for k, v in x.items()}
    return x


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty tables":
        db = sqlite3.connect(path)
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            db.execute(f"DELETE FROM {name}")
        db.commit()
        db.close()
    else:
        entry = json.loads(data)
        path.write_text(json.dumps((_empty_lists if how == "empty lists" else _first_items)(entry)),
                        encoding="utf-8")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A registry, its report and what-if without a cache, and a cache folder filled by checking it."""
    from .test_memo import PROPOSAL  # (test_memo imports reseal from here)

    base = tmp_path_factory.mktemp("damage")
    reg = base / "reg"
    shutil.copytree(ROOT / "facts" / "u4ssc", reg)
    (base / "proposal.yaml").write_text(PROPOSAL, encoding="utf-8")
    cache = base / "cache"
    env = {"TORCHECK_CACHE_DIR": str(cache)}
    check = ("check", str(reg), *ARGS, "--engine", "sqlite", "--format", "json")
    whatif = ("what-if", str(reg), "--add", str(base / "proposal.yaml"), *ARGS, "--engine", "sqlite")
    expected = (torcheck(*check, "--no-cache"), torcheck(*whatif, "--no-cache"))
    assert verdict(torcheck(*check, env=env)) == verdict(expected[0])
    assert verdict(torcheck(*whatif, env=env)) == verdict(expected[1])
    pristine = base / "pristine"
    shutil.copytree(cache, pristine)
    return base, check, whatif, expected, pristine


def _cache_files():
    """(kind, index) of every cache file the example leaves, and the damages that apply to it."""
    out = []
    reg_entries = len(list((ROOT / "facts" / "u4ssc").rglob("*.yaml"))) + 1  # the example's files, the proposal
    for kind, n, hows in (("rulebooks", 1, ("empty lists", "first items", "truncate")),
                          ("registry", reg_entries, ("empty lists", "first items", "truncate")),
                          ("result", 1, ("empty lists", "first items", "truncate")),
                          ("database", 1, ("empty tables", "truncate")),
                          ("seal", 1, ("truncate",))):
        for i in range(n):
            for how in hows:
                out.append((kind, i, how))
    return out


def _which(cache: Path, kind: str) -> list[Path]:
    if kind == "rulebooks":
        return files(cache / "rulebooks", "*.json")
    if kind == "registry":
        return files(cache / "registry", "*.json")
    return files(cache / "results", {"result": "*.json", "database": "*.sqlite", "seal": "*.sqlite.mac"}[kind])


@pytest.mark.parametrize("kind,index,how", _cache_files())
def test_damage_to_any_cache_file_leaves_the_report_byte_identical(made, tmp_path, kind, index, how):
    base, check, whatif, expected, pristine = made
    cache = tmp_path / "cache"
    shutil.copytree(pristine, cache)
    env = {"TORCHECK_CACHE_DIR": str(cache)}
    assert len(_which(cache, "registry")) == len(list((base / "reg").rglob("*.yaml"))) + 1
    targets = _which(cache, kind)
    _damage(targets[index], how)
    if kind in ("rulebooks", "registry"):  # else the kept result answers without reading them
        for p in _which(cache, "result"):
            p.unlink()
    r = torcheck(*check, env=env)
    assert (r.returncode, r.stdout, r.stderr) == (expected[0].returncode, expected[0].stdout, expected[0].stderr)
    if kind in ("result", "database", "seal"):  # what-if reads the kept result and database
        shutil.rmtree(cache)
        shutil.copytree(pristine, cache)
        _damage(_which(cache, kind)[index], how)
        r = torcheck(*whatif, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (expected[1].returncode, expected[1].stdout, expected[1].stderr)
    # damaged or not, a second run reads the cache (written again) to the same report
    assert verdict(torcheck(*check, env=env)) == verdict(expected[0])


def test_a_deeply_nested_registry_entry_is_a_miss(reg, cache_folder, no_cache):
    args = ("check", str(reg), *ARGS, "--format", "json")
    torcheck(*args)
    shutil.rmtree(cache_folder / "results")
    entries = files(cache_folder / "registry", "*.json")
    from checker.trust import open_cache

    deep = b"[" * 200000
    entries[0].write_bytes(deep)  # not sealed
    key = entries[1].stem
    body = b'{"format":1,"key":"%s","records":%s}' % (key.encode(), deep)
    entries[1].write_bytes(open_cache(entries[1].parent).seal("registry", key, body))  # sealed, and too deep
    r = torcheck(*args)
    assert verdict(r) == verdict(no_cache)
    assert "Traceback" not in r.stderr and r.stderr == ""


def test_an_entry_that_is_a_fifo_or_a_link_to_a_device_is_a_miss(reg, cache_folder, no_cache):
    args = ("check", str(reg), *ARGS, "--format", "json")
    torcheck(*args)
    shutil.rmtree(cache_folder / "results")
    entries = files(cache_folder / "registry", "*.json")
    entries[0].unlink()
    os.mkfifo(entries[0])
    entries[1].unlink()
    entries[1].symlink_to("/dev/zero")
    r = torcheck(*args)  # the helper's timeout: a hang fails the test
    assert verdict(r) == verdict(no_cache) and r.stderr == ""


# ====================================================================== folders and key the cache does not trust


def _planted(reg, cache_folder):
    """A check's kept result altered and sealed with the user's key: read only if the cache is used."""
    args = ("check", str(reg), *ARGS, "--format", "json")
    torcheck(*args)
    [entry] = files(cache_folder / "results", "*.json")
    data = json.loads(entry.read_bytes())
    data["violations"] = []
    reseal(entry, data, "result")
    r = torcheck(*args)
    assert r.returncode == 0  # the planted entry is read while the cache is trusted
    return args, entry


def _listing(folder: Path):
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.mark.parametrize("where", ["cache folder", "results folder"])
@pytest.mark.parametrize("mode", [0o770, 0o707])
def test_a_cache_folder_others_may_write_is_not_used(reg, cache_folder, no_cache, where, mode):
    args, entry = _planted(reg, cache_folder)
    folder = cache_folder if where == "cache folder" else entry.parent
    os.chmod(folder, mode)
    before = _listing(cache_folder)
    r = torcheck(*args)
    assert verdict(r) == verdict(no_cache)
    assert r.stderr.count("warning[untrusted-cache]") == 1 and str(folder) in r.stderr
    assert "may write" in r.stderr
    assert _listing(cache_folder) == before  # nothing read back, nothing written
    os.chmod(folder, 0o700)
    assert torcheck(*args).returncode == 0  # trusted again: the (user's own) entry is read


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root (chown)")
def test_a_cache_folder_owned_by_another_user_is_not_used(reg, cache_folder, no_cache):
    args, entry = _planted(reg, cache_folder)
    os.chown(cache_folder, 4242, 4242)
    r = torcheck(*args)
    assert verdict(r) == verdict(no_cache)
    assert "owned by another user" in r.stderr


def _key(cache_folder) -> Path:
    return Path(os.environ["TORCHECK_CACHE_KEY_FILE"])


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_key_others_may_read_or_write_is_not_trusted(reg, cache_folder, no_cache, mode):
    args, _ = _planted(reg, cache_folder)
    key = _key(cache_folder)
    old = key.stat().st_mode
    try:
        os.chmod(key, mode)
        before = _listing(cache_folder)
        r = torcheck(*args)
        assert verdict(r) == verdict(no_cache)
        assert r.stderr.count("warning[untrusted-cache]") == 1 and "chmod 600" in r.stderr
        assert _listing(cache_folder) == before
    finally:
        os.chmod(key, old)


def test_a_key_that_is_a_link_elsewhere_or_inside_the_cache_is_not_trusted(reg, cache_folder, no_cache, tmp_path):
    args, _ = _planted(reg, cache_folder)
    real = _key(cache_folder)
    link = tmp_path / "keys" / "link"
    link.parent.mkdir(mode=0o700)
    link.symlink_to(real)
    r = torcheck(*args, env={"TORCHECK_CACHE_KEY_FILE": str(link)})
    assert verdict(r) == verdict(no_cache) and "symbolic link" in r.stderr
    inside = cache_folder / "cache-key"
    shutil.copyfile(real, inside)
    os.chmod(inside, 0o600)
    r = torcheck(*args, env={"TORCHECK_CACHE_KEY_FILE": str(inside)})
    assert verdict(r) == verdict(no_cache) and "inside the cache folder" in r.stderr
    if os.getuid() == 0:
        theirs = tmp_path / "keys" / "theirs"
        shutil.copyfile(real, theirs)
        os.chmod(theirs, 0o600)
        os.chown(theirs, 4242, 4242)
        r = torcheck(*args, env={"TORCHECK_CACHE_KEY_FILE": str(theirs)})
        assert verdict(r) == verdict(no_cache) and "owned by another user" in r.stderr


def test_another_key_makes_every_entry_a_miss(reg, cache_folder, no_cache, tmp_path):
    """A fresh key per CI job: a restored cache is read as empty, and nothing it holds is believed."""
    args, _ = _planted(reg, cache_folder)
    r = torcheck(*args, env={"TORCHECK_CACHE_KEY_FILE": str(tmp_path / "job" / "cache-key")})
    assert verdict(r) == verdict(no_cache) and r.stderr == ""


def test_the_key_and_the_folders_are_made_private_whatever_the_umask(reg, tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home))
    for var in ("TORCHECK_CACHE_DIR", "TORCHECK_CACHE_KEY_FILE", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        env.pop(var, None)
    r = subprocess.run([sys.executable, "-m", "checker.cli", "check", str(reg), *ARGS, "--engine", "sqlite"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                       preexec_fn=lambda: os.umask(0))
    assert r.returncode == 1 and r.stderr == ""
    key = home / ".config" / "torcheck" / "cache-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    for folder in (home / ".config", key.parent, home / ".cache", home / ".cache" / "torcheck"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    made = list((home / ".cache" / "torcheck").rglob("*"))
    assert any(p.suffix == ".sqlite" for p in made) and any(p.parent.name == "rulebooks" for p in made)
    for p in made:
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p
