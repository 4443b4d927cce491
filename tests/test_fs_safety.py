"""Issue 12, section 2: no file in a registry or rulebook folder can hang, leak or half-read a check.

Each reproduction of the issue is run through the command line (`torcheck check R`, R a copy of
facts/u4ssc) with the default, cached run made warm first, and with a timeout: a regression that
hangs fails instead of hanging the suite. checker.fsread is the one reader behind all of them.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from .conftest import FACTS, ROOT, RULES

AS_OF = "2026-11-28"
TIMEOUT = 60  # seconds: every run here takes a few; one that hangs fails the test


def run(*args, cwd: Path, stdin=subprocess.DEVNULL):
    """`torcheck ARGS` in cwd (paths in diagnostics relative and stable), in a fresh process."""
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], cwd=cwd, capture_output=True, text=True,
                          stdin=stdin, timeout=TIMEOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def check(cwd: Path, *more, registry="reg", stdin=subprocess.DEVNULL):
    return run("check", registry, "--as-of", AS_OF, *more, cwd=cwd, stdin=stdin)


def problems(r) -> list[tuple[str, str]]:
    """(code, line) of each diagnostic of a failed run; asserts the shape of a clean input error."""
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-3000:])
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    assert "nothing was checked" in r.stderr.splitlines()[-1], r.stderr
    out = []
    for line in r.stderr.splitlines():
        if "error[" in line:
            code = line.split("error[", 1)[1].split("]", 1)[0]
            out.append((code, line))
    return out


@pytest.fixture
def reg(tmp_path, cache_folder):
    """A copy of the example registry in tmp_path/reg, its cache warm (the default run reads the memo)."""
    shutil.copytree(FACTS, tmp_path / "reg")
    r = check(tmp_path)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    assert any(cache_folder.rglob("results/*.json")), "the first check keeps its result"
    return tmp_path / "reg"


@pytest.fixture
def rules(tmp_path):
    shutil.copytree(RULES, tmp_path / "rules")
    return tmp_path / "rules"


@pytest.fixture(scope="module")
def clean():
    """The example's report, read in full (--no-cache)."""
    r = subprocess.run([sys.executable, "-m", "checker.cli", "check", str(FACTS), "--as-of", AS_OF, "--no-cache",
                        "--format", "json"], capture_output=True, text=True, timeout=TIMEOUT * 2, cwd=ROOT)
    assert r.returncode in (0, 1), r.stderr
    return r


# ====================================================================== 1. FIFOs never opened


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "no-cache"])
def test_a_fifo_in_the_registry_does_not_hang(reg, tmp_path, cached):
    os.mkfifo(reg / "zz.yaml")
    r = check(tmp_path, *(() if cached else ("--no-cache",)))
    (p,) = problems(r)
    assert p[0] == "unreadable-file" and "reg/zz.yaml:1" in p[1] and "is not a regular file" in p[1]


def test_a_fifo_deep_in_the_registry_does_not_hang(reg, tmp_path):
    (reg / "sub").mkdir()
    os.mkfifo(reg / "sub" / "zz.yml")
    (p,) = problems(check(tmp_path))
    assert p[0] == "unreadable-file" and "reg/sub/zz.yml:1" in p[1]


def test_a_fifo_of_any_name_in_the_rules_folder_does_not_hang(reg, rules, tmp_path, clean):
    args = ("--rules", "rules", "--format", "json")
    first = check(tmp_path, *args)
    for name in ("notes.txt", ".hidden", "tests/zz.yaml"):  # files no check reads: the check is as without them
        os.mkfifo(rules / name)
        r = check(tmp_path, *args)
        assert (r.returncode, r.stderr) == (first.returncode, ""), (name, r.stderr)
        assert json.loads(r.stdout)["violations"] == json.loads(first.stdout)["violations"]
        (rules / name).unlink()
    os.mkfifo(rules / "zz.rules")  # a rule file: an input error
    (p,) = problems(check(tmp_path, *args))
    assert p[0] == "unreadable-file" and "rules/zz.rules:1:1" in p[1] and "not a regular file" in p[1]
    (rules / "zz.rules").unlink()
    (rules / "tor.yaml").unlink()
    os.mkfifo(rules / "tor.yaml")  # the ToR's clauses: an input error, not a rulebook without clauses
    (p,) = problems(check(tmp_path, *args))
    assert p[0] == "unreadable-file" and "rules/tor.yaml:1:1" in p[1]


def test_a_link_to_dev_stdin_does_not_hang(reg, tmp_path):
    os.symlink("/dev/stdin", reg / "zz.yaml")
    read_end, write_end = os.pipe()  # a standard input that never ends: reading it would hang
    try:
        r = check(tmp_path, stdin=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    # /dev/stdin -> /proc/self/fd/0 -> "pipe:[N]", which is no path: a link to nothing, refused unopened
    (p,) = problems(r)
    assert p[0] == "unreadable-file" and "reg/zz.yaml:1" in p[1] and "broken symbolic link" in p[1]
    with open(tmp_path / "stdin.txt", "w") as fh:  # a standard input that is a file outside: a link out
        fh.write("people: []\n")
    with open(tmp_path / "stdin.txt") as fh:
        (p,) = problems(check(tmp_path, stdin=fh))
    assert p[0] == "symlink-outside" and "reg/zz.yaml:1" in p[1] and "stdin.txt" not in p[1]


def test_a_link_to_dev_stdin_in_the_rules_folder_does_not_hang(reg, rules, tmp_path):
    os.symlink("/dev/stdin", rules / "zz.rules")
    read_end, write_end = os.pipe()
    try:
        r = check(tmp_path, "--rules", "rules", stdin=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    (p,) = problems(r)
    assert p[0] == "unreadable-file" and "rules/zz.rules:1:1" in p[1]


# ====================================================================== 2. devices and bounded reads


def test_a_link_to_dev_zero_is_not_read(reg, tmp_path):
    os.symlink("/dev/zero", reg / "zz.yaml")
    for more in ((), ("--no-cache",)):
        (p,) = problems(check(tmp_path, *more))
        assert p[0] == "symlink-outside" and "reg/zz.yaml:1" in p[1]


def test_a_device_in_the_folder_is_not_opened(reg, tmp_path):
    try:
        os.mknod(reg / "zz.yaml", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's numbers
    except (PermissionError, OSError) as e:
        pytest.skip(f"cannot make a device node here ({e.strerror}): needs CAP_MKNOD")
    (p,) = problems(check(tmp_path))
    assert p[0] == "unreadable-file" and "reg/zz.yaml:1" in p[1] and "not a regular file" in p[1]


def test_a_file_over_the_limit_is_an_input_error_naming_it(reg, tmp_path):
    from checker.fsread import MAX_FILE_BYTES

    with open(reg / "zz.yaml", "wb") as fh:  # sparse: no disk is used
        fh.truncate(MAX_FILE_BYTES + 1)
    (p,) = problems(check(tmp_path))
    assert p[0] == "file-too-large" and "reg/zz.yaml:1" in p[1]


def test_the_reader_reads_no_more_than_its_limit(tmp_path):
    """A file that grows past the limit after it was listed: the read stops at the limit + 1 byte."""
    from checker import fsread

    (tmp_path / "a.yaml").write_bytes(b"x" * 100)
    (e,), ps = fsread.listing(tmp_path)
    assert ps == []
    assert fsread.read(e, limit=100) == b"x" * 100
    with pytest.raises(fsread.FsProblem) as info:
        fsread.read(e, limit=99)
    assert info.value.code == "file-too-large"


def test_a_file_swapped_for_a_fifo_after_the_listing_is_not_read(tmp_path):
    from checker import fsread

    (tmp_path / "a.yaml").write_text("people: []\n")
    (e,), _ = fsread.listing(tmp_path)
    (tmp_path / "a.yaml").unlink()
    os.mkfifo(tmp_path / "a.yaml")  # opened without blocking, and refused: not the file listed
    with pytest.raises(fsread.FsProblem) as info:
        fsread.read(e)
    assert info.value.code == "unreadable-file"


# ====================================================================== 3. links out of the folder


def test_a_link_to_a_secret_outside_is_refused_unread(reg, tmp_path):
    secret = tmp_path / "netrc"
    secret.write_text("machine example.org login ann password hunter2-secret\n")
    os.symlink(secret, reg / "zz.yaml")
    for more in ((), ("--no-cache",), ("--format", "json")):
        r = check(tmp_path, *more)
        (p,) = problems(r)
        assert p[0] == "symlink-outside" and "reg/zz.yaml:1" in p[1]
        assert "hunter2" not in r.stderr and "netrc" not in r.stderr and str(tmp_path) not in r.stderr


def test_a_link_to_valid_yaml_outside_is_refused(reg, tmp_path):
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("people:\n  - id: p-elsewhere\n    name: Someone Else\n")
    os.symlink(elsewhere, reg / "zz.yaml")
    (p,) = problems(check(tmp_path))
    assert p[0] == "symlink-outside" and "elsewhere" not in p[1]
    os.unlink(reg / "zz.yaml")
    os.symlink("../elsewhere.yaml", reg / "zz.yaml")  # relative, through ..
    (p,) = problems(check(tmp_path))
    assert p[0] == "symlink-outside"


def test_a_link_to_a_file_inside_is_read(reg, tmp_path):
    r0 = check(tmp_path, "--format", "json")
    (reg / "data").mkdir()
    (reg / "data" / "extra.txt").write_text("people:\n  - id: p-linked\n    name: Linked In\n")
    os.symlink("data/extra.txt", reg / "zz.yaml")
    r = check(tmp_path, "--format", "json")
    assert r.returncode == r0.returncode and r.stderr == ""
    assert json.loads(r.stdout)["summary"]["records"] == json.loads(r0.stdout)["summary"]["records"] + 1


def test_a_link_out_of_the_rules_folder_is_refused(reg, rules, tmp_path):
    outside = tmp_path / "elsewhere.rules"
    shutil.copy(rules / "50-conduct.rules", outside)
    (rules / "50-conduct.rules").unlink()
    os.symlink(outside, rules / "50-conduct.rules")
    for command in (("check", "reg", "--as-of", AS_OF), ("lint",)):
        r = run(*command, "--rules", "rules", cwd=tmp_path) if command[0] == "check" else \
            run("lint", "rules", cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "error[symlink-outside]" in r.stderr and "rules/50-conduct.rules" in r.stderr
        assert "elsewhere" not in r.stderr
    r = run("fmt", "--check", "rules", cwd=tmp_path)
    assert r.returncode == 2 and "error[symlink-outside]" in r.stderr and "Traceback" not in r.stderr
    assert outside.read_bytes() == (RULES / "50-conduct.rules").read_bytes()  # never rewritten


# ====================================================================== 4. folders that cannot be listed


def _unprivileged():
    """(argv prefix, python) to run a command as an unprivileged user, or a reason why there is none."""
    if os.geteuid() != 0:
        return [], sys.executable, None
    runner = shutil.which("setpriv")
    if runner is None:
        return None, None, "no setpriv to drop root's privileges"
    prefix = [runner, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    paths = os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    for python in (sys.executable, f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"):
        try:
            ok = subprocess.run([*prefix, "env", f"PYTHONPATH={paths}", python, "-c", "import yaml, lark, click"],
                                cwd="/", capture_output=True, timeout=TIMEOUT).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return [*prefix, "env", f"PYTHONPATH={paths}"], python, None
    return None, None, ("user nobody cannot run a Python with torcheck's packages here (this interpreter "
                        "lives under a folder only root may enter)")


@pytest.fixture
def as_nobody():
    """A folder user nobody may read, and a function running `torcheck ARGS` in it as nobody."""
    prefix, python, why = _unprivileged()
    if prefix is None:
        pytest.skip(f"no unprivileged user can be had: {why}")
    top = Path(tempfile.mkdtemp(prefix="torcheck-fs-"))
    top.chmod(0o777)
    shutil.copytree(FACTS, top / "reg")
    (top / "reg" / "sub").mkdir()
    (top / "reg" / "sub" / "more.yaml").write_text("people:\n  - id: p-sub\n    name: In A Subfolder\n")
    for p in [top / "reg", *(top / "reg").rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)

    def go(*args):
        env = [f"HOME={top}", f"TORCHECK_CACHE_DIR={top}/cache", f"TORCHECK_CACHE_KEY_FILE={top}/key"]
        cmd = [*prefix, *env, python, "-m", "checker.cli", *args] if prefix else \
            [python, "-m", "checker.cli", *args]
        return subprocess.run(cmd, cwd=top, capture_output=True, text=True, timeout=TIMEOUT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)} if not prefix else None)

    yield top, go
    for p in [top, *top.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(top)


def test_an_unreadable_subfolder_is_not_skipped(as_nobody):
    top, go = as_nobody
    r = go("check", "reg", "--as-of", AS_OF)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr  # readable: a check, as nobody
    (top / "reg" / "sub").chmod(0)
    for more in ((), ("--no-cache",)):
        (p,) = problems(go("check", "reg", "--as-of", AS_OF, *more))
        assert p[0] == "unreadable-folder" and "reg/sub" in p[1] and "permission denied" in p[1]


def test_an_unreadable_registry_folder_says_permission_denied(as_nobody):
    top, go = as_nobody
    (top / "reg").chmod(0)
    (p,) = problems(go("check", "reg", "--as-of", AS_OF))
    assert p[0] == "unreadable-folder" and "permission denied" in p[1] and "no-yaml-files" not in p[1]


def test_an_unreadable_subfolder_in_process(tmp_path, monkeypatch, rulebook):
    """Root-independent: os.scandir refusing a subfolder, as it does for a user without permission."""
    from checker import fsread
    from checker.model import InputError
    from checker.registry import load_registry

    shutil.copytree(FACTS, tmp_path / "reg")
    (tmp_path / "reg" / "sub").mkdir()
    (tmp_path / "reg" / "sub" / "more.yaml").write_text("people:\n  - id: p-sub\n    name: Sub\n")
    real = os.scandir

    def scandir(path):
        if os.path.basename(os.fspath(path)) in ("sub", "reg-locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(fsread.os, "scandir", scandir)
    with pytest.raises(InputError) as info:
        load_registry(str(tmp_path / "reg"), rulebook.vocabulary, display="reg")
    (d,) = info.value.diagnostics
    assert (d.code, d.message) == ("unreadable-folder", "cannot list folder reg/sub: permission denied")
    (tmp_path / "reg").rename(tmp_path / "reg-locked")
    with pytest.raises(InputError) as info:
        load_registry(str(tmp_path / "reg-locked"), rulebook.vocabulary, display="reg-locked")
    (d,) = info.value.diagnostics
    assert (d.code, d.message) == ("unreadable-folder", "cannot list folder reg-locked: permission denied")


def test_an_unreadable_rules_subfolder_in_process(tmp_path, monkeypatch):
    from checker import fsread
    from checker.compile import compile_rulebook
    from checker.model import InputError

    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules" / "more").mkdir()
    real = os.scandir

    def scandir(path):
        if os.path.basename(os.fspath(path)) == "more":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(fsread.os, "scandir", scandir)
    with pytest.raises(InputError) as info:
        compile_rulebook(str(tmp_path / "rules"), "rules", use_cache=False)
    assert [(d.code, d.message) for d in info.value.diagnostics] == [
        ("unreadable-folder", "cannot list folder rules/more: permission denied")]


# ====================================================================== 5. deeply nested cache entries


def test_deeply_nested_cache_entries_are_misses(reg, tmp_path, cache_folder):
    """'[' * 200000 in every entry of every cache, unsealed and sealed with the user's own key: a miss each
    time (the report that of --no-cache), never a RecursionError."""
    from checker.trust import open_cache

    args = ("--format", "json")
    expected = check(tmp_path, *args, "--no-cache")
    assert check(tmp_path, *args).stdout == expected.stdout
    deep = b"[" * 200000
    entries = sorted(p for p in cache_folder.rglob("*.json") if p.is_file())
    kinds = {p.relative_to(cache_folder).parts[0] for p in entries}
    assert {"registry", "results"} <= kinds, kinds
    for sealed in (False, True):
        for p in entries:
            purpose = {"registry": "registry", "results": "result"}.get(p.relative_to(cache_folder).parts[0],
                                                                     "rulebook")
            if sealed:
                body = b'{"format":1,"key":"%s","records":%s}' % (p.stem.encode(), deep)
                p.write_bytes(open_cache(cache_folder).seal(purpose, p.stem, body))
            else:
                p.write_bytes(deep)
        r = check(tmp_path, *args)
        assert (r.returncode, r.stdout, r.stderr) == (expected.returncode, expected.stdout, ""), sealed
