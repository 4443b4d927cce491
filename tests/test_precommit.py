"""The pre-commit hook (.pre-commit-hooks.yaml), run for real.

A temporary registry repository whose .pre-commit-config.yaml points at a
temporary clone of this repository's HEAD (so the hook tested is the committed
one), with its own PRE_COMMIT_HOME: `pre-commit run --all-files` fails on a
violation, passes once it is fixed, and takes options through `args`.

pre-commit installs torcheck into an environment of its own with pip, so the
first run needs PyPI (or a pip cache holding torcheck's dependencies); GitHub is
never contacted. About 30 s with a warm pip cache.

Test dependency: pre-commit (pip install pre-commit); git on PATH.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

# an error: joint work in another forum never reported to the secretariat (38); since rulebook
# revision 4 a statement by p-kim (39) would be a warning only
STATEMENT = """
external_work:
  - id: ew-kim
    by: p-kim
    forum: ISO TC 268
    started: 2025-06-05
"""
PEOPLE = """
people:
  - id: p-kim
    name: Kim Ha-eun
"""
REPRESENTATION = """
representations:
  - id: rep-kim
    person: p-kim
    venue: Smart City Expo
    date: 2025-05-20
"""


def git(*args, cwd, env):
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def config(repo: Path, rev: str, args: list[str]) -> str:
    quoted = ", ".join(f'"{a}"' for a in args)
    return (f"repos:\n  - repo: {repo.as_posix()}\n    rev: {rev}\n    hooks:\n"
            f"      - id: torcheck\n        args: [{quoted}]\n")


@pytest.fixture()
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    e.update({
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",  # nobody's git settings
    })
    return e


def test_hook_fails_on_a_violation_and_passes_once_fixed(tmp_path, env):
    # torcheck as a registry repository would fetch it: a clone, pinned to a commit
    clone = tmp_path / "torcheck"
    git("clone", "--quiet", "--depth", "1", ROOT.as_uri(), str(clone), cwd=tmp_path, env=env)
    rev = git("rev-parse", "HEAD", cwd=clone, env=env).stdout.strip()
    assert (clone / ".pre-commit-hooks.yaml").is_file(), "commit .pre-commit-hooks.yaml first"

    repo = tmp_path / "registry-repo"
    facts = repo / "facts"
    facts.mkdir(parents=True)
    git("init", "--quiet", cwd=repo, env=env)
    (facts / "people.yaml").write_text(PEOPLE, encoding="utf-8")
    (facts / "conduct.yaml").write_text(STATEMENT, encoding="utf-8")
    (repo / ".pre-commit-config.yaml").write_text(config(clone, rev, ["facts", "--as-of", "2025-10-15"]),
                                                  encoding="utf-8")

    def run():
        git("add", "-A", cwd=repo, env=env)
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=300)

    # joint work in another forum never reported: the hook fails
    r = run()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "torcheck (U4SSC Terms of Reference)" in r.stdout and "Failed" in r.stdout
    assert "- exit code: 1" in r.stdout
    assert "error    ew-kim  facts/conduct.yaml:3" in r.stdout  # paths as the hook's args give them
    assert "1 error, 0 warnings, 0 notices in 2 records checked against 41 rules" in r.stdout

    # fixed (the work withdrawn): the hook passes
    (facts / "conduct.yaml").write_text("external_work: []\n", encoding="utf-8")
    r = run()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Passed" in r.stdout and "ew-kim" not in r.stdout

    # a warning passes under the default --fail-on error ...
    (facts / "conduct.yaml").write_text(REPRESENTATION, encoding="utf-8")
    r = run()
    assert r.returncode == 0, r.stdout + r.stderr
    # ... and fails once args ask for it
    (repo / ".pre-commit-config.yaml").write_text(
        config(clone, rev, ["facts", "--as-of", "2025-10-15", "--fail-on", "warning"]), encoding="utf-8")
    r = run()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "warning  rep-kim  facts/conduct.yaml:3" in r.stdout

    # a broken registry is reported like any input error (torcheck's exit 2 fails the hook)
    (facts / "conduct.yaml").write_text("statements:\n  - id: st-1\n", encoding="utf-8")
    r = run()
    assert r.returncode == 1
    assert "- exit code: 2" in r.stdout and "error[missing-field]" in r.stdout
