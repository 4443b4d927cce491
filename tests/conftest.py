import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "u4ssc"
FACTS = ROOT / "facts" / "u4ssc"


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory):
    """No test reads or writes the user's cache folder (checker.cache) or key (checker.trust): the tests get their own."""
    os.environ["TORCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("torcheck-cache"))
    os.environ["TORCHECK_CACHE_KEY_FILE"] = str(tmp_path_factory.mktemp("torcheck-key") / "cache-key")


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    """An empty cache folder of the test's own (registry cache, kept results, compiled rulebooks)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TORCHECK_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def facts_copy(tmp_path):
    """A copy of the example registry that a test may edit."""
    import shutil

    reg = tmp_path / "reg"
    shutil.copytree(FACTS, reg)
    return reg


@pytest.fixture(scope="session")
def rulebook():
    from checker.compile import compile_rulebook

    return compile_rulebook(str(RULES), "rules/u4ssc")


def torcheck(*args, cwd=None, env=None, input=None):
    """Run the installed CLI as a user would, in a fresh process."""
    import subprocess

    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], cwd=cwd or ROOT, env=e,
                          capture_output=True, text=True, input=input, timeout=300)
