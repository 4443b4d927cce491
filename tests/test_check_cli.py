"""`torcheck check` on the command line, run as a user runs it (a fresh process).

Golden outputs: `torcheck check tests/data/golden/registry --as-of 2025-10-15
--format F` in every format, in tests/data/golden/check.<ext>. Re-record them with

    TORCHECK_RECORD=1 pytest tests/test_check_cli.py

and review the diff by eye before committing (git diff tests/data/golden/).

Also here: colour only on a terminal and never under NO_COLOR; -o FILE;
--baseline end to end (old violations suppressed, a new one still fails, a
missing or malformed baseline is exit 2 with a clean message); --fail-on at
every level, exit statuses included.

Test dependencies: jsonschema (SARIF), junitparser (JUnit XML).
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from .conftest import ROOT, torcheck

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
REGISTRY = "tests/data/golden/registry"  # as given on the command line: paths in reports start so
AS_OF = "2025-10-15"
RECORD = os.environ.get("TORCHECK_RECORD") == "1"
EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "markdown": "md", "html": "html"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# what the golden registry breaks (tests/data/golden/registry/README.md)
EXPECTED = [
    ("partner-not-un-entity", "ps-city", "error"),
    ("non-partner-logo", "pub-guide", "notice"),
    ("centre-missing-annual-report", "c-porto", "warning"),
    ("representation-without-notice", "rep-kim", "warning"),
    ("external-work-reported-late", "ew-iso", "error"),
    ("unauthorised-statement", "st-kim", "warning"),
    ("ip-lead-missing-quarterly-meeting", "a-ip-2025", "error"),
]


def check(*args, env=None, cwd=None):
    return torcheck("check", *args, env=env, cwd=cwd)


def assert_clean_failure(r, *, code=2):
    """Exit `code`, nothing on standard output, no traceback."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    assert "Traceback" not in r.stderr


# --- golden outputs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden_runs():
    return {fmt: check(REGISTRY, "--as-of", AS_OF, "--format", fmt) for fmt in EXTENSIONS}


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_golden(golden_runs, fmt):
    r = golden_runs[fmt]
    assert r.returncode == 1, r.stderr  # the registry has errors
    assert r.stderr == ""
    path = GOLDEN / f"check.{EXTENSIONS[fmt]}"
    if RECORD:
        path.write_bytes(r.stdout.encode("utf-8"))
    assert r.stdout == path.read_bytes().decode("utf-8"), "re-record with TORCHECK_RECORD=1 if the change is wanted"


def test_golden_registry_breaks_what_its_readme_says(golden_runs):
    data = json.loads(golden_runs["json"].stdout)
    assert [(v["rule"], v["record"], v["severity"]) for v in data["violations"]] == EXPECTED
    assert data["summary"] == {"error": 3, "warning": 3, "notice": 1, "records": 21, "rules": 41}
    assert data["as_of"] == AS_OF


def test_golden_sarif_is_valid_and_points_into_the_registry(golden_runs):
    log = json.loads(golden_runs["sarif"].stdout)
    schema = json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    for result in log["runs"][0]["results"]:
        for loc in result["locations"] + result.get("relatedLocations", []):
            phys = loc["physicalLocation"]
            path = ROOT / phys["artifactLocation"]["uri"]
            assert path.is_file(), path  # relative to the directory torcheck ran in
            assert 1 <= phys["region"]["startLine"] <= len(path.read_text(encoding="utf-8").splitlines())


def test_golden_junit_parses(golden_runs, tmp_path):
    path = tmp_path / "check.xml"
    path.write_text(golden_runs["junit"].stdout, encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    assert (xml.failures, xml.errors) == (len(EXPECTED), 0)


def test_text_is_plain_through_a_pipe(golden_runs):
    out = golden_runs["text"].stdout
    assert "\x1b[" not in out
    # one line of reason per violation, the record's place in its head line
    assert out.count("\n    why: ") == len(EXPECTED)
    assert f"  warning  st-kim  {REGISTRY}/conduct.yaml:3\n" in out


def test_output_file_holds_what_stdout_would(golden_runs, tmp_path):
    for fmt, ext in (("text", "txt"), ("sarif", "sarif")):  # one writer for every format
        out = tmp_path / f"report.{ext}"
        r = check(REGISTRY, "--as-of", AS_OF, "--format", fmt, "-o", str(out))
        assert (r.returncode, r.stdout, r.stderr) == (1, "", "")
        assert out.read_bytes().decode("utf-8") == golden_runs[fmt].stdout


def test_output_into_a_missing_folder_is_a_clean_error(tmp_path):
    r = check(REGISTRY, "--as-of", AS_OF, "-o", str(tmp_path / "no" / "such" / "report.txt"))
    assert_clean_failure(r)
    assert "error[output]" in r.stderr


# --- colour -----------------------------------------------------------------------------


def run_on_terminal(args, env_extra=None, env_drop=("NO_COLOR",)):
    """Run torcheck with its standard output on a pseudo-terminal; (status, output)."""
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env.update(env_extra or {})
    env.setdefault("TERM", "xterm")
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([sys.executable, "-m", "checker.cli", *args], cwd=ROOT, env=env,
                             stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        chunks = []
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                p.kill()
                raise AssertionError("torcheck wrote nothing for 60 s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        p.wait(timeout=60)
        p.stderr.close()
    finally:
        os.close(master)
    return p.returncode, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_text_is_coloured_on_a_terminal(golden_runs):
    code, out = run_on_terminal(["check", REGISTRY, "--as-of", AS_OF])
    assert code == 1
    assert "\x1b[1;31merror\x1b[0m" in out and "\x1b[33mwarning\x1b[0m" in out
    assert "\x1b[36mnotice\x1b[0m" in out
    assert ANSI.sub("", out) == golden_runs["text"].stdout  # colour adds nothing else


@pytest.mark.parametrize("value", ["1", "0", "yes"])
def test_no_color_turns_colour_off_on_a_terminal(golden_runs, value):
    code, out = run_on_terminal(["check", REGISTRY, "--as-of", AS_OF], {"NO_COLOR": value})
    assert code == 1
    assert out == golden_runs["text"].stdout


def test_an_empty_no_color_is_not_set(golden_runs):
    # no-color.org: NO_COLOR counts when it is present and not empty
    code, out = run_on_terminal(["check", REGISTRY, "--as-of", AS_OF], {"NO_COLOR": ""})
    assert "\x1b[1;31merror\x1b[0m" in out


def test_a_report_file_is_never_coloured_even_from_a_terminal(golden_runs, tmp_path):
    target = tmp_path / "report.txt"
    code, out = run_on_terminal(["check", REGISTRY, "--as-of", AS_OF, "-o", str(target)])
    assert (code, out) == (1, "")
    assert target.read_text(encoding="utf-8") == golden_runs["text"].stdout


def test_other_formats_are_never_coloured_on_a_terminal(golden_runs):
    code, out = run_on_terminal(["check", REGISTRY, "--as-of", AS_OF, "--format", "markdown"])
    assert out == golden_runs["markdown"].stdout


# --- gating: --baseline -----------------------------------------------------------------


@pytest.fixture()
def registry(tmp_path):
    """A copy of the golden registry that a test may change."""
    dest = tmp_path / "registry"
    shutil.copytree(ROOT / REGISTRY, dest)
    return dest


# a new error: the Implementation Programme lead speaks on behalf of a partner (Annex I.4);
# since revision 4 a statement by p-kim would be a warning of 39 only
NEW_STATEMENT = """
  - id: st-lee-itu
    speaker: p-lee
    date: 2025-09-01
    on_behalf_of: o-itu
"""


def add_statement(registry: Path):
    conduct = registry / "conduct.yaml"
    text = conduct.read_text(encoding="utf-8")
    conduct.write_text(text.replace("\nrepresentations:", NEW_STATEMENT + "\nrepresentations:", 1),
                       encoding="utf-8")


def test_baseline_suppresses_old_violations_and_catches_new_ones(registry, tmp_path):
    baseline = tmp_path / "baseline.json"
    first = check(str(registry), "--as-of", AS_OF, "--format", "json", "-o", str(baseline))
    assert first.returncode == 1
    assert len(json.loads(baseline.read_text(encoding="utf-8"))["violations"]) == len(EXPECTED)

    # nothing new: exit 0, nothing reported, the summary counts what is reported
    again = check(str(registry), "--as-of", AS_OF, "--format", "json", "--baseline", str(baseline))
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["violations"] == []
    assert data["summary"] == {"error": 0, "warning": 0, "notice": 0, "records": 21, "rules": 41}
    text = check(str(registry), "--as-of", AS_OF, "--baseline", str(baseline))
    assert text.returncode == 0
    assert "No violations in 21 records checked against 41 rules" in text.stdout

    # a new violation still fails, and is the only one reported, in every format
    add_statement(registry)
    new = check(str(registry), "--as-of", AS_OF, "--format", "json", "--baseline", str(baseline))
    assert new.returncode == 1, new.stderr
    data = json.loads(new.stdout)
    assert [(v["rule"], v["record"]) for v in data["violations"]] == [("ip-lead-represents-partner", "st-lee-itu")]
    assert data["summary"]["error"] == 1 and data["summary"]["records"] == 22
    sarif = check(str(registry), "--as-of", AS_OF, "--format", "sarif", "--baseline", str(baseline))
    assert sarif.returncode == 1
    assert [r["ruleId"] for r in json.loads(sarif.stdout)["runs"][0]["results"]] == ["ip-lead-represents-partner"]

    # fixing an old violation changes nothing for the gate
    (registry / "centres.yaml").unlink()
    assert check(str(registry), "--as-of", AS_OF, "--baseline", str(baseline)).returncode == 1


def test_baseline_matches_by_rule_record_and_message_not_by_place(registry, tmp_path):
    # the baseline of a run from another folder (paths differ) still matches
    baseline = tmp_path / "baseline.json"
    check(REGISTRY, "--as-of", AS_OF, "--format", "json", "-o", str(baseline))
    assert check(str(registry), "--as-of", AS_OF, "--baseline", str(baseline)).returncode == 0
    # a message that changes (here, another date) is a new violation
    conduct = registry / "conduct.yaml"
    conduct.write_text(conduct.read_text(encoding="utf-8").replace("started: 2025-03-01", "started: 2025-03-02"),
                       encoding="utf-8")
    r = check(str(registry), "--as-of", AS_OF, "--format", "json", "--baseline", str(baseline))
    assert r.returncode == 1
    assert [v["record"] for v in json.loads(r.stdout)["violations"]] == ["ew-iso"]


def test_baseline_with_fail_on_never_still_reports(registry, tmp_path):
    baseline = tmp_path / "baseline.json"
    check(str(registry), "--as-of", AS_OF, "--format", "json", "-o", str(baseline))
    add_statement(registry)
    r = check(str(registry), "--as-of", AS_OF, "--baseline", str(baseline), "--fail-on", "never")
    assert r.returncode == 0
    assert "st-lee-itu" in r.stdout and "st-kim " not in r.stdout


@pytest.mark.parametrize("content, why", [
    (None, "does not exist"),
    ("{not json", "is not a JSON report"),
    ("", "is not a JSON report"),
    ("[]", "is not a JSON report"),
    ('{"violations": 3}', "is not a JSON report"),
    ('{"violations": [{"rule": "x"}]}', "is not a JSON report"),
    ('{"as_of": "2025-10-15"}', "is not a JSON report"),
    (b"\xff\xfe not utf-8", "is not a JSON report"),
    ("folder", "cannot read baseline file"),
], ids=["missing", "not-json", "empty", "a-list", "not-a-list", "no-message", "no-violations",
        "not-utf8", "a-folder"])
def test_unusable_baseline_is_a_clean_error(tmp_path, content, why):
    path = tmp_path / "baseline.json"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    r = check(REGISTRY, "--as-of", AS_OF, "--baseline", str(path))
    assert_clean_failure(r)
    assert f"error[baseline]: " in r.stderr and why in r.stderr
    assert r.stderr.rstrip("\n").splitlines()[-1] == "torcheck: 1 problem; nothing was checked"


def test_a_sarif_report_is_not_a_baseline(tmp_path):
    sarif = tmp_path / "old.sarif"
    check(REGISTRY, "--as-of", AS_OF, "--format", "sarif", "-o", str(sarif))
    r = check(REGISTRY, "--as-of", AS_OF, "--baseline", str(sarif))
    assert_clean_failure(r)
    assert "is not a JSON report of torcheck check --format json" in r.stderr


# --- gating: --fail-on ------------------------------------------------------------------


def registry_with(tmp_path, text: str) -> str:
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "registry.yaml").write_text(text, encoding="utf-8")
    return str(folder)


ONLY_A_NOTICE = """
organizations:
  - {id: o-itu, name: ITU, type: un_entity}
  - {id: o-acme, name: Acme, type: private}
partnerships:
  - {id: ps-itu, organization: o-itu, since: 2016-05-01}
publications:
  - {id: pub-1, title: T, status: published, published_on: 2025-07-01, responsible: o-itu, logos: [o-acme]}
approvals:
  - {id: ap-1, kind: written_consent, by: secretariat, date: 2025-06-01, subject: pub-1}
"""
ONLY_A_WARNING = """
people:
  - {id: p-kim, name: Kim}
representations:
  - {id: rep-1, person: p-kim, venue: Expo, date: 2025-05-20}
"""
AN_ERROR = ONLY_A_WARNING + """
external_work:
  - {id: ew-1, by: p-kim, forum: ISO TC 268, started: 2025-06-05}
"""
CLEAN = """
people:
  - {id: p-kim, name: Kim}
"""


@pytest.mark.parametrize("text, statuses", [
    (CLEAN, {"error": 0, "warning": 0, "notice": 0, "never": 0}),
    (ONLY_A_NOTICE, {"error": 0, "warning": 0, "notice": 1, "never": 0}),
    (ONLY_A_WARNING, {"error": 0, "warning": 1, "notice": 1, "never": 0}),
    (AN_ERROR, {"error": 1, "warning": 1, "notice": 1, "never": 0}),
], ids=["clean", "notice", "warning", "error"])
def test_fail_on(tmp_path, text, statuses):
    # in-process (click's runner: the same command, options and exit statuses, without
    # a new interpreter per run); test_fail_on_in_a_process runs it as a user would
    from click.testing import CliRunner

    from checker.cli import main

    reg = registry_with(tmp_path, text)
    reports = set()
    for level, expected in statuses.items():
        r = CliRunner().invoke(main, ["check", reg, "--as-of", AS_OF, "--format", "json", "--fail-on", level])
        assert r.exit_code == expected, (level, r.output)
        reports.add(r.stdout)
    default = CliRunner().invoke(main, ["check", reg, "--as-of", AS_OF, "--format", "json"])
    assert default.exit_code == statuses["error"]  # --fail-on error is the default
    reports.add(default.stdout)
    assert len(reports) == 1  # the report is the same whatever the gate


def test_fail_on_in_a_process(tmp_path):
    reg = registry_with(tmp_path, ONLY_A_NOTICE)
    statuses = {level: check(reg, "--as-of", AS_OF, "--fail-on", level).returncode
                for level in ("error", "warning", "notice", "never")}
    assert statuses == {"error": 0, "warning": 0, "notice": 1, "never": 0}


def test_fail_on_an_unknown_level_is_a_usage_error():
    r = check(REGISTRY, "--as-of", AS_OF, "--fail-on", "fatal")
    assert_clean_failure(r)
    assert "fatal" in r.stderr and "notice" in r.stderr


def test_input_errors_win_over_the_gate(tmp_path):
    reg = registry_with(tmp_path, "people:\n  - {id: p-1, name: A, shoe_size: 9}\n")
    r = check(reg, "--as-of", AS_OF, "--fail-on", "never")
    assert_clean_failure(r)
    assert "error[unknown-field]" in r.stderr


# --- the documented CI recipe (docs/github-workflow.yml), run on a real git repository ----

WORKFLOW = ROOT / "docs" / "github-workflow.yml"


def test_the_workflow_is_a_valid_github_workflow():
    # the JSON schema of GitHub workflows that check-jsonschema ships (no network)
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                        str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    steps = yaml_load(WORKFLOW)["jobs"]["torcheck"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert "github/codeql-action/upload-sarif" in uses
    for step in steps:  # no expression inside a script: values come in through env
        assert "${{" not in step.get("run", ""), step.get("id")


def yaml_load(path: Path):
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def run_workflow(repo: Path, base_sha: str, tmp_path: Path):
    """The workflow's shell steps for a pull request, in order, as GitHub's runner runs them
    (bash -eo pipefail, GITHUB_ENV carried from step to step); installing torcheck is skipped,
    it is on PATH. Returns {step id: (status, stdout+stderr)} and the job summary."""
    wf = yaml_load(WORKFLOW)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(parents=True)
    files = {name: tmp_path / name for name in ("github-env", "github-output", "step-summary")}
    for f in files.values():
        f.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "BASELINE", "AS_OF")}
    env.update({k: str(v) for k, v in wf["env"].items() if k != "TORCHECK"})
    env.update({
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        "RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(files["github-env"]),
        "GITHUB_OUTPUT": str(files["github-output"]), "GITHUB_STEP_SUMMARY": str(files["step-summary"]),
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    })
    expressions = {"${{ github.event.pull_request.base.sha }}": base_sha}
    results = {}
    for step in wf["jobs"]["torcheck"]["steps"]:
        if "run" not in step or step.get("id") == "install":
            continue
        step_env = dict(env)
        for line in files["github-env"].read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            step_env[key] = value
        for key, value in (step.get("env") or {}).items():
            step_env[key] = expressions.get(value, value)
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                           cwd=repo, env=step_env, capture_output=True, text=True, timeout=300)
        results[step["id"]] = (r.returncode, r.stdout + r.stderr)
    results["env"] = dict(line.partition("=")[::2] for line in
                          files["github-env"].read_text(encoding="utf-8").splitlines())
    return results, files["step-summary"].read_text(encoding="utf-8")


def git_repo(path: Path) -> callable:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}

    def git(*args):
        return subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    path.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet")
    return git


def commit_all(git, message):
    git("add", "-A")
    git("commit", "--quiet", "-m", message)
    return git("rev-parse", "HEAD")


def test_the_workflow_fails_a_pull_request_on_a_new_error_only(tmp_path):
    repo = tmp_path / "registry-repo"
    git = git_repo(repo)
    shutil.copytree(ROOT / REGISTRY, repo / "facts")
    base = commit_all(git, "the registry, with its known violations")

    # a pull request that adds an error: the gate fails, on that error alone
    add_statement(repo / "facts")
    commit_all(git, "a statement on behalf of ITU by the Implementation Programme lead p-lee")
    steps, summary = run_workflow(repo, base, tmp_path / "pr1")
    assert steps["as-of"][0] == 0 and steps["baseline"][0] == 0 and steps["sarif"][0] == 0, steps
    status, log = steps["gate"]
    assert status == 1, log
    assert "st-lee-itu" in log and "1 error, 0 warnings, 0 notices" in log
    assert "ps-city" not in log and "ps-city" not in summary  # inherited, not new
    assert "| error | 1 |" in summary and "`st-lee-itu`" in summary
    # one day for every run: today's (what the registry breaks depends on it)
    as_of = steps["env"]["AS_OF"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", as_of)
    baseline = json.loads(Path(steps["env"]["BASELINE"]).read_text(encoding="utf-8"))
    assert baseline["as_of"] == as_of
    known = {(v["rule"], v["record"]) for v in baseline["violations"]}
    assert ("partner-not-un-entity", "ps-city") in known and ("ip-lead-represents-partner", "st-lee-itu") not in known
    # the SARIF for code scanning holds every violation, old and new, on the registry's lines
    sarif = json.loads((repo / "torcheck.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert {(r["ruleId"], r["properties"]["record"]) for r in results} == known | {
        ("ip-lead-represents-partner", "st-lee-itu")}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert all(u.startswith("facts/") and (repo / u).is_file() for u in uris)
    assert (repo / "torcheck.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    # a pull request that fixes a known violation and moves the others around: it passes
    git("checkout", "--quiet", "-b", "pr2", base)
    for leftover in ("torcheck.sarif", "torcheck.html", "torcheck.md"):
        (repo / leftover).unlink(missing_ok=True)
    (repo / "facts" / "centres.yaml").unlink()
    conduct = repo / "facts" / "conduct.yaml"
    conduct.write_text("# reordered, commented\n\n" + conduct.read_text(encoding="utf-8"), encoding="utf-8")
    commit_all(git, "the centre withdrawn; a comment")
    steps, summary = run_workflow(repo, base, tmp_path / "pr2")
    status, log = steps["gate"]
    assert status == 0, log
    assert "No violations in" in log


def test_the_workflow_counts_everything_as_new_when_the_base_has_no_registry(tmp_path):
    repo = tmp_path / "registry-repo"
    git = git_repo(repo)
    (repo / "README.md").write_text("A registry, soon.\n", encoding="utf-8")
    base = commit_all(git, "an empty repository")
    shutil.copytree(ROOT / REGISTRY, repo / "facts")
    commit_all(git, "the registry")
    steps, _ = run_workflow(repo, base, tmp_path / "pr")
    status, log = steps["baseline"]
    assert status == 0 and "::warning::the base registry could not be checked (exit 2)" in log
    status, log = steps["gate"]
    assert status == 1
    assert "error    ps-city  facts/partnerships.yaml:5" in log and "warning  st-kim  facts/conduct.yaml:3" in log
