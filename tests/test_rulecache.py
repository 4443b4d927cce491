"""The cache of compiled rulebooks (checker.rulecache).

A rulebook from the cache is the rulebook the compiler makes: equal field by
field, with the same objects shared, and the CLI says byte for byte the same
with a cold and a warm cache on both engines. A corrupt or foreign entry is
ignored and written again, and reading one constructs nothing outside the
whitelist; an edit invalidates; a rulebook with a problem is reported every
time; TORCHECK_NO_CACHE=1 bypasses the cache.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker import rulecache
from checker.compile import Compiler, compile_rulebook
from checker.model import InputError

from .conftest import FACTS, ROOT, RULES, torcheck
from .test_cache_trust import reseal
from .test_check_cli import AS_OF, REGISTRY


@pytest.fixture
def cache(cache_folder, monkeypatch):
    """A cache folder of the test's own, empty; the cache enabled."""
    monkeypatch.delenv("TORCHECK_NO_CACHE", raising=False)
    return cache_folder


@pytest.fixture
def book(tmp_path):
    """A copy of the U4SSC rulebook that a test may edit."""
    dst = tmp_path / "u4ssc"
    shutil.copytree(RULES, dst)
    return dst


def entries(folder: Path):
    return sorted((folder / rulecache.SUBFOLDER).glob("*.json")) if (folder / rulecache.SUBFOLDER).is_dir() else []


def fresh(path, display=None):
    """A compile that never touches the cache."""
    return Compiler(str(path), display).compile()


def assert_same_sharing(a, b):
    """Walk both graphs together: every container or dataclass instance met again in one is met again, at the same
    place, in the other (so identity, as checker.evaluate groups frames by id(), gives the same groups)."""
    seen_a: dict = {}
    seen_b: dict = {}
    stack = [(a, b, "rb")]
    while stack:
        x, y, where = stack.pop()
        assert type(x) is type(y), where
        if isinstance(x, (str, int, float, bool, type(None))):
            assert x == y, where
            continue
        na, nb = seen_a.get(id(x)), seen_b.get(id(y))
        assert (na is None) == (nb is None) and na == nb, f"sharing differs at {where}"
        if na is not None:
            continue
        seen_a[id(x)] = seen_b[id(y)] = len(seen_a)
        if dataclasses.is_dataclass(x):
            for f in dataclasses.fields(x):
                stack.append((getattr(x, f.name), getattr(y, f.name), f"{where}.{f.name}"))
        elif isinstance(x, dict):
            assert list(x) == list(y), where
            for k in x:
                stack.append((x[k], y[k], f"{where}[{k!r}]"))
        elif isinstance(x, (list, tuple)):
            assert len(x) == len(y), where
            stack.extend((p, q, f"{where}[{i}]") for i, (p, q) in enumerate(zip(x, y)))
        elif isinstance(x, (set, frozenset)):
            assert x == y, where
        else:  # pragma: no cover - the codec stores nothing else
            raise AssertionError(f"unexpected {type(x)} at {where}")
    return len(seen_a)


# --- the codec ------------------------------------------------------------------------------


def roundtrip(x):
    table, root = rulecache.encode(x)
    data = json.loads(json.dumps({"classes": table, "root": root}))
    return rulecache.decode(data["classes"], data["root"])


def test_codec_keeps_types_keys_order_and_sharing():
    shared = [1, "x"]
    inner = (shared, shared)
    value = {
        "t": (1, 2.5, "a", None, True, False, ()),
        "l": [1, [2, [3]]],
        1: "int key",
        "1": "str key",
        (1, "a"): "tuple key",
        frozenset({1, 2}): {3, 4},
        "fs": frozenset({"a"}),
        "share": inner,
        "again": inner,
        "nan-free floats": [0.1, -0.0, 1e300, 3.0],
        "big": 10 ** 30,
    }
    out = roundtrip(value)
    assert out == value
    assert list(out) == list(value)
    for k in value:
        assert type(k) is type(next(j for j in out if j == k and type(j) is type(k)))
    assert type(out["t"]) is tuple and type(out["l"]) is list and type(out["fs"]) is frozenset
    assert type(out[frozenset({1, 2})]) is set
    assert [type(v) for v in out["t"]] == [int, float, str, type(None), bool, bool, tuple]
    assert type(out["nan-free floats"][3]) is float and type(out["big"]) is int
    assert out["share"] is out["again"] and out["share"][0] is out["share"][1]
    assert out["share"][0] is not shared


def test_codec_refuses_a_cycle_and_foreign_objects():
    cyc: list = []
    cyc.append(cyc)
    with pytest.raises(rulecache.Unencodable):
        rulecache.encode(cyc)

    @dataclasses.dataclass
    class Foreign:
        x: int

    with pytest.raises(rulecache.Unencodable):
        rulecache.encode([Foreign(1)])
    with pytest.raises(rulecache.Unencodable):
        rulecache.encode({"p": Path("/")})


def test_codec_refuses_an_instance_with_more_than_its_fields():
    from checker import ir

    v = ir.V("X")
    object.__setattr__(v, "extra", 1)
    with pytest.raises(rulecache.Unencodable):
        rulecache.encode(v)


def test_decode_constructs_only_whitelisted_classes():
    for name in ("os.system", "builtins.eval", "subprocess.Popen", "checker.cli.main", "checker.compile.Compiler"):
        with pytest.raises(ValueError):
            rulecache.decode([[name, ["x"]]], [rulecache._CLASS_BASE, "echo hacked"])
    with pytest.raises(ValueError):  # a listed class, but not its fields
        rulecache.decode([["checker.ir.V", ["name", "evil"]]], [rulecache._CLASS_BASE, "X", 1])
    with pytest.raises((ValueError, TypeError, LookupError)):  # a reference to nothing
        rulecache.decode([], [rulecache._LIST, [rulecache._REF, 5]])
    with pytest.raises(ValueError):  # a tag no class has
        rulecache.decode([], [99, 1])


# --- the cached rulebook is the compiled one ------------------------------------------------


def test_warm_rulebook_equals_a_fresh_compile_and_shares_alike(cache):
    cold = compile_rulebook(str(RULES), "rules/u4ssc")
    assert len(entries(cache)) == 1
    warm, token = rulecache.load(str(RULES), "rules/u4ssc")
    assert warm is not None and token is not None
    again = compile_rulebook(str(RULES), "rules/u4ssc")
    ref = fresh(RULES, "rules/u4ssc")
    assert warm == ref and again == ref and cold == ref
    assert warm is not again
    n = assert_same_sharing(ref, warm)
    assert n > 1000
    # the frames checker.evaluate groups by identity: some are shared between explain entries, and the same are
    frame_ids = lambda rb: [[id(f) for e in alt.explain for f in e.frames]  # noqa: E731
                            for r in rb.rules for alt in r.alternatives]
    a, b = frame_ids(ref), frame_ids(warm)
    assert sum(len(x) - len(set(x)) for x in a) > 0, "the example shares frames: the test would prove nothing"
    shape = lambda ids: [[x.index(i) for i in x] for x in ids]  # noqa: E731
    assert shape(a) == shape(b)


def _check(engine, env):
    r = torcheck("check", "facts/u4ssc", "--format", "json", "--as-of", "2026-03-01", "--engine", engine, env=env)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout, r.stderr


@pytest.mark.parametrize("engine", ["pydatalog", "sqlite"])
def test_check_is_byte_identical_cold_warm_and_uncached(engine, tmp_path):
    env = {"TORCHECK_CACHE_DIR": str(tmp_path / "c"), "TORCHECK_NO_CACHE": ""}
    cold = _check(engine, env)
    assert len(entries(tmp_path / "c")) == 1
    warm = _check(engine, env)
    uncached = _check(engine, {**env, "TORCHECK_NO_CACHE": "1"})
    assert json.loads(cold[0])["violations"], "the example has violations: the comparison must cover them"
    assert cold == warm == uncached


def test_explain_and_test_work_from_a_warm_cache(tmp_path):
    env = {"TORCHECK_CACHE_DIR": str(tmp_path / "c"), "TORCHECK_NO_CACHE": ""}
    runs, stored = [], []
    for _ in range(2):  # cold, then warm
        runs.append([
            torcheck("explain", REGISTRY, "a-ip-2025", "--as-of", AS_OF, "--format", fmt, env=env)
            for fmt in ("text", "json")
        ] + [torcheck("test", "rules/u4ssc", env=env)])
        stored.append({p.name: p.stat().st_mtime_ns for p in entries(tmp_path / "c")})
    assert stored[0] and stored[1] == stored[0]  # the warm runs read the entries, and wrote none
    for cold, warm in zip(*runs):
        assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
        assert warm.returncode == 0, warm.stderr
    golden = ROOT / "tests" / "data" / "golden" / "explain-a-ip-2025.json"
    assert runs[1][1].stdout == golden.read_bytes().decode("utf-8")


def test_a_cache_hit_imports_neither_lark_nor_the_parser(tmp_path):
    code = (
        "import sys\n"
        "from checker.compile import compile_rulebook\n"
        f"rb = compile_rulebook({str(RULES)!r}, 'rules/u4ssc')\n"
        "print(sorted(m for m in sys.modules if m == 'lark' or m.startswith('lark.') or m == 'checker.parse'))\n"
    )
    env = {**os.environ, "TORCHECK_CACHE_DIR": str(tmp_path / "c")}
    env.pop("TORCHECK_NO_CACHE", None)
    run = lambda: subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,  # noqa: E731
                                 capture_output=True, text=True, timeout=120)
    cold, warm = run(), run()
    assert cold.returncode == 0 and warm.returncode == 0, (cold.stderr, warm.stderr)
    assert "lark" in cold.stdout  # the cold run compiled
    assert warm.stdout.strip() == "[]"


# --- entries that are not right -------------------------------------------------------------


def _entry(cache):
    [path] = entries(cache)
    return path


def _assert_rebuilt(cache, path):
    rb = compile_rulebook(str(RULES), "rules/u4ssc")
    assert rb == fresh(RULES, "rules/u4ssc")
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == rulecache.FORMAT  # written again, whole
    assert rulecache.load(str(RULES), "rules/u4ssc")[0] == rb


def test_a_truncated_entry_is_ignored_and_rebuilt(cache):
    compile_rulebook(str(RULES), "rules/u4ssc")
    path = _entry(cache)
    data = path.read_bytes()
    for cut in (0, 1, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        assert rulecache.load(str(RULES), "rules/u4ssc")[0] is None
        _assert_rebuilt(cache, path)
    path.write_bytes(b"\xff\xfe not json")
    _assert_rebuilt(cache, path)


def test_an_entry_naming_another_class_is_rejected_without_importing_or_calling_it(cache, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    evil = tmp_path / "evilmod_rulecache.py"
    evil.write_text(f"open({str(marker)!r}, 'w').close()\nclass Boom:\n    def __init__(self, *a):\n"
                    f"        open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))

    compile_rulebook(str(RULES), "rules/u4ssc")
    path = _entry(cache)
    good = json.loads(path.read_text(encoding="utf-8"))
    for name in ("evilmod_rulecache.Boom", "os.system", "checker.compile.NoSuchClass", "builtins.object"):
        bad = json.loads(json.dumps(good))
        bad["classes"][0][0] = name  # the class of the root (the Rulebook), and of nothing else
        reseal(path, bad, "rulebook")  # sealed with the user's key: refused for what it holds
        assert rulecache.load(str(RULES), "rules/u4ssc")[0] is None
        _assert_rebuilt(cache, path)
    # an entry whose root is a plain value, not a rulebook
    reseal(path, {**good, "classes": [], "root": "os.system('echo hacked')"}, "rulebook")
    assert rulecache.load(str(RULES), "rules/u4ssc")[0] is None
    _assert_rebuilt(cache, path)
    assert not marker.exists() and "evilmod_rulecache" not in sys.modules
    assert calls == []


def test_an_entry_with_another_key_is_stale(cache):
    compile_rulebook(str(RULES), "rules/u4ssc")
    path = _entry(cache)
    entry = json.loads(path.read_text(encoding="utf-8"))
    reseal(path, {**entry, "key": "0" * 64}, "rulebook", key=entry["key"])  # sealed for its name
    assert rulecache.load(str(RULES), "rules/u4ssc")[0] is None
    _assert_rebuilt(cache, path)


def test_editing_the_rulebook_invalidates(cache, book):
    first = compile_rulebook(str(book), "book")
    assert rulecache.load(str(book), "book")[0] == first
    f = book / "50-conduct.rules"
    old = "was not notified to the secretariat beforehand"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, "was never notified to the secretariat"), encoding="utf-8")
    assert rulecache.load(str(book), "book")[0] is None
    second = compile_rulebook(str(book), "book")
    assert second == fresh(book, "book") and second != first
    assert any("was never notified" in r.message for r in second.rules)
    assert rulecache.load(str(book), "book")[0] == second

    tor = book / "tor.yaml"  # the clause texts: a change there is a change of the rulebook
    tor.write_text(tor.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert rulecache.load(str(book), "book")[0] is None
    compile_rulebook(str(book), "book")
    assert rulecache.load(str(book), "book")[0] is not None

    (book / "99-new.rules").write_text("# nothing yet\n", encoding="utf-8")  # a new file
    assert rulecache.load(str(book), "book")[0] is None
    assert len(entries(cache)) == 1  # one entry per rulebook folder, replaced


def test_the_display_path_is_part_of_the_key(cache):
    a = compile_rulebook(str(RULES), "rules/u4ssc")
    b = compile_rulebook(str(RULES), "elsewhere/u4ssc")
    assert a.path == "rules/u4ssc" and b.path == "elsewhere/u4ssc"
    assert compile_rulebook(str(RULES), "elsewhere/u4ssc") == fresh(RULES, "elsewhere/u4ssc")
    assert compile_rulebook(str(RULES), "rules/u4ssc") == a


def test_a_rulebook_with_a_problem_is_reported_the_same_every_time(cache, book, monkeypatch):
    f = book / "50-conduct.rules"
    f.write_text(f.read_text(encoding="utf-8") + "\nrule broken {\n", encoding="utf-8")
    reports = []
    for _ in range(3):
        with pytest.raises(InputError) as e:
            compile_rulebook(str(book), "book")
        reports.append([d.render() for d in e.value.diagnostics])
    monkeypatch.setenv("TORCHECK_NO_CACHE", "1")
    with pytest.raises(InputError) as e:
        compile_rulebook(str(book), "book")
    reports.append([d.render() for d in e.value.diagnostics])
    assert reports[0] and all(r == reports[0] for r in reports)
    assert entries(cache) == []


def test_a_problem_found_after_parsing_is_not_cached_either(cache, book):
    f = book / "50-conduct.rules"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("{R}", "{Nobody}", 1), encoding="utf-8")
    first = second = None
    with pytest.raises(InputError) as e:
        compile_rulebook(str(book), "book")
    first = e.value.diagnostics
    with pytest.raises(InputError) as e:
        compile_rulebook(str(book), "book")
    second = e.value.diagnostics
    assert first == second and first
    assert entries(cache) == []


def test_no_cache_variable_bypasses_the_cache(cache, monkeypatch):
    monkeypatch.setenv("TORCHECK_NO_CACHE", "1")
    rb = compile_rulebook(str(RULES), "rules/u4ssc")
    assert entries(cache) == []
    monkeypatch.delenv("TORCHECK_NO_CACHE")
    compile_rulebook(str(RULES), "rules/u4ssc")
    path = _entry(cache)
    path.write_text('{"format": 1, "key": "x", "classes": [["os.system", []]], "root": [6]}', encoding="utf-8")
    monkeypatch.setenv("TORCHECK_NO_CACHE", "1")
    monkeypatch.setattr(rulecache, "decode", lambda *a: pytest.fail("the cache was read"))
    assert compile_rulebook(str(RULES), "rules/u4ssc") == rb
    assert "os.system" in path.read_text(encoding="utf-8")  # neither read nor written


def test_a_cache_folder_that_cannot_be_written_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("TORCHECK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("TORCHECK_NO_CACHE", raising=False)
    for _ in range(2):
        assert compile_rulebook(str(RULES), "rules/u4ssc") == fresh(RULES, "rules/u4ssc")
    r = torcheck("check", str(FACTS.relative_to(ROOT)), "--format", "json", "--as-of", "2026-03-01",
                 env={"TORCHECK_CACHE_DIR": str(blocker / "cache")})
    assert r.returncode in (0, 1) and r.stderr == "" and json.loads(r.stdout)["violations"]
