"""The benchmark: torcheck check and what-if as whole processes, against their floors.

    python bench/run.py                      # 1,000, 10,000 and 100,000 records, 3 runs each
    python bench/run.py --sizes 1000,10000 --runs 5 --engines sqlite,pydatalog --pydatalog-max 1000
    python bench/run.py --crossover          # both engines on small registries: where auto switches
    python bench/run.py --calendar --compare main   # the calendar cases, this tree beside another revision

Registries come from bench/generate.py (deterministic: the same records every
time). Every figure is the median of --runs runs of a fresh process, in
seconds of wall-clock time (processor time, user + system, in brackets):

  start    the floor of any check: the interpreter starting and importing
           what a check imports (click, yaml, lark, pyDatalog, sqlite3, checker)
  yaml     the floor of reading: a process that yaml.load()s every file of the
           registry with libyaml's CSafeLoader, and does nothing else
  cold     torcheck check --format json, with an empty cache folder
  warm     the same, the cache filled by an earlier run (the registry unchanged: the
           check's kept result, checker.memo, is read back)
  1 edited the same, one file edited before each run (a comment appended): that file
           is read again, the others come from the registry cache, the rules are evaluated
  what-if  torcheck what-if --add one new appointment, right after the checks (the registry's
           side from the check's kept result; with SQLite, the proposed registry evaluated
           from the database the check kept, changed by the proposal)
  peak     the largest resident memory of a cold check, in MB

Ratios: cold, warm and 1 edited to yaml; what-if to warm and to 1 edited. pyDatalog is run only up to
--pydatalog-max records (at 10,000 records it takes about 20 minutes a run and
4.5 GB here). This is not a test: nothing is asserted, figures are printed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import AS_OF, generate  # noqa: E402

IMPORTS = ("import click, yaml, lark, sqlite3, pyDatalog.pyEngine; import checker.cli, checker.compile, "
           "checker.registry, checker.evaluate, checker.cache, checker.render, checker.engines.sqlite, "
           "checker.engines.pydatalog")
YAML_FLOOR = ("import sys, pathlib, yaml\n"
              "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):\n"
              "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n")
PROPOSAL = """appointments:
  - id: a-proposed
    person: {person}
    role: lead
    start: 2026-12-01
    end: 2028-12-01
    appointed_by: chair
    consulted: [secretariat]
    group: proposed group
"""


def run(cmd, env=None, cwd=ROOT):
    """(wall seconds, processor seconds, peak resident MB, exit status) of one process.

    Its standard output (the report) goes to the null device; never `-o /dev/null`, which a check
    without write_output's device test would replace with a regular file.
    """
    e = dict(os.environ)
    e.update(env or {})
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def median(cmd, runs, env=None, before=None, cwd=ROOT):
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        if before:
            before()
        w, c, m, _ = run(cmd, env, cwd)
        walls.append(w)
        cpus.append(c)
        peaks.append(m)
    return statistics.median(walls), statistics.median(cpus), max(peaks)


def torcheck(*args):
    return [sys.executable, "-m", "checker.cli", *args]


def fmt(fig, floor=None):
    if fig is None:
        return "-"
    wall, cpu = fig[0], fig[1]
    s = f"{wall:.2f} ({cpu:.2f})"
    if floor:
        s += f" {wall / floor[0]:.2f}x"
    return s


def measure(size, folder: Path, engines, runs, pydatalog_max, work: Path):
    reg = folder
    person = next(line.split(":")[1].strip() for line in (reg / "people" / "part-001.yaml").read_text().splitlines()
                  if line.strip().startswith("- id:"))
    proposal = work / f"proposal-{size}.yaml"
    proposal.write_text(PROPOSAL.format(person=person), encoding="utf-8")
    start = median([sys.executable, "-c", IMPORTS], runs)
    yaml_floor = median([sys.executable, "-c", YAML_FLOOR, str(reg)], runs)
    rows = []
    for engine in engines:
        if engine == "pydatalog" and size > pydatalog_max:
            continue
        cache = work / f"cache-{size}-{engine}"
        clear = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
        env = {"TORCHECK_CACHE_DIR": str(cache)}
        check = torcheck("check", str(reg), "--as-of", AS_OF, "--format", "json", "--engine", engine)
        cold = median(check, runs, env, before=clear)
        run(check, env)  # fill the cache
        warm = median(check, runs, env)
        # what-if right after the check of the registry (its kept result and, with SQLite, its database)
        whatif = median(torcheck("what-if", str(reg), "--add", str(proposal), "--as-of", AS_OF, "--format", "json",
                                 "--engine", engine), runs, env)
        # one file edited before each run (a comment appended: new bytes, the same records): the kept result
        # does not apply, that file is read again, the others come from the registry cache
        edited_file = sorted(reg.rglob("*.yaml"))[0]
        original = edited_file.read_bytes()
        count = [0]

        def edit():
            count[0] += 1
            edited_file.write_bytes(original + f"# edit {count[0]}\n".encode())

        try:
            edited = median(check, runs, env, before=edit)
        finally:
            edited_file.write_bytes(original)
        rows.append((size, engine, start, yaml_floor, cold, warm, edited, whatif))
        print_row(rows[-1])
    return rows


HEADER = (f"{'records':>8} {'engine':<9} {'start':>13} {'yaml':>13} {'cold / yaml':>20} {'warm / yaml':>20} "
          f"{'1 edited / yaml':>20} {'what-if / warm':>20} {'what-if / edited':>17} {'peak MB':>8}")


def print_row(r):
    size, engine, start, yaml_floor, cold, warm, edited, whatif = r
    print(f"{size:>8} {engine:<9} {fmt(start):>13} {fmt(yaml_floor):>13} {fmt(cold, yaml_floor):>20} "
          f"{fmt(warm, yaml_floor):>20} {fmt(edited, yaml_floor):>20} {fmt(whatif, warm):>20} "
          f"{whatif[0] / edited[0]:>16.2f}x {cold[2]:>8.0f}", flush=True)


def example(runs, work: Path):
    """The example registry: the whole check, each engine (target: 0.5 s).

    cold: every cache empty (the rulebook compiled, every file read); warm: the kept result read back;
    evaluated: the rulebook and the registry from their caches, no kept result (the rules evaluated).
    """
    print(f"facts/u4ssc ({runs} runs): torcheck check, whole process, seconds wall (processor)")
    for engine in ("pydatalog", "sqlite", "auto"):
        cache = work / f"cache-example-{engine}"
        env = {"TORCHECK_CACHE_DIR": str(cache)}
        cmd = torcheck("check", "facts/u4ssc", "--as-of", AS_OF, "--format", "json", "--engine", engine)
        cold = median(cmd, runs, env, before=lambda: shutil.rmtree(cache, ignore_errors=True))
        run(cmd, env)
        warm = median(cmd, runs, env)
        # the rulebook compiled and the registry read before, but no kept result: the rules evaluated
        fresh = median(cmd, runs, env, before=lambda: shutil.rmtree(cache / "results", ignore_errors=True))
        print(f"  {engine:<9} cold {fmt(cold)}  warm {fmt(warm)}  evaluated {fmt(fresh)}  peak {cold[2]:.0f} MB",
              flush=True)


def crossover(runs, work: Path):
    """Both engines on small registries, warm cache: the smallest size where SQLite is faster."""
    print(f"\ncrossover ({runs} runs): torcheck check, warm cache, wall (processor)")
    print(f"{'records':>8} {'pydatalog':>14} {'sqlite':>14}")
    sizes = [("facts/u4ssc", ROOT / "facts" / "u4ssc")]
    for n in (300, 1000):
        folder = work / f"reg-{n}"
        if not folder.exists():
            generate(folder, n)
        sizes.append((str(n), folder))
    for label, folder in sizes:
        figs = []
        for engine in ("pydatalog", "sqlite"):
            env = {"TORCHECK_CACHE_DIR": str(work / f"cache-x-{label.replace('/', '_')}-{engine}")}
            cmd = torcheck("check", str(folder), "--as-of", AS_OF, "--format", "json", "--engine", engine)
            run(cmd, env)
            figs.append(median(cmd, runs, env))
        print(f"{label:>8} {fmt(figs[0]):>14} {fmt(figs[1]):>14}", flush=True)


# ---------------------------------------------------------------- the calendar's span (issue 12, section 3)
#
# The calendar relations (quarter, calendar_year) once held every year between the registry's earliest and
# latest date; checker/calendar.py now holds the years a rule can ask about. Each case is a registry that a
# wide calendar made slow: torcheck check --no-cache (the rules evaluated, nothing kept) as a whole process.

FAR_DATES = """meetings:
  - id: m-far-past
    kind: annual
    date: 0001-01-01
    participants: [partners]
events:
  - id: ev-far-future
    title: A far future event
    date: 9998-12-31
    organizer: itu
"""


def _far_dates(folder: Path):
    """The example and two records dated 0001-01-01 and 9998-12-31 (a meeting, an event)."""
    shutil.copytree(ROOT / "facts" / "u4ssc", folder)
    (folder / "zz-far.yaml").write_text(FAR_DATES, encoding="utf-8")


def _example(folder: Path):
    shutil.copytree(ROOT / "facts" / "u4ssc", folder)


def _overlapping(folder: Path, n=300):
    """The example and one person with n overlapping lead appointments (one every 3 days, two-year terms)."""
    import datetime as dt

    shutil.copytree(ROOT / "facts" / "u4ssc", folder)
    lines = ["appointments:"]
    for i in range(n):
        start = dt.date(2020, 1, 1) + dt.timedelta(days=3 * i)
        lines += [f"  - id: a-overlap-{i:03d}", "    person: p-adeyemi", "    role: lead", f"    start: {start}",
                  f"    end: {start + dt.timedelta(days=730)}", "    appointed_by: annual_meeting"]
    (folder / "zz-overlapping.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


CALENDAR_CASES = {  # name: (make the registry, as-of date)
    "far dates": (_far_dates, AS_OF),
    "as-of 9999-12-31": (_example, "9999-12-31"),
    "300 overlapping appointments": (_overlapping, AS_OF),
}


def _tree(rev: str, work: Path) -> Path:
    """A checkout of `rev` (a git revision) to measure beside this tree: its code, run from its folder."""
    where = work / ("tree-" + "".join(c if c.isalnum() else "_" for c in rev))
    if not where.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(where), rev], cwd=ROOT, check=True,
                       capture_output=True)
    return where


def calendar_cases(runs, work: Path, engines, compare=None):
    """Each case of CALENDAR_CASES, each engine, this tree (and `compare`, a revision, beside it)."""
    trees = [("this tree", ROOT)]
    if compare:
        trees.append((compare, _tree(compare, work)))
    print(f"calendar cases ({runs} runs): torcheck check --no-cache, whole process, "
          "median seconds wall (processor), peak MB")
    print(f"{'case':<30} {'engine':<9} " + " ".join(f"{label:>26}" for label, _ in trees))
    try:
        for name, (make, as_of) in CALENDAR_CASES.items():
            folder = work / ("cal-" + "".join(c if c.isalnum() else "-" for c in name))
            if not folder.exists():
                make(folder)
            for engine in engines:
                figs = []
                for _, tree in trees:
                    cmd = torcheck("check", str(folder), "--as-of", as_of, "--format", "json", "--no-cache",
                                   "--engine", engine)
                    fig = median(cmd, runs, cwd=tree)
                    figs.append(f"{fmt(fig)} {fig[2]:>5.0f} MB")
                print(f"{name:<30} {engine:<9} " + " ".join(f"{f:>26}" for f in figs), flush=True)
    finally:
        for label, tree in trees[1:]:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="sqlite,pydatalog")
    ap.add_argument("--pydatalog-max", type=int, default=1000,
                    help="largest registry pyDatalog is run on (10,000 records: about 20 minutes a run)")
    ap.add_argument("--work", help="folder for the registries and caches (default: a temporary folder)")
    ap.add_argument("--crossover", action="store_true", help="only compare the engines on small registries")
    ap.add_argument("--calendar", action="store_true",
                    help="only the calendar cases: far dates, --as-of 9999-12-31, 300 overlapping appointments")
    ap.add_argument("--compare", metavar="REV", help="with --calendar: measure git revision REV beside this tree")
    args = ap.parse_args(argv)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="torcheck-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.crossover:
            crossover(args.runs, work)
            return
        if args.calendar:
            engines = args.engines.split(",") if args.engines != ap.get_default("engines") else ["auto", "sqlite"]
            calendar_cases(args.runs, work, engines, args.compare)
            return
        example(args.runs, work)
        print(f"\nmedian of {args.runs} runs; seconds wall (processor); ratios of wall times")
        print(HEADER)
        for size in (int(s) for s in args.sizes.split(",")):
            folder = work / f"reg-{size}"
            if not folder.exists():
                generate(folder, size)
            measure(size, folder, args.engines.split(","), args.runs, args.pydatalog_max, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
