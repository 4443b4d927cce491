"""The registry cache (checker.cache): faster reads, never a different result.

Every test has a cache folder of its own (TORCHECK_CACHE_DIR under tmp_path).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from checker.cache import RegistryCache, cache_dir, vocabulary_fingerprint
from checker.model import InputError
from checker.registry import load_registry

from .conftest import torcheck
from .test_cache_trust import reseal


@pytest.fixture
def registry(facts_copy):
    return facts_copy


def entries(folder: Path):
    """The registry cache's entries (kept results, checker.memo, and compiled rulebooks live beside them)."""
    return sorted((folder / "registry").rglob("*.json"))


def load(reg, rulebook, display="reg", cache=True):
    return load_registry(str(reg), rulebook.vocabulary, display=display,
                         cache=RegistryCache(rulebook.vocabulary) if cache else None)


def test_a_second_load_reads_every_file_from_the_cache_and_gives_the_same_registry(registry, cache_folder, rulebook):
    first_cache = RegistryCache(rulebook.vocabulary)
    first = load_registry(str(registry), rulebook.vocabulary, display="reg", cache=first_cache)
    n_files = len(list(registry.glob("*.yaml")))
    assert (first_cache.hits, first_cache.misses, first_cache.stored) == (0, n_files, n_files)
    assert len(entries(cache_folder)) == n_files
    second_cache = RegistryCache(rulebook.vocabulary)
    second = load_registry(str(registry), rulebook.vocabulary, display="reg", cache=second_cache)
    assert (second_cache.hits, second_cache.misses, second_cache.stored) == (n_files, 0, 0)
    assert second.records == first.records == load(registry, rulebook, cache=False).records
    assert list(second.records) == list(first.records)  # the same order


def test_locations_name_the_path_of_the_current_run(registry, cache_folder, rulebook):
    load(registry, rulebook, display="first/path")
    reg = load(registry, rulebook, display="second")
    rec = reg.records["ps-valmora"]
    assert rec.location.path == "second/partnerships.yaml"
    assert all(loc.path == "second/partnerships.yaml" for loc in rec.field_locations.values())


def test_the_report_is_the_same_with_and_without_the_cache_before_and_after_edits(registry, cache_folder):
    args = ("check", str(registry), "--as-of", "2026-11-28", "--format", "json")
    cold = torcheck(*args)
    warm = torcheck(*args)  # the kept result (checker.memo)
    shutil.rmtree(cache_folder / "results")
    from_cache = torcheck(*args)  # every file from the registry cache, evaluated again
    uncached = torcheck(*args, "--no-cache")
    assert cold.returncode == warm.returncode == from_cache.returncode == uncached.returncode == 1
    assert cold.stdout == warm.stdout == from_cache.stdout == uncached.stdout
    n_entries = len(entries(cache_folder))
    assert n_entries > 10
    # an edit: a partnership moved, an approval removed; the edited files are read again
    p = registry / "partnerships.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("o-valmora", "itu", 1), encoding="utf-8")
    a = registry / "approvals.yaml"
    text = a.read_text(encoding="utf-8")
    start = text.index("\n  - id:", text.index("\n  - id:") + 1)
    a.write_text(text[:start] + text[text.index("\n  - id:", start + 1):], encoding="utf-8")
    edited = torcheck(*args)
    assert edited.returncode == 1
    edited_uncached = torcheck(*args, "--no-cache")
    assert edited.stdout == edited_uncached.stdout
    assert edited.stdout != cold.stdout
    assert len(entries(cache_folder)) == n_entries + 2
    assert torcheck(*args).stdout == edited.stdout  # and warm again


def test_a_file_with_a_problem_is_never_cached_and_is_reported_every_time(registry, cache_folder, rulebook):
    bad = registry / "zz-bad.yaml"
    bad.write_text("people:\n  - id: p-new\n    name: New\n    colour: blue\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError) as e:
            load(registry, rulebook)
        assert [d.code for d in e.value.diagnostics] == ["unknown-field"]
    cache = RegistryCache(rulebook.vocabulary)
    assert cache.get(bad.read_bytes(), "reg/zz-bad.yaml") is None
    r = torcheck("check", str(registry), "--as-of", "2026-11-28")
    assert r.returncode == 2 and "error[unknown-field]" in r.stderr


def test_checks_across_files_run_on_cached_files(registry, cache_folder, rulebook):
    extra = registry / "zz-extra.yaml"
    extra.write_text("people:\n  - id: p-extra\n    name: Extra\n", encoding="utf-8")
    load(registry, rulebook)
    # the same id in a second file: both files valid alone, both cached
    (registry / "zz-twin.yaml").write_text("people:\n  - id: p-extra\n    name: Twin\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load(registry, rulebook)
    assert [d.code for d in e.value.diagnostics] == ["duplicate-id"]
    with pytest.raises(InputError) as e:
        load(registry, rulebook)
    assert [d.code for d in e.value.diagnostics] == ["duplicate-id"]
    assert "zz-twin.yaml:2" in str(e.value.diagnostics[0].location)
    assert e.value.diagnostics[0].source_line == "  - id: p-extra"
    # a referenced record gone: the referring files come from the cache, the reference is still checked
    (registry / "zz-twin.yaml").unlink()
    shutil.move(str(registry / "organizations.yaml"), str(registry.parent / "organizations.yaml"))
    with pytest.raises(InputError) as e:
        load(registry, rulebook)
    assert {d.code for d in e.value.diagnostics} == {"dangling-ref"}


def test_corrupt_and_stale_entries_are_ignored_and_written_again(registry, cache_folder, rulebook):
    reference = load(registry, rulebook, cache=False).records
    load(registry, rulebook)
    files = entries(cache_folder)
    files[0].write_text("{not json", encoding="utf-8")
    data = json.loads(files[1].read_text(encoding="utf-8"))
    data["key"] = "0" * 64  # an entry that is not the one its name says (sealed for its name)
    reseal(files[1], data, "registry", key=files[1].stem)
    data = json.loads(files[2].read_text(encoding="utf-8"))
    data["records"][0][2] = "values as text"
    reseal(files[2], data, "registry")  # sealed with the user's key: refused for what it holds
    cache = RegistryCache(rulebook.vocabulary)
    reg = load_registry(str(registry), rulebook.vocabulary, display="reg", cache=cache)
    assert reg.records == reference
    assert cache.misses == 3 and cache.stored == 3
    for f in files[:3]:
        assert json.loads(f.read_text(encoding="utf-8"))["format"] == 1  # rewritten whole


def test_entries_depend_on_the_vocabulary(registry, cache_folder, rulebook):
    import copy

    load(registry, rulebook)
    vocab = copy.deepcopy(rulebook.vocabulary)
    vocab.kinds["people"].fields["name"].required = False
    assert vocabulary_fingerprint(vocab) != vocabulary_fingerprint(rulebook.vocabulary)
    other = RegistryCache(vocab)
    assert other.dir != RegistryCache(rulebook.vocabulary).dir
    load_registry(str(registry), vocab, cache=other)
    assert other.hits == 0


def test_an_unwritable_cache_folder_only_makes_the_cache_useless(registry, tmp_path, monkeypatch, rulebook):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("TORCHECK_CACHE_DIR", str(blocker))
    cache = RegistryCache(rulebook.vocabulary)
    reg = load_registry(str(registry), rulebook.vocabulary, display="reg", cache=cache)
    assert reg.records == load(registry, rulebook, cache=False).records
    assert cache.stored == 0
    r = torcheck("check", str(registry), "--as-of", "2026-11-28", "--format", "json")
    assert r.returncode == 1 and r.stdout.startswith("{")


def test_the_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHECK_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("TORCHECK_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "torcheck"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "torcheck"


def test_entries_are_plain_json(registry, cache_folder, rulebook):
    load(registry, rulebook)
    for f in entries(cache_folder):
        data = json.loads(f.read_text(encoding="utf-8"))
        assert set(data) == {"format", "key", "records", "mac"}  # the seal (checker.trust) last
        assert f.stem == data["key"]


def test_a_large_registry_is_cached_whole_and_reads_back_to_the_same_report(tmp_path, cache_folder):
    import subprocess
    import sys

    reg = tmp_path / "large"
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, str(root / "bench" / "generate.py"), str(reg), "9000"], check=True,
                   capture_output=True)
    files = list(reg.rglob("*.yaml"))
    args = ("check", str(reg), "--as-of", "2026-11-28", "--format", "json", "--engine", "sqlite")
    cold = torcheck(*args)
    assert cold.returncode == 1
    assert len(entries(cache_folder)) == len(files)  # all there when the check has ended
    shutil.rmtree(cache_folder / "results")
    assert torcheck(*args).stdout == cold.stdout == torcheck(*args, "--no-cache").stdout


@pytest.mark.parametrize("where", ["record line", "field line", "reference line", "reference column"])
def test_an_entry_with_a_location_that_is_not_a_number_is_ignored(registry, cache_folder, rulebook, where):
    reference = load(registry, rulebook, cache=False).records
    load(registry, rulebook)
    entry = next(f for f in entries(cache_folder)
                 if any(r[5] for r in json.loads(f.read_text(encoding="utf-8"))["records"]))
    data = json.loads(entry.read_text(encoding="utf-8"))
    rec = next(r for r in data["records"] if r[5])
    if where == "record line":
        rec[3] = str(rec[3])
    elif where == "field line":
        rec[4][next(iter(rec[4]))] = 1.5
    elif where == "reference line":
        rec[5][0][2] = None
    else:
        rec[5][0][3] = "3"
    reseal(entry, data, "registry")  # sealed with the user's key: refused for what it holds
    cache = RegistryCache(rulebook.vocabulary)
    assert load_registry(str(registry), rulebook.vocabulary, display="reg", cache=cache).records == reference
    assert cache.misses == 1 and cache.stored == 1
