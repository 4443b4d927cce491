"""Hostile and broken registries through the command line, end to end (issue 7).

Every input problem is a clean error: exit status 2, one diagnostic per
problem on standard error as `PATH:LINE[:COL]: error[CODE]: message`, every
problem of every file at once, nothing on standard output, never a
traceback. The loader's own unit tests are in test_registry.py; these run the
real `python -m checker.cli` in a fresh process, as a user or a CI job would.

Also here: `-o FILE` is written atomically (a failing or crashing run leaves an
existing FILE as it was), and `what-if` never writes the registry.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import FACTS, ROOT

AS_OF = "2026-11-28"
DIAG = re.compile(r"^(?:(?P<path>[^\s:][^:]*):(?P<line>\d+)(?::(?P<col>\d+))?: )?"
                  r"error\[(?P<code>[a-z0-9-]+)\]: (?P<msg>.*)$")
SUMMARY = re.compile(r"^torcheck: (\d+) problems?; nothing was checked$")


# ---------------------------------------------------------------- helpers


def write(root: Path, files: dict) -> Path:
    for name, body in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            p.write_bytes(body)
        else:
            p.write_text(body, encoding="utf-8")
    return root


def run(cwd: Path, *args, timeout=120):
    """`torcheck ARGS` in `cwd` (so that paths in diagnostics are relative and stable)."""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "checker.cli", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})
    r.elapsed = time.perf_counter() - t
    return r


def check(cwd: Path, registry="reg", *more):
    return run(cwd, "check", registry, "--as-of", AS_OF, *more)


def diagnostics(r) -> list[dict]:
    """The diagnostics of a failed run, each {path, line, col, code, msg, more: [indented lines]}.

    Also asserts what every failed run must look like: exit 2, no traceback,
    nothing on standard output, a well-formed head line for each diagnostic
    and the closing count.
    """
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-4000:])
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    m = SUMMARY.match(lines[-1])
    assert m, lines[-1]
    out = []
    for ln in lines[:-1]:
        if ln.startswith("    "):
            assert out, ln
            out[-1]["more"].append(ln[4:])
            continue
        d = DIAG.match(ln)
        assert d, f"not a diagnostic line: {ln!r}"
        out.append({**d.groupdict(), "more": []})
    assert len(out) == int(m.group(1))
    return out


def where(d) -> str:
    return f"{d['path']}:{d['line']}" + (f":{d['col']}" if d["col"] else "")


def helps(d) -> list[str]:
    return [x[len("help: "):] for x in d["more"] if x.startswith("help: ")]


def sorted_as_spec(ds):
    keys = [(d["path"] or "", int(d["line"] or 0), int(d["col"] or 0)) for d in ds]
    return keys == sorted(keys)


# ---------------------------------------------------------------- a registry with one of everything

GOOD = """\
organizations:
  - id: o-itu
    name: ITU
    type: un_entity
people:
  - id: p-ann
    name: Ann
    affiliation: o-itu
"""

# Every record-level problem, each on a line the test names. All files parse,
# so references are checked too.
RECORDS = """\
organisations:
  - id: o-x
organizations:
  - id: o-unece
    name: UNECE
    type: un_agency
    website: https://unece.org
  - id: o bad id
    name: Bad
    type: city
  - just a string
  - id: 'o-dup'
    name: [a, list]
    type: city
people:
  - id: p-bob
    nmae: Bob
  - id: p-cy
    name: Cy
    affiliation: o-nowhere
appointments:
  - id: a-1
    person: o-itu
    role: chair
    start: 2026-02-30
    end: 31/12/2026
    appointed_by: partner_council
    consulted: secretariat
fundraising:
  - id: f-1
    by: p-ann
    date: 2026-01-10
    via_programme: yes
reports:
  - id: r-1
    kind: centre_annual
    by: p-ann
    date: 2026-01-10
    year: MMXXV
  - id: secretariat
    kind: ip_progress
    by: p-ann
    date: 2026-01-10
external_work:
  - id: ew-1
    by: p-ann
    forum: "\\e]0;PWNED\\a sets the terminal's title"
    started: 2026-01-10
"""

DUP = """\
organizations:
  - id: o-dup
    name: Dup
    type: city
people:
  - id: p-ann
    name: Ann again
"""

EXPECTED_RECORDS = [
    # (path:line[:col], code, words in the message, words in a help line or None)
    ("reg/records.yaml:1:1", "unknown-kind", "unknown kind of record 'organisations'", "did you mean 'organizations'?"),
    ("reg/records.yaml:6:11", "bad-enum", "must be one of un_entity, government", "did you mean 'un_entity'?"),
    ("reg/records.yaml:7:5", "unknown-field", "unknown field 'website' in organization o-unece", "fields: id, name, type"),
    ("reg/records.yaml:8:9", "bad-id", "'o bad id' is not a valid id for an organization", None),
    ("reg/records.yaml:11:5", "not-a-mapping", "a record of organizations must be a mapping", None),
    ("reg/records.yaml:13:11", "bad-type", "field 'name' of organization o-dup must be text, not a list", None),
    ("reg/records.yaml:16:5", "missing-field", "person p-bob has no 'name', which is required", None),
    ("reg/records.yaml:17:5", "unknown-field", "unknown field 'nmae' in person p-bob", "did you mean 'name'?"),
    ("reg/records.yaml:20:18", "dangling-ref", "refers to 'o-nowhere', which is no record", None),
    ("reg/records.yaml:23:13", "wrong-kind-ref", "field 'person' of appointment a-1 refers to organization o-itu", None),
    ("reg/records.yaml:25:12", "bad-date", "2026-02-30 is not a real date", None),
    ("reg/records.yaml:26:10", "bad-date", "must be a date written YYYY-MM-DD; got '31/12/2026'", None),
    ("reg/records.yaml:28:16", "bad-type", "field 'consulted' of appointment a-1 must be a list", "write [secretariat]"),
    ("reg/records.yaml:33:20", "bad-boolean", "must be true or false; got 'yes'", None),
    ("reg/records.yaml:39:11", "bad-year", "got 'MMXXV'", None),
    ("reg/records.yaml:40:9", "reserved-id", "'secretariat' is the id of a fixed body", None),
    ("reg/records.yaml:47:12", "bad-text", "field 'forum' of external_work ew-1 holds the control character U+001B", None),
    ("reg/z-dup.yaml:2", "duplicate-id", "'o-dup' is already taken by the organization at reg/records.yaml:12",
     "ids are unique across the whole registry"),
    ("reg/z-dup.yaml:6", "duplicate-id", "'p-ann' is already taken by the person at reg/good.yaml:6",
     "ids are unique across the whole registry"),
]


def test_every_record_problem_of_every_file_at_once(tmp_path):
    write(tmp_path / "reg", {"good.yaml": GOOD, "records.yaml": RECORDS, "z-dup.yaml": DUP})
    ds = diagnostics(check(tmp_path))
    got = [(where(d), d["code"]) for d in ds]
    assert got == [(w, c) for w, c, _, _ in EXPECTED_RECORDS]
    for d, (_, _, words, help) in zip(ds, EXPECTED_RECORDS):
        assert words in d["msg"], (d, words)
        if help is not None:
            assert help in helps(d), (d, help)
    assert sorted_as_spec(ds)
    # the offending line and a caret under the column
    d = ds[[w for w, *_ in EXPECTED_RECORDS].index("reg/records.yaml:25:12")]
    assert d["more"][:2] == ["    start: 2026-02-30", " " * 11 + "^"]


# ---------------------------------------------------------------- files that cannot be read at all


def alias_bomb(levels=30) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_every_unreadable_file_at_once_quickly(tmp_path):
    marker = tmp_path / "PWNED"
    reg = write(tmp_path / "reg", {
        "a-good.yaml": GOOD,
        "b-syntax.yaml": "people:\n  - id: p-1\n    name: Ann\n   bad: indentation\n",
        "c-latin1.yaml": "people:\n  - id: p-2\n    name: Ren\xe9e\n".encode("latin-1"),
        "d-binary.yaml": b"people:\n  - id: p-3\x00\x01\x02\n",
        "e-utf16.yaml": "people:\n  - id: p-4\n    name: X\n".encode("utf-16"),
        "f-list.yaml": "- id: p-5\n  name: X\n",
        "g-scalar.yaml": "just some text\n",
        "h-python.yaml": f"people:\n  - id: p-6\n    name: !!python/object/apply:os.system ['touch {marker}']\n",
        "i-python-root.yaml": f"!!python/object/apply:subprocess.check_output [['touch', '{marker}']]\n",
        "j-bomb.yaml": alias_bomb(),
        "k-deep.yaml": "people: " + "[" * 5000 + "]" * 5000 + "\n",
        "l-deep-block.yaml": "".join("  " * i + f"k{i}:\n" for i in range(3000)),
        "m-anchor.yaml": "organizations:\n  - &o\n    id: o-1\n    name: One\n    type: city\n  - *o\n",
        "n-two-docs.yaml": GOOD.replace("o-itu", "o-x").replace("p-ann", "p-x") + "---\npeople: []\n",
        "o-raw-escape.yaml": "people:\n  - id: p-7\n    name: \x1b]0;PWNED\x07\x1b[31mRed\n",
    })
    with open(reg / "z-big.yaml", "wb") as fh:  # sparse: 64 MiB + 1 byte that cost no disk
        fh.truncate(64 * 1024 * 1024 + 1)
    r = check(tmp_path)
    ds = diagnostics(r)
    assert r.elapsed < 20
    assert not marker.exists()
    got = [(where(d).split(":")[0], d["code"]) for d in ds]
    assert got == [
        ("reg/b-syntax.yaml", "yaml-syntax"),
        ("reg/c-latin1.yaml", "not-utf8"),
        ("reg/d-binary.yaml", "binary-file"),
        ("reg/e-utf16.yaml", "binary-file"),
        ("reg/f-list.yaml", "not-a-mapping"),
        ("reg/g-scalar.yaml", "not-a-mapping"),
        ("reg/h-python.yaml", "yaml-tag"),
        ("reg/i-python-root.yaml", "yaml-tag"),
        ("reg/j-bomb.yaml", "yaml-alias"),  # the first anchor
        ("reg/j-bomb.yaml", "yaml-alias"),  # the first alias
        ("reg/k-deep.yaml", "too-deep"),
        ("reg/l-deep-block.yaml", "too-deep"),
        ("reg/m-anchor.yaml", "yaml-alias"),
        ("reg/m-anchor.yaml", "yaml-alias"),
        ("reg/n-two-docs.yaml", "yaml-syntax"),
        ("reg/o-raw-escape.yaml", "yaml-syntax"),
        ("reg/z-big.yaml", "file-too-large"),
    ]
    # every one has a file and a line
    assert all(d["path"] and d["line"] for d in ds), [d for d in ds if not d["line"]]
    by = {f"{d['path']}:{d['line']}": d for d in ds}
    assert "reg/b-syntax.yaml:4" in by
    assert "byte 0xe9 on line 3" in by["reg/c-latin1.yaml:3"]["msg"]
    assert "reg/d-binary.yaml:2" in by
    assert "python/object/apply:os.system" in by["reg/h-python.yaml:3"]["msg"]
    assert "(29 more in this file)" in by["reg/j-bomb.yaml:1"]["msg"]
    assert "reg/l-deep-block.yaml:51" in by
    assert "&o" in by["reg/m-anchor.yaml:2"]["msg"] and "*o" in by["reg/m-anchor.yaml:6"]["msg"]
    assert "64 MiB" in by["reg/z-big.yaml:1"]["msg"]
    # a control character is named, and its line shown with a symbol in its place, never sent to the terminal
    assert "U+001B" in by["reg/o-raw-escape.yaml:3"]["msg"]
    assert by["reg/o-raw-escape.yaml:3"]["more"][0] == "    name: \u241b]0;PWNED\u2407\u241b[31mRed"
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr


def test_a_file_that_cannot_be_read_hides_no_other_problem(tmp_path):
    """A broken file stops dangling-ref checks (its ids may be missing) but nothing else."""
    write(tmp_path / "reg", {"a.yaml": "people:\n  - id: p-1\n    nmae: X\n    affiliation: o-nowhere\n",
                             "b.yaml": "organizations:\n  - id: o-1\n    name: [One\n"})
    ds = diagnostics(check(tmp_path))
    assert [(where(d), d["code"]) for d in ds] == [
        ("reg/a.yaml:2:5", "missing-field"), ("reg/a.yaml:3:5", "unknown-field"), ("reg/b.yaml:4:1", "yaml-syntax")]
    assert "started on line 3, column 11" in ds[-1]["msg"]  # where the unclosed [ is


# ---------------------------------------------------------------- the registry folder itself


def test_registry_folder_that_does_not_exist(tmp_path):
    (d,) = diagnostics(check(tmp_path, "no/such/folder"))
    assert d["code"] == "registry-not-found" and "no/such/folder" in d["msg"]


def test_registry_that_is_a_file(tmp_path):
    write(tmp_path, {"reg.yaml": GOOD})
    (d,) = diagnostics(check(tmp_path, "reg.yaml"))
    assert d["code"] == "not-a-folder" and "reg.yaml" in d["msg"]


def test_empty_registry_folder(tmp_path):
    (tmp_path / "reg").mkdir()
    write(tmp_path / "reg", {"README.md": "not yaml", ".hidden.yaml": GOOD})
    (d,) = diagnostics(check(tmp_path))
    assert d["code"] == "no-yaml-files" and "reg" in d["msg"]


def test_registry_of_empty_files_is_valid(tmp_path):
    write(tmp_path / "reg", {"a.yaml": "", "b.yml": "# nothing yet\n", "c.yaml": "people:\n"})
    r = check(tmp_path, "reg", "--format", "json")
    assert (r.returncode, r.stderr) == (0, "")
    assert '"records": 0' in r.stdout


def test_symlink_loops(tmp_path):
    """A folder linking to itself is not followed; a file link loop is an unreadable file."""
    reg = write(tmp_path / "reg", {"a.yaml": GOOD})
    os.symlink(reg, reg / "loop")
    os.symlink(reg / "x.yaml", reg / "y.yaml")
    os.symlink(reg / "y.yaml", reg / "x.yaml")
    ds = diagnostics(check(tmp_path))
    assert [(where(d), d["code"]) for d in ds] == [("reg/x.yaml:1", "unreadable-file"),
                                                   ("reg/y.yaml:1", "unreadable-file")]
    # the registry argument itself a loop
    os.symlink(tmp_path / "self", tmp_path / "self")
    (d,) = diagnostics(check(tmp_path, "self"))
    assert d["code"] in ("registry-not-found", "not-a-folder", "unreadable-file") and "self" in d["msg"]


def test_symlinked_folder_only_is_empty(tmp_path):
    write(tmp_path / "elsewhere", {"a.yaml": GOOD})
    (tmp_path / "reg").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "reg" / "linked")
    (d,) = diagnostics(check(tmp_path))
    assert d["code"] == "no-yaml-files"


# ---------------------------------------------------------------- the command line itself


@pytest.mark.parametrize("args, words", [
    (["check", "reg", "--as-of", "2026-02-30"], "2026-02-30"),
    (["check", "reg", "--format", "pdf"], "pdf"),
    (["check", "reg", "--fail-on", "fatal"], "fatal"),
    (["frobnicate"], "frobnicate"),
])
def test_bad_command_lines_exit_2_without_traceback(tmp_path, args, words):
    write(tmp_path / "reg", {"a.yaml": GOOD})
    r = run(tmp_path, *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr and words in r.stderr


def test_baseline_that_is_not_a_report(tmp_path):
    write(tmp_path, {"reg/a.yaml": GOOD, "old.json": "{not json", "list.json": "[1, 2]",
                     "deep.json": "[" * 100_000 + "]" * 100_000, "latin1.json": b'{"violations": "\xe9"}',
                     "folder.json/x": ""})
    for name in ("old.json", "list.json", "missing.json", "deep.json", "latin1.json", "folder.json"):
        (d,) = diagnostics(check(tmp_path, "reg", "--baseline", name))
        assert d["code"] == "baseline" and name in d["msg"]


# ---------------------------------------------------------------- nothing lost: -o FILE


def test_failing_run_leaves_an_existing_output_file_untouched(tmp_path):
    write(tmp_path / "reg", {"a.yaml": RECORDS})
    out = tmp_path / "report.json"
    out.write_bytes(b"the previous report\n")
    before = out.stat()
    r = check(tmp_path, "reg", "--format", "json", "-o", str(out))
    diagnostics(r)
    assert out.read_bytes() == b"the previous report\n" and out.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reg", "report.json"]  # no temporary left behind


def test_output_is_written_whole_and_replaces_the_old_file(tmp_path):
    out = tmp_path / "report.json"
    out.write_text("old")
    r = run(tmp_path, "check", str(FACTS), "--as-of", AS_OF, "--format", "json", "-o", str(out))
    assert r.returncode == 1 and r.stdout == ""
    fresh = run(tmp_path, "check", str(FACTS), "--as-of", AS_OF, "--format", "json")
    assert out.read_text(encoding="utf-8") == fresh.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_into_a_missing_folder_is_a_clean_error(tmp_path):
    r = run(tmp_path, "check", str(FACTS), "--as-of", AS_OF, "-o", "no/such/dir/report.txt")
    (d,) = diagnostics(r)
    assert d["code"] == "output" and "no/such/dir/report.txt" in d["msg"]


# a crash in the middle of writing, in a process of its own: the old report survives
_CRASH = r"""
import builtins, io, os, sys
from checker.cli import main
real_fdopen = os.fdopen

class Dying(io.TextIOWrapper):
    def write(self, s):
        super().write(s[: len(s) // 2])
        self.flush()
        raise {exc}

def fdopen(fd, *a, **k):
    f = real_fdopen(fd, *a, **k)
    if "b" in (a[0] if a else k.get("mode", "r")):  # a cache entry (binary): not the report being written
        return f
    return Dying(f.detach(), encoding="utf-8", newline="")

os.fdopen = fdopen
main(sys.argv[1:])
"""


@pytest.mark.parametrize("exc", ["OSError(28, 'No space left on device')", "KeyboardInterrupt()"])
def test_crash_mid_write_keeps_the_old_file(tmp_path, exc):
    out = tmp_path / "report.html"
    out.write_text("<p>the previous report</p>\n")
    r = subprocess.run([sys.executable, "-c", _CRASH.replace("{exc}", exc), "check", str(FACTS), "--as-of", AS_OF,
                        "--format", "html", "-o", str(out)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if exc.startswith("OSError"):  # a full disk is an input problem of its own: a clean error
        (d,) = diagnostics(r)
        assert d["code"] == "output" and "No space left on device" in d["msg"]
    else:
        assert r.returncode == 130 and r.stderr == "torcheck: interrupted; nothing was written\n"  # issue 12: not click's "Aborted!", exit 1
    assert out.read_text() == "<p>the previous report</p>\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # the partial temporary is removed


def test_output_that_is_a_folder_is_a_clean_error(tmp_path):
    (tmp_path / "out").mkdir()
    (d,) = diagnostics(run(tmp_path, "check", str(FACTS), "--as-of", AS_OF, "-o", "out"))
    assert d["code"] == "output" and "cannot write out" in d["msg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not any((tmp_path / "out").iterdir())


def test_write_output_in_process_keeps_the_old_file(tmp_path, monkeypatch):
    from checker import files
    from checker.cli.output import write_output

    out = tmp_path / "r.txt"
    out.write_text("old")

    def boom(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(SystemExit) as exit_:
        write_output("new report", str(out))
    assert exit_.value.code == 2
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.txt"]
    monkeypatch.undo()
    write_output("new report", str(out))
    assert out.read_text() == "new report" and [p.name for p in tmp_path.iterdir()] == ["r.txt"]


# ---------------------------------------------------------------- nothing lost: what-if writes nothing


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _has_what_if() -> bool:
    r = subprocess.run([sys.executable, "-m", "checker.cli", "what-if", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    return r.returncode == 0


def test_what_if_never_writes_the_registry(tmp_path):
    if not _has_what_if():
        pytest.fail("torcheck what-if does not exist (spec/cli.md)")
    reg = tmp_path / "reg"
    shutil.copytree(FACTS, reg)
    write(tmp_path, {
        "add.yaml": "organizations:\n  - id: o-new\n    name: New\n    type: city\n"
                    "partnerships:\n  - id: ps-new\n    organization: o-new\n    since: 2026-01-01\n",
        "bad.yaml": "organizations:\n  - id: o-itu\n    name: Dup\n    type: citi\n",
    })
    before = _snapshot(reg)
    outside = sorted(p.name for p in tmp_path.iterdir())
    some_id = next(iter(re.findall(r"^  - id: (\S+)", (reg / "statements.yaml").read_text(), re.M)))
    runs = [
        run(tmp_path, "what-if", "reg", "--as-of", AS_OF, "--add", "add.yaml", "--format", "json"),
        run(tmp_path, "what-if", "reg", "--as-of", AS_OF, "--remove", some_id),
        run(tmp_path, "what-if", "reg", "--as-of", AS_OF, "--add", "bad.yaml"),  # an input error
        run(tmp_path, "what-if", "reg", "--as-of", AS_OF, "--remove", "no-such-id"),
    ]
    assert runs[0].returncode == 1 and '"record": "ps-new"' in runs[0].stdout, runs[0].stderr  # a non-UN partner
    assert runs[1].returncode in (0, 1), runs[1].stderr
    assert [r.returncode for r in runs][2:] == [2, 2]
    for r in runs:
        assert "Traceback" not in r.stderr
    assert _snapshot(reg) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == outside
