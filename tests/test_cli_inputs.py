"""Issue 12, section 2: the command line takes only what cli.md fixes.

`--as-of` is YYYY-MM-DD and a real date (Python's `date.fromisoformat` alone
also accepts 20261128 and 2026-W48-6), and an empty registry path is an input
error rather than the current folder. Each through the installed command.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "facts" / "u4ssc")
COMMANDS = {
    "check": [],
    "what-if": ["--remove", "ps-valmora"],
    "upcoming": [],
    "query": ["organization(O)"],
    "explain": ["ps-valmora"],
}


def run(*args):
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("as_of, says", [
    ("20261128", "is not a date in the form YYYY-MM-DD"),
    ("2026-W48-6", "is not a date in the form YYYY-MM-DD"),
    ("2026-11-28T00:00", "is not a date in the form YYYY-MM-DD"),
    ("2026-02-30", "is not a real date"),
])
def test_as_of_only_yyyy_mm_dd(command, as_of, says):
    args = [command, EXAMPLE, *COMMANDS[command]]
    r = run(*args, "--as-of", as_of)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert says in r.stderr
    assert "Traceback" not in r.stderr


def test_a_real_date_is_accepted():
    r = run("check", EXAMPLE, "--as-of", "2024-02-29", "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    assert '"as_of": "2024-02-29"' in r.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_empty_registry_path_is_an_input_error(command):
    r = run(command, "", *COMMANDS[command], "--as-of", "2026-11-28")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "the registry path is empty" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("to_stdout", [False, True])
def test_a_failed_write_is_an_output_error(to_stdout):
    args = [sys.executable, "-m", "checker.cli", "check", EXAMPLE, "--as-of", "2026-11-28"]
    if to_stdout:
        with open("/dev/full", "w") as full:
            r = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120)
    else:
        r = subprocess.run(args + ["-o", "/dev/full"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "error[output]: cannot write" in r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr


def test_o_honours_the_umask_and_keeps_an_existing_mode(tmp_path):
    out = tmp_path / "report.txt"
    for umask, expected in ((0o022, 0o644), (0o077, 0o600)):
        out.unlink(missing_ok=True)
        r = subprocess.run([sys.executable, "-m", "checker.cli", "check", EXAMPLE, "--as-of", "2026-11-28",
                            "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                           preexec_fn=lambda m=umask: os.umask(m))
        assert r.returncode == 1, r.stderr
        assert out.stat().st_mode & 0o777 == expected
    out.chmod(0o640)
    r = run("check", EXAMPLE, "--as-of", "2026-11-28", "-o", str(out))
    assert r.returncode == 1, r.stderr
    assert out.stat().st_mode & 0o777 == 0o640
    assert "ps-valmora" in out.read_text(encoding="utf-8")  # the report itself, not an empty file


def test_o_onto_an_input_writes_nothing(tmp_path):
    import shutil

    reg = tmp_path / "R"
    shutil.copytree(EXAMPLE, reg)
    people = reg / "people.yaml"
    before = people.read_bytes()
    baseline = tmp_path / "b.json"
    assert run("check", str(reg), "--as-of", "2026-11-28", "--format", "json", "-o", str(baseline)).returncode == 1
    known = baseline.read_bytes()
    rule_file = tmp_path / "rb"
    shutil.copytree(ROOT / "rules" / "u4ssc", rule_file)
    for args, target in (
        (["check", str(reg), "-o", str(people)], people),
        (["check", str(reg), "-o", str(reg / "new.yaml")], reg / "new.yaml"),
        (["check", str(reg), "-o", str(reg / "sub" / ".." / "people.yaml")], people),
        (["check", str(reg), "--baseline", str(baseline), "-o", str(baseline)], baseline),
        (["check", str(reg), "--rules", str(rule_file), "-o", str(rule_file / "50-conduct.rules")],
         rule_file / "50-conduct.rules"),
        (["upcoming", str(reg), "-o", str(reg / "people.yaml")], people),
    ):
        r = run(*args, "--as-of", "2026-11-28")
        assert r.returncode == 2, (args, r.stderr)
        assert "error[output]" in r.stderr and "nothing was written" in r.stderr
    assert people.read_bytes() == before
    assert baseline.read_bytes() == known
    assert not (reg / "new.yaml").exists()
    assert (rule_file / "50-conduct.rules").read_bytes() == (ROOT / "rules" / "u4ssc" / "50-conduct.rules").read_bytes()


def test_an_interrupt_is_exit_130_in_one_line(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import checker.cli.check as check_command
    from checker.cli import main

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(check_command, "read_baseline", interrupted)
    out = tmp_path / "report.txt"
    r = CliRunner().invoke(main, ["check", EXAMPLE, "--baseline", str(tmp_path / "b.json"), "-o", str(out)])
    assert r.exit_code == 130, r.output
    assert r.stderr == "torcheck: interrupted; nothing was written\n"
    assert "Aborted" not in r.output and "Traceback" not in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
