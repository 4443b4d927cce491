"""Bad rule files through the command line: golden diagnostics with line and column (issue 7).

Each case in tests/data/dsl/ is a broken rule file added to a copy of the
U4SSC rulebook; what `torcheck check` prints on standard error must match
the recorded `.stderr` byte for byte (see tests/data/dsl/README.md;
TORCHECK_RECORD=1 re-records). Beside the goldens: one character changed in a
quote of every rule file at once (each reported, with file:line:col), and a
syntax error in the vocabulary does not bury itself under the errors it
causes.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FACTS, ROOT, RULES

DATA = Path(__file__).parent / "data" / "dsl"
CASES = sorted(p.stem for p in DATA.glob("*.rules"))
RECORD = os.environ.get("TORCHECK_RECORD") == "1"
AS_OF = "2026-11-28"
HEAD = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>[a-z0-9-]+)\]: ")


def rulebook_copy(tmp: Path) -> Path:
    dst = tmp / "rules"
    shutil.copytree(RULES, dst, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    return dst


def check(cwd: Path):
    return subprocess.run([sys.executable, "-m", "checker.cli", "check", str(FACTS), "--rules", "rules",
                           "--as-of", AS_OF], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def heads(stderr: str) -> list[re.Match]:
    return [m for m in map(HEAD.match, stderr.splitlines()) if m]


def assert_clean_failure(r):
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-3000:])
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    assert re.search(r"^torcheck: \d+ problems?; nothing was checked$", r.stderr.splitlines()[-1])


@pytest.mark.parametrize("name", CASES)
def test_golden_diagnostics(tmp_path, name):
    rules = rulebook_copy(tmp_path)
    shutil.copy(DATA / f"{name}.rules", rules / f"{name}.rules")
    r = check(tmp_path)
    assert_clean_failure(r)
    golden = DATA / f"{name}.stderr"
    if RECORD or not golden.exists():
        golden.write_text(r.stderr, encoding="utf-8", newline="")
        if not RECORD:
            pytest.fail(f"recorded a new golden {golden.name}: review it and run again")
    assert r.stderr == golden.read_text(encoding="utf-8"), "re-record with TORCHECK_RECORD=1 if the change is wanted"
    # every problem is in the added file, with a line and a column
    ms = heads(r.stderr)
    assert ms and all(m["path"] == f"rules/{name}.rules" for m in ms)
    assert len(ms) == int(re.search(r"torcheck: (\d+) problem", r.stderr)[1])


def test_every_golden_has_a_case():
    assert sorted(p.stem for p in DATA.glob("*.stderr")) == CASES


# ---------------------------------------------------------------- quotes are checked against the ToR


_QUOTE = re.compile(r'^([ \t]*quote ")(.*)"[ \t]*$', re.M)
_SWAP = {"а": "о", "о": "а", "е": "и", "и": "е", "с": "з", "т": "д", "р": "л", "н": "м"}


def _change_one_quote(text: str):
    """The first quote of a file with one letter changed: (new text, line, column of the quote keyword)."""
    m = _QUOTE.search(text)
    if m is None:
        return None
    body = m.group(2)
    # a letter in the middle of the quote, not in a word the ToR repeats nearby
    for i in range(len(body) // 2, len(body)):
        if body[i] in _SWAP:
            new_body = body[:i] + _SWAP[body[i]] + body[i + 1:]
            break
    else:  # pragma: no cover - every quote holds Russian letters
        raise AssertionError(body)
    start = m.start(2)
    line = text.count("\n", 0, start) + 1
    col = len(m.group(1)) - len('quote "') + 1
    return text[:start] + new_body + text[m.end(2):], line, col


def test_one_changed_character_in_a_quote_of_every_file(tmp_path):
    rules = rulebook_copy(tmp_path)
    expected = []
    for p in sorted(rules.glob("*.rules")):
        changed = _change_one_quote(p.read_text(encoding="utf-8"))
        if changed is None:
            continue
        text, line, col = changed
        p.write_text(text, encoding="utf-8")
        expected.append(f"rules/{p.name}:{line}:{col}")
    assert len(expected) >= 6
    r = check(tmp_path)
    assert_clean_failure(r)
    got = [(f"{m['path']}:{m['line']}:{m['col']}", m["code"]) for m in heads(r.stderr)]
    assert got == [(w, "quote-mismatch") for w in expected], r.stderr
    assert "the quoted text is not part of clause" in r.stderr


def test_the_untouched_rulebook_copy_compiles(tmp_path):
    """The goldens' baseline: the copy alone checks the example registry (exit 1, its planted violations)."""
    rulebook_copy(tmp_path)
    r = check(tmp_path)
    assert (r.returncode, r.stderr) == (1, "")


# ---------------------------------------------------------------- one syntax error, one diagnostic


def test_a_syntax_error_in_the_vocabulary_is_not_buried(tmp_path):
    """Declarations lost to a syntax error would make every use of them an error: only the cause is reported."""
    rules = rulebook_copy(tmp_path)
    voc = rules / "vocabulary.rules"
    text = voc.read_text(encoding="utf-8")
    assert "kind people (person) " in text
    voc.write_text(text.replace("kind people (person) ", "kind people (person "), encoding="utf-8")
    helpers = rules / "00-helpers.rules"
    helpers.write_text(helpers.read_text(encoding="utf-8").replace("predicate is_partner(O, D)",
                                                                   "predicate is_partner(O, D"), encoding="utf-8")
    r = check(tmp_path)
    assert_clean_failure(r)
    codes = [(m["path"], m["code"]) for m in heads(r.stderr)]
    assert codes == [("rules/00-helpers.rules", "syntax"), ("rules/vocabulary.rules", "syntax")], r.stderr[:3000]


# ---------------------------------------------------------------- across files


def test_a_rule_id_another_file_has(tmp_path):
    rules = rulebook_copy(tmp_path)
    pubs = (rules / "30-publications-and-ip.rules").read_text(encoding="utf-8")
    m = re.search(r"^rule (\S+)", pubs, re.M)
    first_line = pubs.count("\n", 0, m.start()) + 1
    (rules / "zz-copy.rules").write_text("# pasted from 30-publications-and-ip.rules\n\n" + pubs[m.start():],
                                         encoding="utf-8")
    r = check(tmp_path)
    assert_clean_failure(r)
    ms = heads(r.stderr)
    assert ms and {m_["code"] for m_ in ms} <= {"duplicate-rule", "duplicate-declaration"}
    assert (ms[0]["path"], ms[0]["line"], ms[0]["col"]) == ("rules/zz-copy.rules", "3", "1")
    assert f"rule '{m[1]}' is already defined at rules/30-publications-and-ip.rules:{first_line}" in r.stderr


# ---------------------------------------------------------------- the rulebook's files themselves


def test_unreadable_rule_files(tmp_path):
    """A folder, a broken link and a FIFO named *.rules: clean errors (a FIFO used to hang the check)."""
    rules = rulebook_copy(tmp_path)
    (rules / "a-folder.rules").mkdir()
    os.symlink(tmp_path / "nowhere.rules", rules / "b-broken.rules")
    os.mkfifo(rules / "c-fifo.rules")
    r = check(tmp_path)
    assert_clean_failure(r)
    got = [(m["path"], m["line"], m["col"], m["code"]) for m in heads(r.stderr)]
    assert got == [("rules/a-folder.rules", "1", "1", "unreadable-file"),
                   ("rules/b-broken.rules", "1", "1", "unreadable-file"),
                   ("rules/c-fifo.rules", "1", "1", "unreadable-file")]


@pytest.mark.parametrize("text, line", [
    ("clauses: [\n", 2),
    ("clauses:\n  - text: no id\n", 1),
    ("clauses: !!python/object/apply:os.system ['touch PWNED']\n", 1),
])
def test_a_broken_tor_yaml(tmp_path, text, line):
    rules = rulebook_copy(tmp_path)
    (rules / "tor.yaml").write_text(text, encoding="utf-8")
    r = check(tmp_path)
    assert_clean_failure(r)
    (m,) = heads(r.stderr)
    assert (m["path"], m["line"], m["code"]) == ("rules/tor.yaml", str(line), "bad-tor")
    assert not (tmp_path / "PWNED").exists()


def test_rulebook_folder_missing_or_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    for name, code in (("missing", "rulebook-not-found"), ("empty", "empty-rulebook")):
        r = subprocess.run([sys.executable, "-m", "checker.cli", "check", str(FACTS), "--rules", name],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert_clean_failure(r)
        assert f"error[{code}]" in r.stderr and name in r.stderr


# ---------------------------------------------------------------- rules that compile but leave the calendar

_OFF_CALENDAR = """\
parameter forever = 99999999 years
  cites "36"
  reading "longer than the calendar"

rule past-the-calendar
  clause "36"
  modality prohibition
  severity error
  quote "Он может быть использован только после получения необходимого одобрения секретариата U4SSC."
  summary "Date arithmetic past the year 9999, an impossible date, the year of a text."
  record X
  message "{X} {D}"
  when
    publication(X), X.published_on = D, as_of < D + forever
    or publication(X), X.published_on = D, D < date(99999, 1, 1)
    or publication(X), X.published_on = D, D < date(2025, 2, 30)
    or publication(X), X.title = T, D = T, year_of(T) > 2000
"""


def test_date_arithmetic_that_leaves_the_calendar_drops_the_row_on_both_engines(tmp_path):
    rules = rulebook_copy(tmp_path)
    (rules / "zz-calendar.rules").write_text(_OFF_CALENDAR, encoding="utf-8")
    outs = []
    for engine in ("pydatalog", "sqlite"):
        r = subprocess.run([sys.executable, "-m", "checker.cli", "check", str(FACTS), "--rules", "rules", "--as-of",
                            AS_OF, "--format", "json", "--engine", engine], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert r.returncode == 1 and r.stderr == "", r.stderr[-3000:]  # the example's own violations
        assert '"rule": "past-the-calendar"' not in r.stdout
        outs.append(r.stdout)
    assert outs[0] == outs[1]
