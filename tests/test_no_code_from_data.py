"""No code from data (issue 7): registry values and rule text are carried as plain strings.

Registry texts and ids, and rule-file strings, full of Python, shell and
Datalog syntax are checked and reported like any other value: the hostile
text appears verbatim where a message quotes it, and nothing is executed.
Every run goes through a guard process: a Python audit hook that stops the
process (exit 97) if it spawns a command or compiles any source text holding
the marker word, which is how pyDatalog.load / ask, eval and exec would meet
it. A marker file that `touch` would create must never exist.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .conftest import FACTS, ROOT, RULES

AS_OF = "2026-11-28"
FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")

# The guard: any process spawn, or any compilation of source text holding the marker, ends the process.
_GUARD = r"""
import json, os, sys

MARK = "PWNED"
SPAWN = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
         "pty.spawn", "ctypes.dlopen"}

def stop(why):
    sys.stderr.write("GUARD: " + why + "\n")
    sys.stderr.flush()
    os._exit(97)

def hook(event, args):
    if event in SPAWN:
        stop(f"{event} {args!r:.300}")
    if event == "compile" and args:
        src = args[0]
        if isinstance(src, bytes):
            src = src.decode("utf-8", "replace")
        if isinstance(src, str) and MARK in src:
            stop(f"compiled source holding the marker: {src!r:.300}")

sys.addaudithook(hook)
if sys.argv[1] == "--selftest":
    eval(sys.argv[2])
    sys.exit(0)
from checker.cli import main
codes = []
for args in json.loads(sys.argv[1]):
    try:
        main.main(args, prog_name="torcheck", standalone_mode=False)
        codes.append(0)
    except SystemExit as e:
        codes.append(e.code if isinstance(e.code, int) else 1)
print(json.dumps(codes))
"""


def guarded(cwd: Path, runs: list[list[str]]):
    """Run the CLI once per argument list in one guarded process; (exit codes, stderr)."""
    r = subprocess.run([sys.executable, "-c", _GUARD, json.dumps(runs)], cwd=cwd, capture_output=True, text=True,
                       timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "GUARD:" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr
    return json.loads(r.stdout.splitlines()[-1]), r.stderr


def test_the_guard_catches_what_it_looks_for(tmp_path):
    for code in ("__import__('os').system('true')", "eval('\"PWNED\"')",
                 "__import__('pyDatalog.pyDatalog', fromlist=['x']).load('+ p(\"PWNED\")')"):
        r = subprocess.run([sys.executable, "-c", _GUARD, "--selftest", code], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 97 and "GUARD:" in r.stderr, (code, r.stderr)


# ---------------------------------------------------------------- hostile registry values


def hostile(marker: Path) -> str:
    return (f"__import__('os').system('touch {marker}') $(touch {marker}) `touch {marker}` "
            "X), p(Y ~q(X) {A} {W} {X} \"quoted\" 'single' \\back\\slash\\ ; DROP TABLE x; -- "
            "<script>alert(1)</script> &amp; %s %(x)s ${HOME} {{S}} # not a comment")


# records of the example registry renamed to ids that look like Datalog variables, engine names or Python
RENAMED = {
    "ew-ieee-kpi-2026": "X",
    "p-haddad": "V0",
    "pub-valmora-water": "r0",
    "ps-valmora": "set:0",
    "c-porto-serrano": "None",
    "a-lead-resilience-2025": "True",
    "o-valmora": "Q0",
}
_ID = "(?<![A-Za-z0-9._:-]){}(?![A-Za-z0-9_-]|[.:][A-Za-z0-9])"  # an id, maybe followed by a full stop or colon
FORUM = "IEEE Smart Cities technical community, working group on urban KPIs"


def hostile_registry(dst: Path, marker: Path) -> Path:
    shutil.copytree(FACTS, dst)
    bad = hostile(marker)
    for p in sorted(dst.glob("*.yaml")):
        text = p.read_text(encoding="utf-8")
        for old, new in RENAMED.items():
            text = re.sub(_ID.format(re.escape(old)), new, text)
        # a JSON string is a YAML double-quoted scalar
        text = text.replace(json.dumps(FORUM), json.dumps(bad))
        text = re.sub(r'^(    (?:name|venue|title|text): ).*$', lambda m: m.group(1) + json.dumps(bad), text,
                      flags=re.M)
        p.write_text(text, encoding="utf-8")
    assert json.dumps(bad) in (dst / "external_work.yaml").read_text(encoding="utf-8")
    return dst


def back(s: str, marker: Path) -> str:
    """A string of the hostile run's report as the example registry's run writes it."""
    s = s.replace(hostile(marker), FORUM)
    for old, new in RENAMED.items():
        s = re.sub(_ID.format(re.escape(new)), old, s)
    return s


def strings(x, f):
    """`x` with `f` applied to every string in it."""
    if isinstance(x, str):
        return f(x)
    if isinstance(x, list):
        return [strings(y, f) for y in x]
    if isinstance(x, dict):
        return {k: strings(y, f) for k, y in x.items()}
    return x


def canonical(report: dict, f=lambda s: s) -> list:
    out = []
    for v in report["violations"]:
        v = strings(v, f)
        v["because"] = sorted(json.dumps(n, sort_keys=True, ensure_ascii=False) for n in v["because"])
        out.append(v)
    return sorted(out, key=lambda v: (v["rule"], v["record"], v["message"]))


def test_hostile_registry_values_are_plain_data(tmp_path):
    marker = tmp_path / "PWNED"
    bad = hostile(marker)
    (tmp_path / "h").mkdir()
    (tmp_path / "o").mkdir()
    hostile_registry(tmp_path / "h" / "reg", marker)
    shutil.copytree(FACTS, tmp_path / "o" / "reg")
    runs = [["check", "reg", "--as-of", AS_OF, "--format", f, "-o", f"out.{f}"] for f in FORMATS]
    codes, _ = guarded(tmp_path / "h", runs)
    assert codes == [1] * len(FORMATS)
    guarded(tmp_path / "o", [["check", "reg", "--as-of", AS_OF, "--format", "json", "-o", "out.json"]])
    assert not marker.exists() and not (tmp_path / "h" / "PWNED").exists()

    got = json.loads((tmp_path / "h" / "out.json").read_text(encoding="utf-8"))
    want = json.loads((tmp_path / "o" / "out.json").read_text(encoding="utf-8"))
    # the same violations, explanations and summary, once the hostile strings are mapped back
    assert canonical(got, lambda s: back(s, marker)) == canonical(want)
    assert got["summary"] == want["summary"]
    # the hostile forum verbatim in the message of the renamed record X, in every format
    (v,) = [v for v in got["violations"] if v["rule"] == "external-work-reported-late"]
    assert v["record"] == "X"
    assert v["message"] == (f"External work X in {bad}, started 2026-04-01, was reported to the secretariat only on "
                            "2026-05-16, more than 30 days later (the rulebook's reading of «незамедлительно», 38)")
    assert {v["record"] for v in got["violations"]} >= {"X", "r0", "set:0", "None", "True"}
    outs = {f: (tmp_path / "h" / f"out.{f}").read_text(encoding="utf-8") for f in FORMATS}
    assert v["message"] in outs["text"]
    assert v["message"] in re.sub(r"\\(.)", r"\1", outs["markdown"])  # Markdown's escapes undone
    assert html.escape(v["message"]) in outs["html"] and "<script>alert(1)" not in outs["html"]
    sarif = json.loads(outs["sarif"])
    assert any(r["message"]["text"].startswith(v["message"]) for run in sarif["runs"] for r in run["results"])
    junit = ET.fromstring(outs["junit"].encode("utf-8"))
    assert any(v["message"] in (el.get("message") or "") + (el.text or "") for el in junit.iter())


def test_hostile_ids_that_break_the_pattern_are_reported_verbatim(tmp_path):
    marker = tmp_path / "PWNED"
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "a.yaml").write_text(
        "people:\n"
        f"  - id: {json.dumps(hostile(marker))}\n    name: A\n"
        "  - id: p-1\n    name: B\n    affiliation: \"X), p(Y\"\n"
        "  - id: p-2\n    name: C\n    affiliation: \"~q(X)\"\n"
        "  - id: p-3\n    name: D\n    affiliation: \"$(touch PWNED)\"\n",
        encoding="utf-8")
    codes, stderr = guarded(tmp_path, [["check", "reg", "--as-of", AS_OF]])
    assert codes == [2] and not marker.exists() and not (tmp_path / "PWNED").exists()
    assert re.findall(r"error\[(\S+)\]", stderr) == ["bad-id"] * 4
    assert repr(hostile(marker)) in stderr
    for s in ("'X), p(Y'", "'~q(X)'", "'$(touch PWNED)'"):
        assert s in stderr


# ---------------------------------------------------------------- hostile rule text


def dsl(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


QUOTE_38 = '"секретариат U4SSC должен быть незамедлительно проинформирован"'


def hostile_rules(marker: Path, message: str) -> str:
    bad = hostile(marker)
    return f"""\
# Rule text full of Python, shell and Datalog syntax: all of it is text.

predicate odd_forum(W) {dsl("{W} works in " + bad)} when
  external_work(W), W.forum = {dsl(bad)}

rule hostile-forum
  clause "38"
  modality obligation
  severity warning
  quote {QUOTE_38}
  summary {dsl(bad)}
  note {dsl(bad)}
  record W
  message {dsl(message)}
  when
    odd_forum(W), not (W.reported_on = R, R < 2000-01-01) {dsl("a report of {W} " + bad)}
"""


def test_hostile_rule_text_compiles_to_plain_strings(tmp_path):
    marker = tmp_path / "PWNED"
    shutil.copytree(RULES, tmp_path / "rules", ignore=shutil.ignore_patterns("tests"))
    message = "Forum of {W}: __import__('os').system('touch PWNED') $(touch PWNED) X), p(Y ~q(X) \\ \" {{W}}"
    (tmp_path / "rules" / "hostile.rules").write_text(hostile_rules(marker, message), encoding="utf-8")
    hostile_registry(tmp_path / "reg", marker)
    codes, _ = guarded(tmp_path, [["check", "reg", "--rules", "rules", "--as-of", AS_OF, "--format", "json",
                                   "-o", "out.json"]])
    assert codes == [1] and not marker.exists() and not (tmp_path / "PWNED").exists()
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    (v,) = [v for v in report["violations"] if v["rule"] == "hostile-forum"]
    # the string constant matched the hostile forum as data; the message is the template with W bound
    # (a message has no escape for braces: "{{W}}" is "{" + W + "}")
    assert v["record"] == "X" and v["severity"] == "warning"
    assert v["message"] == message.replace("{W}", "X")
    # the helper's sentence, its parameter W filled in wherever the text names it
    assert v["because"][0]["holds"] == ("{W} works in " + hostile(marker)).replace("{W}", "X")


def test_hostile_rule_text_with_an_unbound_placeholder_fails_cleanly(tmp_path):
    marker = tmp_path / "PWNED"
    shutil.copytree(RULES, tmp_path / "rules", ignore=shutil.ignore_patterns("tests"))
    (tmp_path / "rules" / "hostile.rules").write_text(
        hostile_rules(marker, "{W} __import__('os').system('touch PWNED') {A}"), encoding="utf-8")
    (tmp_path / "rules" / "hostile2.rules").write_text(
        "rule x), p(Y\n  clause \"38\"\n  when ~q(X)\n", encoding="utf-8")
    codes, stderr = guarded(tmp_path, [["check", str(FACTS), "--rules", "rules", "--as-of", AS_OF]])
    assert codes == [2] and not marker.exists() and not (tmp_path / "PWNED").exists()
    assert "rules/hostile2.rules:1:7: error[syntax]" in stderr  # nothing else is compiled when a file does not parse
    (tmp_path / "rules" / "hostile2.rules").unlink()
    codes, stderr = guarded(tmp_path, [["check", str(FACTS), "--rules", "rules", "--as-of", AS_OF]])
    assert codes == [2] and not marker.exists()
    assert re.findall(r"^(rules/\S+): error\[(\S+)\]: (.*)$", stderr, re.M) == [
        ("rules/hostile.rules:14:3", "unbound-variable", "variable A is not bound by a positive condition")]
