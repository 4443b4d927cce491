"""Determinism (issue 7): the same registry and rulebook give byte-identical reports.

`torcheck check facts/u4ssc` in every format (text, json, sarif, junit,
markdown, html) and `torcheck coverage` (text, json) are the same bytes across
runs, across PYTHONHASHSEED values (0, 1, 12345, random), twice in one process,
and whatever the order in which the file system lists the registry's and the
rulebook's files (a copy created in reverse order, and directory listings
shuffled).

Each process runs the CLI's click command in-process for every output (a
fresh interpreter per output would cost seconds each); one real
`python -m checker.cli` run checks that this is what the console script
writes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import FACTS, ROOT, torcheck

AS_OF = "2026-11-28"
FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")

_DRIVER = r"""
import contextlib, io, os, random, sys

shuffled = [0]
seed = os.environ.get("TORCHECK_SHUFFLE")
if seed:
    rng = random.Random(int(seed))
    real_scandir, real_listdir = os.scandir, os.listdir

    class Listing:  # what os.scandir returns: an iterator and a context manager
        def __init__(self, entries):
            self.it = iter(entries)
        def __iter__(self):
            return self
        def __next__(self):
            return next(self.it)
        def __enter__(self):
            return self
        def __exit__(self, *a):
            return False
        def close(self):
            pass

    def scandir(path="."):
        with real_scandir(path) as it:
            entries = list(it)
        rng.shuffle(entries)
        shuffled[0] += len(entries) > 1
        return Listing(entries)

    def listdir(path="."):
        names = real_listdir(path)
        rng.shuffle(names)
        shuffled[0] += len(names) > 1
        return names

    os.scandir, os.listdir = scandir, listdir

from checker.cli import main

out, registry, formats, rounds = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
for rnd in range(1, rounds + 1):  # twice in one process: nothing carried over from one evaluation to the next
    for fmt in formats:
        args = ["check", registry, "--as-of", "2026-11-28", "--format", fmt, "-o", f"{out}/check-{rnd}.{fmt}"]
        try:
            main.main(args, prog_name="torcheck", standalone_mode=False)
        except SystemExit as e:
            assert e.code == 1, (args, e.code)
    for fmt in ("text", "json"):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            main.main(["coverage", "--format", fmt], prog_name="torcheck", standalone_mode=False)
        with open(f"{out}/coverage-{rnd}.{fmt}", "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
print("shuffled listings:", shuffled[0])
"""


def _start(out: Path, cwd: Path, hashseed: str, shuffle: str | None = None, rounds=1):
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hashseed}
    env.pop("TORCHECK_SHUFFLE", None)
    if shuffle:
        env["TORCHECK_SHUFFLE"] = shuffle
    return subprocess.Popen([sys.executable, "-c", _DRIVER, str(out), "facts/u4ssc", ",".join(FORMATS), str(rounds)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(p) -> str:
    try:
        out, err = p.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    assert p.returncode == 0, err[-3000:]
    assert "Traceback" not in err and err == "", err[-3000:]
    return out


def _outputs(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def reverse_copy(dst: Path) -> Path:
    """facts/u4ssc copied into dst/facts/u4ssc, files created in reverse order, each with fresh bytes on disk."""
    reg = dst / "facts" / "u4ssc"
    reg.mkdir(parents=True)
    for p in sorted(FACTS.iterdir(), reverse=True):
        (reg / p.name).write_bytes(p.read_bytes())
        time.sleep(0.002)  # distinct creation times
    return reg


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every output of every configuration: {configuration: {file name: bytes}}."""
    tmp = tmp_path_factory.mktemp("determinism")
    reversed_root = tmp / "reversed"
    reverse_copy(reversed_root)
    procs = {
        "hashseed 0": _start(tmp / "seed-0", ROOT, "0", rounds=2),
        "hashseed 1": _start(tmp / "seed-1", ROOT, "1"),
        "hashseed 12345": _start(tmp / "seed-12345", ROOT, "12345"),
        "hashseed random, reverse-created copy, shuffled listings":
            _start(tmp / "shuffled", reversed_root, "random", shuffle="7"),
    }
    try:
        logs = {name: _wait(p) for name, p in procs.items()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert "shuffled listings: 0" not in logs["hashseed random, reverse-created copy, shuffled listings"]
    return {name: _outputs(tmp / folder) for name, folder in
            zip(procs, ("seed-0", "seed-1", "seed-12345", "shuffled"))}


def test_every_output_is_produced(runs):
    names = sorted(runs["hashseed 0"])  # two rounds in this process, one in the others
    assert names == sorted([f"check-{r}.{f}" for r in (1, 2) for f in FORMATS]
                           + [f"coverage-{r}.{f}" for r in (1, 2) for f in ("text", "json")])
    for name, data in runs["hashseed 0"].items():
        assert len(data) > 200, name


@pytest.mark.parametrize("fmt", [f"check-1.{f}" for f in FORMATS] + ["coverage-1.text", "coverage-1.json"])
def test_byte_identical_across_configurations(runs, fmt):
    ref = runs["hashseed 0"][fmt]
    assert runs["hashseed 0"][fmt.replace("-1.", "-2.")] == ref, f"{fmt} differs on a second run in one process"
    for name, outs in runs.items():
        assert outs[fmt] == ref, f"{fmt} differs under {name}"


def test_the_console_command_writes_the_same(runs):
    r = torcheck("check", "facts/u4ssc", "--as-of", AS_OF, "--format", "json")
    assert r.returncode == 1 and r.stderr == ""
    assert r.stdout.encode("utf-8") == runs["hashseed 0"]["check-1.json"]
    r = torcheck("coverage", "--format", "json")
    assert r.returncode == 0 and r.stdout.encode("utf-8") == runs["hashseed 0"]["coverage-1.json"]


def test_reports_name_the_registry_as_given(runs):
    """Paths in reports are the argument as given: the reverse-created copy is reported as facts/u4ssc too."""
    text = runs["hashseed 0"]["check-1.text"].decode("utf-8")
    assert "facts/u4ssc/" in text and str(ROOT) not in text and "\\" not in text
