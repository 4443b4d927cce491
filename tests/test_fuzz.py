"""Fuzzing the parser, the compiler and the registry loader with Hypothesis (issue 7).

The property everywhere: a result or a clean diagnostic (InputError whose
diagnostics render, each at a place in the input), never another exception,
never a hang. Inputs:

- rule files generated from the grammar itself (`hypothesis.extra.lark.from_lark`
  on grammar/rules.lark);
- rules and helpers made of plausible conditions over the U4SSC vocabulary
  (joined with `,`, `or`, `not`, helpers calling helpers), a good share of
  which compiles;
- the U4SSC rule files with characters or tokens deleted, inserted or replaced;
- registries generated from the vocabulary, and the example registry mutated.

Programs that compile must be what the engine needs (range-restricted,
stratified: pyDatalog checks neither and hangs or lies without them), and a
sample of them is evaluated on the example registry in a subprocess with a
timeout, as pyDatalog cannot be interrupted in-process, on pyDatalog and on
SQLite, which must agree.

Bounded in CI (about 200 examples, derandomized); TORCHECK_FUZZ=long runs
many more, randomly, with Hypothesis' example database.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark, get_terminal_names
from lark.lexer import PatternStr

import checker.compile as C
from checker import ir
from checker.model import Diagnostic, InputError
from checker.parse import parse_text, parser
from checker.registry import Registry, load_registry

from .conftest import FACTS, ROOT, RULES

LONG = os.environ.get("TORCHECK_FUZZ") == "long"
SCALE = 50 if LONG else 1


def fuzz(n: int):
    """Settings for a property: n examples in CI, 50 n under TORCHECK_FUZZ=long."""
    return settings(max_examples=n * SCALE, deadline=None, derandomize=not LONG, database=None if not LONG else
                    settings.default.database, suppress_health_check=list(HealthCheck), print_blob=True)


@contextmanager
def time_limit(seconds: int, what: str):
    """Python code (parser, compiler, loader) is interruptible: a hang fails the example instead of the run."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"{what} took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def assert_renders(diags, texts: dict):
    """Every diagnostic renders; one with a location points into its file."""
    assert diags
    for d in diags:
        assert isinstance(d, Diagnostic) and d.code and d.message
        out = d.render()
        assert "Traceback" not in out
        loc = d.location
        if loc is not None and loc.path in texts:
            n = len(texts[loc.path].splitlines()) or 1
            assert 1 <= loc.line <= n + 1, (d.render(), n)
            assert loc.column is None or loc.column >= 1


# ---------------------------------------------------------------- rulebooks in a temporary folder

_parse_cached = functools.lru_cache(maxsize=256)(parse_text)
SMALL_TOR = {"clauses": [{"id": "29", "text": "Партнеры размещают логотипы."},
                         {"id": "36", "text": "Логотип U4SSC используется только с одобрения секретариата."}]}


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="torcheck-fuzz-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def small_rulebook(workdir):
    """The U4SSC vocabulary and helpers with a two-clause ToR: quick to compile, rich enough to bind."""
    rb = workdir / "small"
    rb.mkdir()
    for name in ("vocabulary.rules", "00-helpers.rules"):
        shutil.copy(RULES / name, rb / name)
    (rb / "tor.yaml").write_text(yaml.safe_dump(SMALL_TOR, allow_unicode=True), encoding="utf-8")
    return rb


@pytest.fixture(scope="module")
def full_rulebook(workdir):
    rb = workdir / "u4ssc"
    shutil.copytree(RULES, rb, ignore=shutil.ignore_patterns("tests"))
    return rb


def compile_with(folder: Path, name: str, text: str):
    """Compile `folder` with `name` holding `text`: (rulebook or None, diagnostics)."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    old = C.parse_text
    C.parse_text = _parse_cached  # the files that did not change are parsed once
    try:
        with time_limit(30, "compiling"):
            return C.compile_rulebook(str(folder), folder.name), []
    except InputError as e:
        texts = {f"{folder.name}/{name}": text}
        assert_renders(e.diagnostics, texts)
        return None, e.diagnostics
    finally:
        C.parse_text = old


# ---------------------------------------------------------------- what a compiled program must be


def assert_engine_ready(program: ir.Program):
    """Range-restricted bodies in an order pyDatalog can run, and stratified negation."""
    def body_ok(body, bound, where):
        bound = set(bound)
        for lit in body:
            if isinstance(lit, ir.Pos):
                assert lit.rel in program.relations, (where, lit.rel)
                assert len(lit.args) == program.relations[lit.rel], (where, lit)
                bound |= ir.literal_vars(lit)
            elif isinstance(lit, ir.Let):
                assert ir.term_vars(lit.expr) <= bound, (where, "unbound input of", lit)
                bound.add(lit.var.name)
            elif isinstance(lit, ir.Cmp):
                assert ir.literal_vars(lit) <= bound, (where, "comparison before its variables are bound", lit)
            elif isinstance(lit, ir.Neg):
                body_ok(lit.body, bound, where)  # binds nothing outside
            else:  # pragma: no cover
                raise AssertionError((where, lit))
        return bound

    heads = {}
    for rule in program.rules:
        bound = body_ok(rule.body, set(), rule.head)
        for a in rule.args:
            assert ir.term_vars(a) <= bound, (rule.head, "head variable not bound", a)
        heads.setdefault(rule.head, []).append(rule)
    # stratification: no cycle of derived relations through a negation
    graph = {h: {(r, neg) for rule in rs for r, neg in ir.relations_used(rule.body) if r in heads}
             for h, rs in heads.items()}

    def reach(src):
        seen, todo = set(), [src]
        while todo:
            for r, _ in graph.get(todo.pop(), ()):
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        return seen

    closure = {h: reach(h) for h in heads}
    for h, edges in graph.items():
        for r, neg in edges:
            assert not (neg and h in closure.get(r, ())), f"negation through recursion: {h} -> not {r} -> ... -> {h}"


# ---------------------------------------------------------------- strings from the grammar

SEP = st.sampled_from([" ", " ", "\n  ", "\n"])
VOCAB_WORDS = {
    "NAME": ["publication", "appointment", "organization", "partnership", "approval", "event", "person",
             "is_partner", "holds", "in_steering_group", "pub_date", "effective_end", "the_partners",
             "quarter", "calendar_year", "status", "published", "draft", "logos", "u4ssc", "secretariat",
             "chair", "lead", "role", "start", "end", "kind", "logo_use", "subject", "by", "date", "organization",
             "since", "until", "type", "un_entity", "as_of", "max", "min", "year_of", "published_on", "title"],
    "VAR": ["X", "Y", "D", "P", "A", "_", "Sev", "E"],
    "RULE_ID": ["r-one", "r-two", "u4ssc-logo-without-approval"],
    "STRING": ['"36"', '"29"', '"{X} is {Y}"', '"Логотип U4SSC"', '"s"', '"\\"q\\" \\\\ {D}"'],
    "INT": ["0", "1", "30", "2026"],
    "DATE": ["2026-01-01", "2025-12-31", "2026-02-30"],
    "UNIT": ["day", "days", "months", "year"],
    "MONTHDAY": ["--03-31", "--02-30"],
}


def _terminal_strategies(start: str):
    terms, rules, ignore = parser().grammar.compile([start], ())
    names = get_terminal_names(terms, rules, ignore)
    out = {}
    for t in parser().terminals:
        if t.name not in names:
            continue
        if isinstance(t.pattern, PatternStr):
            s = st.just(t.pattern.value)
        elif t.name in VOCAB_WORDS:
            s = st.sampled_from(VOCAB_WORDS[t.name])
            if t.name in ("NAME", "STRING", "INT"):  # mostly words the vocabulary knows, sometimes anything
                s = s | st.from_regex(t.pattern.to_regexp(), fullmatch=True)
        else:
            s = st.from_regex(t.pattern.to_regexp(), fullmatch=True)
        out[t.name] = st.tuples(s, SEP).map("".join)
    if "WS" in names:
        out["WS"] = st.just(" ")
    if "COMMENT" in names:
        out["COMMENT"] = st.just("# a comment\n")
    return out


def grammar_strings(start="start"):
    return from_lark(parser(), start=start, explicit=_terminal_strategies(start))


@fuzz(30)
@given(text=grammar_strings())
def test_generated_rule_files_parse_and_compile_cleanly(small_rulebook, text):
    with time_limit(20, "parsing"):
        tree, diags = parse_text(text, "gen.rules")
    assert (tree is None) == bool(diags)
    if diags:
        event("syntax error")
        assert_renders(diags, {"gen.rules": text})
        return
    rb, diags = compile_with(small_rulebook, "gen.rules", text)
    event("compiled" if rb is not None else "diagnostics: " + ",".join(sorted({d.code for d in diags})[:2]))
    if rb is not None:
        assert_engine_ready(rb.program)


# ---------------------------------------------------------------- rules made of plausible conditions
# Conditions drawn from the grammar rarely mean anything (an unknown name, a field of an untyped
# variable), so most stop at a diagnostic. These are made of literals over the U4SSC vocabulary, combined
# at random with `,`, `or`, `not` and helpers that call each other: a good share compiles, reaching
# the lowering, ordering, negation and recursion checks, and the engine.

def _lits(*rows):
    return [(text, frozenset(needs.split()), frozenset(binds.split())) for text, needs, binds in rows]


# (literal, the variables it needs bound, the variables it binds)
RULE_LITS = _lits(
    ("X.status = published", "X", ""), ("X.status = draft", "X", ""), ("X.published_on = D", "X", "D"),
    ("D <= as_of", "D", ""), ("D > 2026-01-01", "D", ""), ("as_of > D + 30 days", "D", ""),
    ("u4ssc in X.logos", "X", ""), ("L in X.logos, organization(L)", "X", "L"), ("L.type = un_entity", "L", ""),
    ("is_partner(L, D)", "L D", ""), ("X.responsible = R, person(R)", "X", "R"), ("holds(R, chair, D)", "R D", ""),
    ("in_steering_group(R, D)", "R D", ""), ("approval(Ap), Ap.subject = X", "X", "Ap"),
    ("Ap.kind = logo_use", "Ap", ""), ("Ap.date <= D", "Ap D", ""), ("Ap.by = secretariat", "Ap", ""),
    ("quarter(Q, F, E)", "", "Q F E"), ("F <= D", "F D", ""), ("D < E", "D E", ""), ("year_of(D) = 2026", "D", ""),
    ("Y in X.reproduces", "X", "Y"), ("Y.status = draft", "Y", ""), ("pub_date(X, D, S)", "X", "D S"),
    ("S = published", "S", ""), ("X.published_on is absent", "X", ""), ("X.copyright is present", "X", ""),
    ("helper_a(X, Y)", "X", "Y"), ("helper_b(Y, X)", "X", "Y"), ("helper_c(X, X)", "X", ""),
    ("E = max(D, as_of)", "D", "E"), ("appointment(A), A.person = R", "", "A R"), ("effective_end(A, E)", "A", "E"),
    ("Y = X", "X", "Y"), ("D = as_of", "", "D"), ('X.title = "T"', "X", ""), ("D = E - 1 month", "E", "D"),
)
HELPER_LITS = _lits(
    ("publication(X)", "", "X"), ("publication(Y)", "", "Y"), ("publication(X), Y in X.reproduces", "", "X Y"),
    ("approval(Y), Y.subject = X", "", "X Y"), ("helper_a(X, Z)", "", "X Z"), ("helper_a(Z, Y)", "", "Z Y"),
    ("helper_b(X, Y)", "", "X Y"), ("helper_c(Y, X)", "", "X Y"), ("helper_c(X, Z)", "", "X Z"), ("X = Y", "X", "Y"),
    ("publication(X), X.status = draft", "", "X"), ("publication(X), X.published_on = D", "", "X D"),
    ("Y = as_of", "", "Y"), ("partnership(P), P.organization = X, P.since = Y", "", "P X Y"), ("X != Y", "X Y", ""),
)


@st.composite
def conditions(draw, pool, bound=frozenset(), depth=0, need=()):
    """A conjunction that mostly binds what it uses (one literal in ten is drawn regardless), maybe with `or`."""
    bound, parts = set(bound), []
    for _ in range(draw(st.integers(1, 5))):
        ready = [lit for lit in pool if lit[1] <= bound]
        text, _, binds = draw(st.sampled_from(ready if ready and draw(st.integers(0, 9)) else pool))
        shape = draw(st.integers(0, 11))
        if shape == 0 and depth < 2:
            parts.append("not (" + draw(conditions(pool, bound, depth + 1)) + ") \"no {X} found\"")
        elif shape == 1:
            parts.append("not " + text if "," not in text else "not (" + text + ")")
        elif shape == 2 and depth < 2:
            parts.append("(" + text + " or " + draw(conditions(pool, bound, depth + 1)) + ")")
            bound |= binds
        else:
            parts.append(text)
            bound |= binds
    for v in need:
        if v not in bound and draw(st.integers(0, 9)):
            parts.append(f"publication({v})")
    alts = [", ".join(parts)]
    if depth == 0 and draw(st.integers(0, 3)) == 0:
        alts.append(draw(conditions(pool, frozenset(), 1, need)))
    return "\n    or ".join(alts)


@st.composite
def generated_rulebooks(draw):
    text = HEAD % draw(conditions(RULE_LITS, frozenset({"X"})))
    calls = draw(st.booleans())  # helpers that call helpers (recursion, maybe through negation), or not
    pool = HELPER_LITS if calls else [lit for lit in HELPER_LITS if "helper" not in lit[0]]
    for name in ("helper_a", "helper_b", "helper_c"):
        typed = draw(st.sampled_from(["X, Y", "X: publication, Y", "X, Y: publication"]))
        text += "\n" + PRED % (name, typed, draw(conditions(pool, need=("X", "Y"))))
    return text


HEAD = """\
rule fuzzed
  clause "36"
  modality prohibition
  severity error
  quote "Логотип U4SSC используется только с одобрения секретариата."
  summary "generated"
  record X
  message "{X}"
  when
    publication(X), %s
"""
PRED = """\
predicate %s(%s) "{X} and {Y}" when
  %s
"""

_compiled_samples: list[str] = []


@fuzz(50)
@given(text=generated_rulebooks())
def test_rules_made_of_plausible_conditions(small_rulebook, text):
    note(text)
    rb, diags = compile_with(small_rulebook, "gen.rules", text)
    if rb is None:
        event("diagnostics: " + ",".join(sorted({d.code for d in diags})[:2]))
        return
    event("compiled" + (" (recursive)" if any(r.head.startswith("pred:") for r in rb.program.rules) else ""))
    assert_engine_ready(rb.program)
    if len(_compiled_samples) < (300 if LONG else 8):
        _compiled_samples.append(text)


_EVALUATE = r"""
import json, sys
from checker.compile import compile_rulebook
from checker.registry import load_registry
from checker.evaluate import evaluate
for folder in sys.argv[2:]:
    print("evaluating", folder, flush=True)
    rb = compile_rulebook(folder)
    reg = load_registry(sys.argv[1], rb.vocabulary)
    found = {}
    for engine in ("pydatalog", "sqlite"):
        found[engine] = [v.to_json() for v in evaluate(rb, reg, "2026-11-28", engine).violations()]
    if found["pydatalog"] != found["sqlite"]:
        print("engines differ on", folder, json.dumps(found, ensure_ascii=False)[:2000], flush=True)
        sys.exit(3)
    print("violations", len(found["sqlite"]), flush=True)
"""


def test_compiled_programs_evaluate_in_bounded_time(small_rulebook, workdir):
    """What the previous property compiled runs on the example registry, in a process with a timeout,
    and gives the same violations on pyDatalog and on SQLite."""
    if not _compiled_samples:  # run alone
        test_rules_made_of_plausible_conditions(small_rulebook)
    assert _compiled_samples, "no generated rule compiled: the generator needs a look"
    folders = []
    for i, text in enumerate(_compiled_samples):
        rb = workdir / f"eval-{i}"
        shutil.rmtree(rb, ignore_errors=True)
        shutil.copytree(small_rulebook, rb)
        (rb / "gen.rules").write_text(text, encoding="utf-8")
        folders.append(str(rb))
    p = subprocess.Popen([sys.executable, "-c", _EVALUATE, str(FACTS), *folders], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        out, err = p.communicate(timeout=30 + 10 * len(folders))
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        last = [ln for ln in out.splitlines() if ln.startswith("evaluating")][-1].split()[-1]
        pytest.fail("evaluation did not end in time:\n" + (Path(last) / "gen.rules").read_text(encoding="utf-8"))
    if p.returncode == 3:
        last = [ln for ln in out.splitlines() if ln.startswith("evaluating")][-1].split()[-1]
        pytest.fail(out.splitlines()[-1] + "\n" + (Path(last) / "gen.rules").read_text(encoding="utf-8"))
    assert p.returncode == 0, err[-3000:] + "\n" + out[-500:]
    assert out.count("violations ") == len(folders)


# ---------------------------------------------------------------- mutated rule files

_TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|[A-Za-z_][A-Za-z0-9_]*|\d+|\s+|.', re.S)
INSERTS = ["(", ")", ",", "not ", " or ", " when ", "rule ", "predicate ", "X", "_", "=", "<", " + 1 day", '"',
           "{", "}", " in ", " is absent", ".", "as_of", "A.start", "2026-02-30", "--02-30", "0",
           "99999999999999999999", "\n", "#", '"""', "\\", "é", "holds(P, chair, D)", "not is_partner(X, D)",
           "\x00", "\ufeff", "٣٠"]


@st.composite
def mutated_rule_files(draw):
    files = sorted(p.name for p in RULES.glob("*.rules"))
    name = draw(st.sampled_from(files))
    text = (RULES / name).read_text(encoding="utf-8")
    toks = _TOKEN.findall(text)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(toks)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "char"]))
        if op == "delete":
            del toks[i:i + draw(st.integers(1, 3))]
        elif op == "insert":
            toks.insert(i, draw(st.sampled_from(INSERTS)))
        elif op == "replace" and toks:
            toks[min(i, len(toks) - 1)] = draw(st.sampled_from(toks))
        elif op == "duplicate":
            j = draw(st.integers(0, len(toks)))
            toks[i:i] = toks[j:j + draw(st.integers(1, 20))]
        else:
            s = "".join(toks)
            k = min(i, len(s))
            toks = [s[:k], draw(st.characters(codec="utf-8")), s[k + 1:]]
    return name, "".join(toks)


@fuzz(25)
@given(case=mutated_rule_files())
def test_mutated_rule_files_compile_or_fail_cleanly(full_rulebook, case):
    name, text = case
    original = (RULES / name).read_text(encoding="utf-8")
    try:
        rb, diags = compile_with(full_rulebook, name, text)
    finally:
        (full_rulebook / name).write_text(original, encoding="utf-8")
    event("compiled" if rb is not None else "diagnostics")
    if rb is not None:
        assert_engine_ready(rb.program)


# ---------------------------------------------------------------- registries


@pytest.fixture(scope="module")
def vocabulary():
    return C.compile_rulebook(str(RULES)).vocabulary


def _load(folder: Path, vocab):
    with time_limit(30, "loading the registry"):
        try:
            reg = load_registry(str(folder), vocab, display="reg")
        except InputError as e:
            texts = {f"reg/{p.relative_to(folder).as_posix()}": p.read_text(encoding="utf-8", errors="replace")
                     for p in folder.rglob("*.yaml")}
            assert_renders(e.diagnostics, texts)
            return None
    assert isinstance(reg, Registry)
    return reg


SCALARS = st.one_of(
    st.sampled_from(["p-1", "o-1", "pub-1", "secretariat", "u4ssc", "chair", "2026-01-01", "2026-02-30", "true",
                     "no", "yes", "010", "0x1F", "1e3", "~", "null", "", "2026", "city", "draft", "published",
                     "lead", "X), p(Y", "$(touch PWNED)", "{A}", "on", ".inf", "12:30"]),
    st.text(max_size=12), st.integers(-5, 3000), st.booleans(), st.dates(), st.none(),
)


@st.composite
def generated_registries(draw, vocab):
    """Files mapping kinds (mostly declared ones) to records with declared, misspelt or unknown fields."""
    kinds = sorted(vocab.kinds)
    files = {}
    for n in range(draw(st.integers(1, 3))):
        doc = {}
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(kinds) | st.sampled_from(["peoples", "person", "x"]))
            fields = sorted(vocab.kinds[kind].fields) if kind in vocab.kinds else ["id", "name"]
            recs = []
            for _ in range(draw(st.integers(0, 4))):
                rec = {}
                for f in draw(st.lists(st.sampled_from(fields + ["nmae", "extra"]), max_size=8, unique=True)):
                    rec[f] = draw(SCALARS | st.lists(SCALARS, max_size=3))
                recs.append(rec if draw(st.integers(0, 9)) else draw(SCALARS))
            doc[kind] = recs if draw(st.integers(0, 9)) else draw(SCALARS)
        style = draw(st.sampled_from([None, True, False]))
        files[f"f{n}.yaml"] = yaml.safe_dump(doc, default_flow_style=style, allow_unicode=draw(st.booleans()))
    return files


@fuzz(25)
@given(data=st.data())
def test_generated_registries_load_or_fail_cleanly(workdir, vocabulary, data):
    files = data.draw(generated_registries(vocabulary))
    folder = workdir / "gen-reg"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    event("loaded" if _load(folder, vocabulary) is not None else "diagnostics")


YAML_BITS = [":", "- ", " ", "\n", "[", "]", "{", "}", "&a ", "*a", "!!str ", "!!python/object:os.system ", "'",
             '"', "#", "? ", "|", ">", "\t", "~", "null", "2026-02-30", "yes", "0x10", ",", "\ufeff", "\r", "\x85",
             "\u2028", "é", "\\", "%YAML 1.1\n", "---\n", "...\n", "<<: ", "id: ", "organizations:", "\x1b", "\x00"]


@st.composite
def mutated_registries(draw):
    files = sorted(p.name for p in FACTS.glob("*.yaml"))
    name = draw(st.sampled_from(files))
    text = (FACTS / name).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "copy"]))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(YAML_BITS) | st.characters(codec="utf-8")) + text[i:]
        else:
            j = draw(st.integers(0, len(text)))
            text = text[:i] + text[j:j + draw(st.integers(1, 60))] + text[i:]
    return name, text


@fuzz(50)
@given(case=mutated_registries())
def test_mutated_registries_load_or_fail_cleanly(workdir, vocabulary, case):
    name, text = case
    folder = workdir / "mut-reg"
    if not folder.exists():
        shutil.copytree(FACTS, folder)
    try:
        (folder / name).write_text(text, encoding="utf-8")
        event("loaded" if _load(folder, vocabulary) is not None else "diagnostics")
    finally:
        shutil.copy(FACTS / name, folder / name)
