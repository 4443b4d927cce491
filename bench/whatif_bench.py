"""What-if on a large registry: a full check, what-if by two full evaluations, what-if incremental.

    python bench/whatif_bench.py [--records 10000] [--runs 3] [--engine pydatalog|sqlite|both]

The registry is made by bench/generate.py's `generate(folder, n_records, seed=0)`
when that module is present, else by `clone_example` below: the example
registry (facts/u4ssc) copied under suffixed ids until it holds at least
--records records, references following their copies (bodies and logos stay).

The proposal is the same for every run: a few records removed (ones no
remaining record refers to), a few replaced with a date moved by a year, and a
few copied under new ids. Each figure is the median of --runs runs, in CPU
seconds of the process (a shared machine's load does not count), reading the
YAML included:

  check       load the registry, evaluate, list the violations
  2 checks    what a user would do without what-if: check the registry, then a
              copy with the proposal applied (two reads, two evaluations)
  wi full     torcheck what-if with full evaluation: one read of the registry and
              the proposal, the registry and the proposed registry each evaluated
  wi incr.    torcheck what-if as it runs: one read, one evaluation, then the
              proposal retracted and asserted on the same engine and only what it
              can reach asked again

Every run also checks that the incremental and full what-if give the same answer.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.compile import compile_rulebook  # noqa: E402
from checker.evaluate import evaluate  # noqa: E402
from checker.registry import load_registry  # noqa: E402
from checker.whatif import what_if  # noqa: E402

try:  # the shared generator, when another bench provides it
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate as shared_generate  # type: ignore  # noqa: E402
except ImportError:
    shared_generate = None

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def clone_example(folder: Path, n_records: int, vocab) -> int:
    """Copies of facts/u4ssc under suffixed ids, one file per kind and copy; returns the number of records."""
    example = load_registry(str(ROOT / "facts" / "u4ssc"), vocab)
    copies = -(-n_records // len(example.records))
    ids = set(example.records)
    total = 0
    for c in range(copies):
        suffix = f".c{c:03d}"
        per_kind: dict[str, list] = {}
        for rec in example.records.values():
            kind = vocab.kinds[rec.kind]
            out = {}
            for fname, v in rec.values.items():
                f = kind.fields[fname]
                if fname == "id":
                    v = v + suffix
                elif f.type == "ref":
                    v = tuple(x + suffix if x in ids else x for x in v) if isinstance(v, tuple) else \
                        (v + suffix if v in ids else v)
                out[fname] = _plain(v)
            per_kind.setdefault(rec.kind, []).append(out)
            total += 1
        for kind, recs in per_kind.items():
            (folder / f"{kind}{suffix}.yaml").write_text(
                yaml.dump({kind: recs}, Dumper=_DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return total


PROPOSALS = {
    # every kind of record may be touched: most rules have to be asked again
    "broad": None,
    # a secretariat's everyday proposal: publications and external work only
    "narrow": ("publications", "external_work"),
}


def make_proposal(registry, vocab, folder: Path, k: int = 10, kinds=None):
    """(proposal file, ids to remove): k removals, k replacements with a date a year later, k new copies."""
    referred = set()
    for rec in registry.records.values():
        kind = vocab.kinds[rec.kind]
        for fname, v in rec.values.items():
            if kind.fields[fname].type == "ref":
                referred.update(v if isinstance(v, tuple) else (v,))
    free = [i for i in sorted(registry.records)
            if i not in referred and (kinds is None or registry.records[i].kind in kinds)]
    step = max(1, len(free) // (3 * k))
    chosen = free[::step][: 3 * k]
    n = len(chosen) // 3
    removed, replaced, copied = chosen[:n], chosen[n:2 * n], chosen[2 * n:3 * n]
    files: dict[str, list] = {}
    for rid in replaced + copied:
        rec = registry.records[rid]
        kind = vocab.kinds[rec.kind]
        values = {f: _plain(v) for f, v in rec.values.items()}
        for f in values:
            if kind.fields[f].type == "date":
                y = int(values[f][:4]) + 1
                values[f] = f"{y:04d}{values[f][4:]}".replace("-02-29", "-02-28")
                break
        if rid in copied:
            values["id"] = rid + ".new"
        files.setdefault(rec.kind, []).append(values)
    p = folder / "proposal.yaml"
    p.write_text(yaml.dump(files, Dumper=_DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(p), removed + replaced


def median_time(fn, runs: int):
    """Median CPU seconds of this process (steadier than wall time on a shared machine)."""
    times, result = [], None
    for _ in range(runs):
        t = time.process_time()
        result = fn()
        times.append(time.process_time() - t)
    return statistics.median(times), result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engine", choices=("pydatalog", "sqlite", "both"), default="both")
    ap.add_argument("--as-of", default="2026-11-28")
    ap.add_argument("--proposal", choices=sorted(PROPOSALS), default="broad")
    args = ap.parse_args(argv)
    rb = compile_rulebook(str(ROOT / "rules" / "u4ssc"), "rules/u4ssc")
    vocab = rb.vocabulary
    with tempfile.TemporaryDirectory() as tmp:
        reg_dir, prop_dir = Path(tmp) / "registry", Path(tmp) / "proposal"
        reg_dir.mkdir()
        prop_dir.mkdir()
        if shared_generate is not None:
            shared_generate(str(reg_dir), args.records, seed=0)
            source = "bench/generate.py"
        else:
            clone_example(reg_dir, args.records, vocab)
            source = "copies of facts/u4ssc"
        t = time.process_time()
        base = load_registry(str(reg_dir), vocab)
        load_s = time.process_time() - t
        add, remove = make_proposal(base, vocab, prop_dir, kinds=PROPOSALS[args.proposal])
        proposed = load_registry(str(reg_dir), vocab, add_files=[add], remove_ids=remove)
        w = what_if(rb, proposed.base, proposed, args.as_of, engine="sqlite")
        print(f"registry: {len(base.records)} records ({source}); {args.proposal} proposal: adds {len(w.added)}, "
              f"replaces {len(w.replaced)}, removes {len(w.removed)} records; reading the YAML once: {load_s:.2f} s; "
              f"median of {args.runs} runs")
        engines = ("pydatalog", "sqlite") if args.engine == "both" else (args.engine,)
        print(f"{'engine':<10} {'check':>8} {'2 checks':>9} {'wi full':>8} {'wi incr.':>9}  "
              f"introduced/resolved/unchanged")
        for eng in engines:
            def check(add_files=(), remove_ids=()):
                reg = load_registry(str(reg_dir), vocab, add_files=add_files, remove_ids=remove_ids)
                return evaluate(rb, reg, args.as_of, eng).violations()

            def whatif(full):
                def run():
                    prop = load_registry(str(reg_dir), vocab, add_files=[add], remove_ids=remove)
                    return what_if(rb, prop.base, prop, args.as_of, engine=eng, full=full)
                return run

            t_check, vs = median_time(check, args.runs)
            t_two, _ = median_time(lambda: (check(), check([add], remove)), args.runs)
            t_full, w_full = median_time(whatif(True), args.runs)
            t_incr, w_incr = median_time(whatif(False), args.runs)
            assert w_full == w_incr, "incremental and full what-if differ"
            print(f"{eng:<10} {t_check:8.2f} {t_two:9.2f} {t_full:8.2f} {t_incr:9.2f}  "
                  f"{len(w_incr.introduced)}/{len(w_incr.resolved)}/{w_incr.unchanged} (check: {len(vs)} violations)",
                  flush=True)

if __name__ == "__main__":
    main()
