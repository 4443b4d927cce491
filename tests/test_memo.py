"""Kept results (checker.memo): a check with unchanged inputs is read back, never a different result."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from checker.memo import KEEP, ResultMemo, check_key

from .conftest import torcheck
from .test_cache_trust import reseal

ARGS = ("--as-of", "2026-11-28")


@pytest.fixture
def registry(facts_copy):
    return facts_copy


def kept(folder: Path):
    return sorted((folder / "results").glob("*.json"))


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "markdown", "html"])
def test_a_kept_result_renders_exactly_as_a_full_check(registry, cache_folder, fmt):
    args = ("check", str(registry), *ARGS, "--format", fmt)
    full = torcheck(*args, "--no-cache")
    first = torcheck(*args)
    assert len(kept(cache_folder)) == 1
    again = torcheck(*args)
    assert full.returncode == first.returncode == again.returncode == 1
    assert full.stdout == first.stdout == again.stdout


def test_the_kept_result_is_what_a_second_check_reports(registry, cache_folder):
    """Proof that the result is read back: a kept entry altered by hand is what the next check says."""
    args = ("check", str(registry), *ARGS, "--format", "json")
    first = json.loads(torcheck(*args).stdout)
    (entry,) = kept(cache_folder)
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["violations"][0]["message"] = "read back from the kept result"
    reseal(entry, data, "result")  # as only the user can: sealed with the user's key (checker.trust)
    second = json.loads(torcheck(*args).stdout)
    assert second["violations"][0]["message"] == "read back from the kept result"
    assert second["violations"][1:] == first["violations"][1:]
    assert second["summary"] == first["summary"]
    # --no-cache never reads it
    assert json.loads(torcheck(*args, "--no-cache").stdout) == first


def test_any_change_of_an_input_is_another_key(registry, tmp_path):
    rules = Path(__file__).resolve().parent.parent / "rules" / "u4ssc"

    def key(reg=registry, as_of="2026-11-28", engine="auto", shown="reg", rules_dir=rules):
        return check_key(str(reg), shown, str(rules_dir), "rules", as_of, engine)

    base = key()
    assert base is not None and base == key()
    assert key(as_of="2026-11-29") != base
    assert key(engine="sqlite") != base
    assert key(shown="other/path") != base  # locations in the report name the path shown
    p = registry / "people.yaml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text + " ", encoding="utf-8")  # one byte
    assert key() != base
    p.write_text(text, encoding="utf-8")
    assert key() == base
    (registry / "sub").mkdir()
    (registry / "sub" / "more.yml").write_text("people: []\n", encoding="utf-8")  # a file added
    assert key() != base
    shutil.rmtree(registry / "sub")
    assert key() == base
    other_rules = tmp_path / "rules"
    shutil.copytree(rules, other_rules)
    assert key(rules_dir=other_rules) == base
    r = next(other_rules.glob("*.rules"))
    r.write_text(r.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert key(rules_dir=other_rules) != base
    assert key(reg=tmp_path / "missing") is None


def test_an_edit_is_checked_in_full_and_gives_the_full_check_answer(registry, cache_folder):
    args = ("check", str(registry), *ARGS, "--format", "json")
    before = torcheck(*args)
    p = registry / "partnerships.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("o-valmora", "itu", 1), encoding="utf-8")
    after = torcheck(*args)
    assert after.returncode == 1
    assert after.stdout == torcheck(*args, "--no-cache").stdout
    assert after.stdout != before.stdout
    assert len(kept(cache_folder)) == 2
    # another as-of date is another check
    other_day = torcheck("check", str(registry), "--as-of", "2027-06-01", "--format", "json")
    assert json.loads(other_day.stdout)["as_of"] == "2027-06-01"
    assert other_day.stdout == torcheck("check", str(registry), "--as-of", "2027-06-01", "--format", "json",
                                        "--no-cache").stdout


def test_a_registry_with_a_problem_is_never_kept(registry, cache_folder):
    (registry / "zz-bad.yaml").write_text("people:\n  - id: p-new\n    name: New\n    colour: blue\n",
                                          encoding="utf-8")
    for _ in range(2):
        r = torcheck("check", str(registry), *ARGS)
        assert r.returncode == 2 and "error[unknown-field]" in r.stderr
    assert kept(cache_folder) == []


def test_baseline_and_fail_on_apply_to_a_kept_result(registry, cache_folder, tmp_path):
    base = tmp_path / "base.json"
    r = torcheck("check", str(registry), *ARGS, "--format", "json", "-o", str(base))
    assert r.returncode == 1
    for _ in range(2):  # the second from the kept result
        r = torcheck("check", str(registry), *ARGS, "--format", "json", "--baseline", str(base))
        assert r.returncode == 0 and json.loads(r.stdout)["violations"] == []
        r = torcheck("check", str(registry), *ARGS, "--fail-on", "never")
        assert r.returncode == 0


@pytest.mark.parametrize("damage", ["not json", "wrong key", "bad location", "bad record count", "bad message"])
def test_a_damaged_entry_is_ignored_and_written_again(registry, cache_folder, damage):
    args = ("check", str(registry), *ARGS, "--format", "json")
    good = torcheck(*args).stdout
    (entry,) = kept(cache_folder)
    data = json.loads(entry.read_text(encoding="utf-8"))
    if damage == "not json":
        entry.write_text('{"format": 1, "key', encoding="utf-8")
    else:
        if damage == "wrong key":
            data["key"] = "0" * 64
        elif damage == "bad location":
            data["violations"][0]["location"] = ["reg/x.yaml", "12", None]
        elif damage == "bad record count":
            data["records"] = "165"
        else:
            data["violations"][0]["message"] = ["not", "a", "text"]
        reseal(entry, data, "result", key=entry.stem)  # sealed with the user's key: refused for what it holds
    assert torcheck(*args).stdout == good
    again = json.loads(entry.read_text(encoding="utf-8"))  # rewritten whole
    assert again["key"] == entry.stem and type(again["records"]) is int
    assert torcheck(*args).stdout == good


def test_only_the_newest_entries_are_kept(tmp_path):
    memo = ResultMemo(tmp_path)
    for i in range(KEEP + 5):
        memo.put(f"{i:064x}", i, [])
    assert len(list((tmp_path / "results").glob("*.json"))) == KEEP
    assert memo.get(f"{KEEP + 4:064x}") == (KEEP + 4, [])
    assert memo.get(None) is None
    memo.put(None, 1, [])  # no key, nothing kept
    assert len(list((tmp_path / "results").glob("*.json"))) == KEEP


def test_an_unwritable_cache_folder_only_means_nothing_is_kept(registry, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("TORCHECK_CACHE_DIR", str(blocker))
    r = torcheck("check", str(registry), *ARGS, "--format", "json")
    assert r.returncode == 1 and r.stdout == torcheck("check", str(registry), *ARGS, "--format", "json",
                                                     "--no-cache").stdout


PROPOSAL = """appointments:
  - id: a-proposed
    person: p-roll
    role: lead
    start: 2026-12-01
    end: 2029-12-01
    appointed_by: chair
    consulted: [secretariat]
    group: proposed group
"""


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_what_if_from_a_kept_result_answers_as_what_if_without_one(registry, cache_folder, tmp_path, fmt):
    proposal = tmp_path / "proposal.yaml"
    proposal.write_text(PROPOSAL, encoding="utf-8")
    args = ("what-if", str(registry), "--add", str(proposal), "--remove", "a-lead-twins-2025", *ARGS, "--format", fmt)
    without = torcheck(*args, "--no-cache")
    assert kept(cache_folder) == []
    first = torcheck(*args)  # evaluates the registry, and keeps its result
    assert len(kept(cache_folder)) == 1
    from_kept = torcheck(*args)
    assert without.returncode == first.returncode == from_kept.returncode
    assert without.stdout == first.stdout == from_kept.stdout
    assert "introduced" in without.stdout.lower() or "+" in without.stdout
    # the kept result is a check's: a check made first is what what-if reads
    check = torcheck("check", str(registry), *ARGS, "--format", "json")
    assert check.returncode == 1 and len(kept(cache_folder)) == 1


def test_what_if_reads_the_kept_result_of_the_registry(registry, cache_folder, tmp_path):
    proposal = tmp_path / "proposal.yaml"
    proposal.write_text(PROPOSAL, encoding="utf-8")
    torcheck("check", str(registry), *ARGS, "--format", "json")
    (entry,) = kept(cache_folder)
    data = json.loads(entry.read_text(encoding="utf-8"))
    real = data["violations"][0]["message"]
    data["violations"][0]["message"] = "as kept"
    reseal(entry, data, "result")
    r = json.loads(torcheck("what-if", str(registry), "--add", str(proposal), *ARGS, "--format", "json").stdout)
    assert [v["message"] for v in r["resolved"]] == ["as kept"]  # the kept one is gone...
    assert real in [v["message"] for v in r["introduced"]]  # ...and the real one comes


def test_a_file_changed_while_it_is_checked_keeps_no_result(registry, cache_folder, monkeypatch):
    from click.testing import CliRunner

    import checker.evaluate
    from checker.cli import main

    real = checker.evaluate.evaluate
    people = registry / "people.yaml"

    def evaluate_while_edited(*args, **kwargs):
        people.write_text(people.read_text(encoding="utf-8") + "# edited meanwhile\n", encoding="utf-8")
        return real(*args, **kwargs)

    monkeypatch.setattr(checker.evaluate, "evaluate", evaluate_while_edited)
    r = CliRunner().invoke(main, ["check", str(registry), *ARGS, "--format", "json"])
    assert r.exit_code == 1, r.output
    assert kept(cache_folder) == []
    monkeypatch.setattr(checker.evaluate, "evaluate", real)
    r = CliRunner().invoke(main, ["check", str(registry), *ARGS, "--format", "json"])
    assert r.exit_code == 1 and len(kept(cache_folder)) == 1


def test_no_cache_uses_no_cache_at_all(registry, cache_folder):
    r = torcheck("check", str(registry), *ARGS, "--no-cache")
    assert r.returncode == 1
    assert not cache_folder.exists() or list(cache_folder.rglob("*.json")) == []
