"""Stage 2: syntax trees of a rulebook to the engine-neutral program (checker.ir).

The compiler does what pyDatalog does not: it knows every predicate and field,
inlines helper predicates, checks that every variable is bound by a positive
condition (range restriction), orders bodies (positive atoms, then
comparisons and assignments as soon as their inputs are bound, then
negations), and rejects negation through recursion. It reports every problem
of every file at once.
"""
from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import ast as A
from . import fsread, ir
from .dates import FUNCTIONS
from .model import Diagnostic, Location, Param, RuleInfo


def parse_text(text: str, path: str):
    """checker.parse.parse_text, imported (with lark) by the first compile: a rulebook from the cache needs neither."""
    from .parse import parse_text as parse

    return parse(text, path)

SIMPLE_TYPES = ("id", "text", "date", "year", "boolean")
MODALITIES = ("obligation", "prohibition", "recommendation", "permission", "exclusive_permission")
SEVERITIES = ("error", "warning", "notice")
BUILTIN_RELATIONS = {
    # name: (arity, doc)
    "quarter": (3, "quarter(Q, First, End): calendar quarter Q (e.g. 2025-Q3) is [First, End)"),
    "calendar_year": (3, "calendar_year(Y, First, End): year Y is [First, End)"),
}
AS_OF_REL = "as_of"
USER_FUNCTIONS = {"year_of": 1, "date": (2, 3), "max": 2, "min": 2}
MAX_EXPANSIONS = 10_000  # uses of helpers inlined in one rulebook (the U4SSC rulebook needs about 100)


# ====================================================================== vocabulary


@dataclass
class Field:
    name: str
    type: str  # id text date year boolean enum ref
    values: tuple = ()  # enum values
    targets: tuple = ()  # ref targets
    is_list: bool = False
    required: bool = False
    required_when: tuple | None = None
    default: str | None = None  # a field name or a constant
    phrase: str | None = None
    span: A.Span = A.NOSPAN

    @property
    def single_kind(self):
        return self.targets[0] if self.type == "ref" and len(self.targets) == 1 else None


@dataclass
class Kind:
    name: str
    singular: str
    doc: str | None
    fields: dict
    span: A.Span = A.NOSPAN

    def rel(self):
        return self.singular

    def field_rel(self, f: str):
        return f"{self.singular}.{f}"


@dataclass
class Vocabulary:
    kinds: dict = field(default_factory=dict)  # plural -> Kind
    bodies: dict = field(default_factory=dict)  # name -> doc
    logos: dict = field(default_factory=dict)

    def by_singular(self, s):
        for k in self.kinds.values():
            if k.singular == s:
                return k
        return None

    def constants(self):
        out = set(self.bodies) | set(self.logos) | {"true", "false"} | set(SEVERITIES)
        for k in self.kinds.values():
            for f in k.fields.values():
                out.update(f.values)
        return out


# ====================================================================== results


@dataclass
class Frame:
    pred: str
    template: str | None
    params: tuple  # parameter names
    args: tuple  # ir terms in the alternative's namespace


@dataclass
class Explain:
    kind: str  # fact | absent | rel
    lit: object  # ir.Pos for fact/rel; for absent: (template or None, auto text, var names)
    frames: tuple


@dataclass
class Alternative:
    head: str
    head_vars: tuple
    explain: list
    params: tuple  # names of parameters used


@dataclass
class CompiledRule:
    info: RuleInfo
    record_var: str
    severity: tuple  # ("const", sev) | ("var", Var, allowed)
    message: str
    alternatives: list
    order: int


@dataclass
class CompiledDeadline:
    """What falls due: rows of `alternatives` bind `due_var` to the last compliant day."""

    id: str
    rule: str  # the rule it anticipates
    record_var: str
    due_var: str
    message: str
    summary: str
    alternatives: list
    location: object = None


@dataclass
class Rulebook:
    name: str
    path: str
    vocabulary: Vocabulary
    params: dict  # name -> A.ParamDecl
    rules: list  # CompiledRule, rulebook order
    program: ir.Program
    clauses: list  # [(id, text)] in ToR order
    coverage: dict  # clause id -> A.ClauseDecl
    helpers: dict  # name -> A.PredDecl
    files: dict  # path -> text
    deadlines: list = field(default_factory=list)  # CompiledDeadline

    def clause_order(self):
        return {c: i for i, (c, _) in enumerate(self.clauses)}

    def clause_texts(self):
        return dict(self.clauses)


# ====================================================================== text normalisation

_FOOTNOTE = re.compile(r"(?<=[^\W\d_])\d+(?=[\s,.;:)»]|$)")


def normalise_quote(text: str) -> str:
    """The one normalisation applied to both a rule's quote and its clause text.

    Unicode NFC; words hyphenated across line ends joined ("информационно-
    коммуникационные" with a line break is kept as a hyphenated compound, a
    soft break "страте- гии" is joined); footnote markers glued to a word
    ("секретариатом1") dropped; quotation marks unified; white space folded.
    """
    t = unicodedata.normalize("NFC", text)
    t = t.replace("\u00ad", "")
    t = re.sub(r"[«»“”„\"]", '"', t)
    t = re.sub(r"[‘’]", "'", t)
    t = re.sub(r"[\u2010\u2011]", "-", t)
    t = _FOOTNOTE.sub("", t)
    t = re.sub(r"(\w)-\s+(?=[a-zа-яё])", r"\1-", t)
    t = re.sub(r"\s+", " ", t).strip()
    return t


def _join_soft_hyphens(t: str) -> str:
    return re.sub(r"(\w)-(?=\w)", r"\1", t)


def quote_in_text(quote: str, text: str) -> bool:
    q, t = normalise_quote(quote), normalise_quote(text)
    if q in t:
        return True
    # a word broken across a line in the source may be quoted whole
    return _join_soft_hyphens(q) in _join_soft_hyphens(t)


# ====================================================================== the compiler


class _Fresh:
    def __init__(self):
        self.n = itertools.count(1)

    def __call__(self, base="T"):
        return f"_{base}{next(self.n)}"


@dataclass(frozen=True)
class _FrameNode:
    frame: Frame
    cond: object


class Compiler:
    def __init__(self, rulebook_dir: str, display_dir: str | None = None):
        self.dir = Path(rulebook_dir)
        self.display = (display_dir or rulebook_dir).rstrip("/").replace("\\", "/")
        self.diags: list[Diagnostic] = []
        self.files: dict[str, str] = {}
        self.fresh = _Fresh()
        self.program = ir.Program()
        self.set_rels: dict[tuple, str] = {}

    # ------------------------------------------------------------ diagnostics
    def err(self, code, msg, span: A.Span | None, help=None):
        if span is None or span.line == 0:
            self.diags.append(Diagnostic(code, msg, None, None, help))
            return
        text = self.files.get(span.path, "")
        lines = text.splitlines()
        src = lines[span.line - 1] if 0 < span.line <= len(lines) else None
        self.diags.append(Diagnostic(code, msg, Location(span.path, span.line, span.column), src, help))

    def suggest(self, word, options):
        m = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.75)
        return f"did you mean {m[0]!r}?" if m else None

    # ------------------------------------------------------------ entry point
    def compile(self) -> Rulebook:
        items = []
        if not self.dir.is_dir():
            self.err("rulebook-not-found", f"rulebook folder {self.display} does not exist", None)
            raise _Abort()
        files, problems = fsread.rule_files(self.dir)  # only regular files inside the folder (checker.fsread)
        for pr in problems:
            self._problem(pr)
        if not files and not problems:
            self.err("empty-rulebook", f"no *.rules file in {self.display}", None)
            raise _Abort()
        for e in files:
            shown = self.display + "/" + e.rel
            text = self._read(e, shown)
            if text is None:
                continue
            self.files[shown] = text
            tree, diags = parse_text(text, shown)
            self.diags.extend(diags)
            if tree is not None:
                items.extend(tree.items)
        if self.diags:
            # a file that cannot be read or parsed leaves its declarations out, and every use of them would be
            # reported as unknown, burying the cause (one missing parenthesis in the vocabulary gave 285 errors)
            raise _Abort()
        self.clauses = self._load_clauses()
        self._declare(items)
        self._classify_helpers()
        self._compile_recursive_helpers()
        rules = self._compile_rules()
        deadlines = self._compile_deadlines(rules)
        self._check_coverage()
        return Rulebook(
            name=self.dir.resolve().name,
            path=self.display,
            vocabulary=self.vocab,
            params=self.params,
            rules=rules,
            program=self.program,
            clauses=self.clauses,
            coverage=self.coverage,
            helpers=self.helpers,
            files=self.files,
            deadlines=deadlines,
        )

    def _problem(self, pr, shown: str | None = None):
        """A file or folder checker.fsread refused (a FIFO, a device, a link out of the folder), as a diagnostic."""
        if pr.code == "unreadable-folder":
            self.err(pr.code, pr.say(self.display + "/" + pr.rel if pr.rel else self.display), None)
            return
        shown = shown or self.display + "/" + pr.rel
        self.err(pr.code, pr.say(shown), A.Span(shown, 1, 1))

    def _read(self, e, shown: str) -> str | None:
        """A rule file's text, or None with a diagnostic."""
        try:
            data = fsread.read(e)
        except fsread.FsProblem as pr:
            self._problem(pr, shown)
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
            self.err("encoding", f"{shown} is not UTF-8 text (byte 0x{data[e.start]:02x})", A.Span(shown, line, col),
                     "save the file as UTF-8")
            return None

    # ------------------------------------------------------------ the ToR
    def _side_file(self, name: str) -> str | None | bool:
        """The text of the rulebook's tor.yaml or clauses.tsv; None if there is none; False if it cannot be
        read (a diagnostic said why). Read as the rule files are (checker.fsread)."""
        shown = self.display + "/" + name
        e = fsread.one_file(self.dir, name)
        if e is None:
            return None
        if isinstance(e, fsread.FsProblem):
            self._problem(e, shown)
            return False
        try:
            data = fsread.read(e)
        except fsread.FsProblem as pr:
            self._problem(pr, shown)
            return False
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.err("bad-tor", f"{shown} cannot be read: it is not UTF-8 text", A.Span(shown, 1, 1))
            return False

    def _load_clauses(self):
        text = self._side_file("tor.yaml")
        if text is False:
            return []
        if text is not None:
            shown = self.display + "/tor.yaml"
            try:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
                try:
                    data = loader.get_single_data() or {}
                finally:
                    loader.dispose()
            except (yaml.YAMLError, RecursionError) as e:
                mark = getattr(e, "problem_mark", None)
                self.err("bad-tor", f"{shown} cannot be read: {getattr(e, 'problem', None) or e}",
                         A.Span(shown, mark.line + 1, mark.column + 1) if mark else A.Span(shown, 1, 1))
                return []
            clauses = data.get("clauses", []) if isinstance(data, dict) else None
            if not isinstance(clauses, list) or not all(isinstance(c, dict) and "id" in c for c in clauses):
                self.err("bad-tor", f"{shown} must be a mapping whose `clauses` is a list of {{id, text}}",
                         A.Span(shown, 1, 1))
                return []
            return [(str(c["id"]), str(c.get("text", ""))) for c in clauses]
        text = self._side_file("clauses.tsv")
        if text:
            out = []
            for line in text.splitlines()[1:]:
                if line.strip():
                    out.append((line.split("\t")[0], ""))
            return out
        return []

    def _declare(self, items):
        self.vocab = Vocabulary()
        self.params: dict[str, A.ParamDecl] = {}
        self.helpers: dict[str, A.PredDecl] = {}
        self.rule_decls: list[A.RuleDecl] = []
        self.deadline_decls: list[A.DeadlineDecl] = []
        self.coverage: dict[str, A.ClauseDecl] = {}
        seen_names: dict[str, A.Span] = {}

        def claim(name, span, what):
            if name in seen_names:
                prev = seen_names[name]
                self.err("duplicate-declaration", f"{what} {name!r} is already declared at {prev.path}:{prev.line}", span)
                return False
            seen_names[name] = span
            return True

        for it in items:
            if isinstance(it, A.BodyDecl):
                if claim(it.name, it.span, "body"):
                    self.vocab.bodies[it.name] = it.doc
            elif isinstance(it, A.LogoDecl):
                if claim(it.name, it.span, "logo"):
                    self.vocab.logos[it.name] = it.doc
        for it in items:
            if isinstance(it, A.KindDecl):
                if claim(it.name, it.span, "kind") and (it.singular == it.name or claim(it.singular, it.span, "kind")):
                    self.vocab.kinds[it.name] = self._kind(it)
        for k in self.vocab.kinds.values():
            self._check_kind(k)
        for it in items:
            if isinstance(it, A.ParamDecl):
                if claim(it.name, it.span, "parameter"):
                    self.params[it.name] = it
                    if not it.reading:
                        self.err("missing-reading", f"parameter {it.name!r} needs a `reading`: the interpretation it encodes", it.span)
            elif isinstance(it, A.PredDecl):
                if it.name in BUILTIN_RELATIONS or it.name == AS_OF_REL or it.name in USER_FUNCTIONS:
                    self.err("duplicate-declaration", f"{it.name!r} is built in", it.span)
                elif claim(it.name, it.span, "predicate"):
                    self.helpers[it.name] = it
            elif isinstance(it, A.RuleDecl):
                self.rule_decls.append(it)
            elif isinstance(it, A.DeadlineDecl):
                self.deadline_decls.append(it)
            elif isinstance(it, A.ClauseDecl):
                if it.clause in self.coverage:
                    self.err("duplicate-declaration", f"clause {it.clause!r} already has a coverage status", it.span)
                else:
                    self.coverage[it.clause] = it
        for k in self.vocab.kinds.values():
            self.program.add_relation(k.rel(), 1, edb=True)
            for f in k.fields.values():
                if f.name != "id":
                    self.program.add_relation(k.field_rel(f.name), 2, edb=True)
        for name, (arity, _) in BUILTIN_RELATIONS.items():
            self.program.add_relation(name, arity, edb=True)
        self.program.add_relation(AS_OF_REL, 1, edb=True)

    def _kind(self, d: A.KindDecl) -> Kind:
        fields = {}
        for fd in d.fields:
            if fd.name in fields:
                self.err("duplicate-declaration", f"field {fd.name!r} is declared twice in kind {d.name!r}", fd.span)
                continue
            t = fd.type
            is_list = False
            if isinstance(t, A.ListType):
                is_list, t = True, t.item
            f = Field(fd.name, "text", is_list=is_list, required=fd.required, required_when=fd.required_when,
                      default=fd.default, phrase=fd.phrase, span=fd.span)
            if isinstance(t, A.SimpleType):
                if t.name not in SIMPLE_TYPES:
                    self.err("unknown-type", f"unknown type {t.name!r}", t.span or fd.span,
                             self.suggest(t.name, SIMPLE_TYPES) or "types: " + ", ".join(SIMPLE_TYPES) + ", enum(...), ref(...), list(...)")
                f.type = t.name
            elif isinstance(t, A.EnumType):
                f.type, f.values = "enum", t.values
            elif isinstance(t, A.RefType):
                f.type, f.targets = "ref", t.targets
            else:
                self.err("unknown-type", "lists of lists are not supported", fd.span)
            fields[fd.name] = f
        if "id" not in fields:
            self.err("missing-id", f"kind {d.name!r} must declare an `id id` field", d.span)
            fields["id"] = Field("id", "id")
        return Kind(d.name, d.singular, d.doc, fields, d.span)

    def _check_kind(self, k: Kind):
        targets_ok = set(self.vocab.kinds) | set(self.vocab.bodies) | set(self.vocab.logos) | {"body", "logo", "any"}
        for f in k.fields.values():
            for t in f.targets:
                if t not in targets_ok:
                    self.err("unknown-kind", f"field {k.name}.{f.name} refers to {t!r}, which is not a kind, a body or a logo",
                             f.span, self.suggest(t, targets_ok))
            if f.required_when:
                other, val = f.required_when
                of = k.fields.get(other)
                if of is None:
                    self.err("unknown-field", f"`required when` names {other!r}, which kind {k.name!r} does not have", f.span)
                elif of.type == "enum" and val not in of.values:
                    self.err("unknown-name", f"{val!r} is not a value of {k.name}.{other}", f.span)
            if f.default is not None and f.default not in k.fields:
                if f.type == "ref" and f.default not in (set(self.vocab.bodies) | set(self.vocab.logos)):
                    self.err("unknown-name", f"default {f.default!r} is neither a field of {k.name!r} nor a body or logo", f.span)
                if f.type == "enum" and f.default not in f.values:
                    self.err("unknown-name", f"default {f.default!r} is not one of the values of {k.name}.{f.name}", f.span)

    # ------------------------------------------------------------ helpers: recursion
    def _calls(self, cond, negated=False):
        """(name, negated, span) of every predicate a condition calls."""
        if isinstance(cond, (A.And, A.Or)):
            for c in cond.items:
                yield from self._calls(c, negated)
        elif isinstance(cond, A.Not):
            yield from self._calls(cond.item, True)
        elif isinstance(cond, A.Atom):
            yield cond.name, negated, cond.span

    def _classify_helpers(self):
        graph = {n: list(self._calls(p.cond)) for n, p in self.helpers.items()}
        # Tarjan's strongly connected components
        index, low, stack, on, comps = {}, {}, [], set(), []
        counter = itertools.count()

        def visit(v):
            index[v] = low[v] = next(counter)
            stack.append(v)
            on.add(v)
            for w, _, _ in graph.get(v, ()):
                if w not in self.helpers:
                    continue
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)

        for v in sorted(graph):
            if v not in index:
                visit(v)
        self.recursive: set[str] = set()
        for comp in comps:
            cs = set(comp)
            if len(comp) > 1 or any(w == comp[0] for w, _, _ in graph[comp[0]]):
                self.recursive |= cs
                for v in comp:
                    for w, neg, span in graph[v]:
                        if w in cs and neg:
                            self.err("negation-through-recursion",
                                     f"predicate {v!r} depends on itself through `not {w}(...)`: the rulebook would have no "
                                     f"stratified meaning", span)
        for n in sorted(self.recursive):
            self.program.add_relation("pred:" + n, len(self.helpers[n].params))

    def _compile_recursive_helpers(self):
        for n in sorted(self.recursive):
            p = self.helpers[n]
            cond = self._typed(p)
            for conj in self._dnf(self._inline(cond, set(), ()), ()):
                body, bound, _, _ = self._lower_conj(conj, set(), {}, recursive_first=self.recursive)
                if body is None:
                    continue
                head = []
                for v, _ in p.params:
                    if v not in bound:
                        self.err("unbound-variable",
                                 f"parameter {v} of recursive predicate {n!r} is not bound by a positive condition "
                                 f"in one of its alternatives", p.span)
                    head.append(ir.V(v))
                self.program.rules.append(ir.Rule("pred:" + n, tuple(head), tuple(body)))

    def _typed(self, p: A.PredDecl):
        typing = []
        for v, kind in p.params:
            if kind is None:
                continue
            if self.vocab.by_singular(kind) is None:
                self.err("unknown-kind", f"{kind!r} is not a kind of record", p.span,
                         self.suggest(kind, [k.singular for k in self.vocab.kinds.values()]))
                continue
            typing.append(A.Atom(kind, (A.Var(v, p.span),), p.span))
        return A.And(tuple(typing) + (p.cond,), p.span) if typing else p.cond

    # ------------------------------------------------------------ inlining and DNF
    def _inline(self, cond, stack: set, frames):
        if isinstance(cond, A.And):
            return A.And(tuple(self._inline(c, stack, frames) for c in cond.items), cond.span)
        if isinstance(cond, A.Or):
            return A.Or(tuple(self._inline(c, stack, frames) for c in cond.items), cond.span)
        if isinstance(cond, A.Not):
            desc = cond.description or self._helper_text(cond.item)
            return A.Not(self._inline(cond.item, stack, frames), desc, cond.span)
        if isinstance(cond, A.Atom) and cond.name in self.helpers and cond.name not in self.recursive:
            p = self.helpers[cond.name]
            if len(cond.args) != len(p.params):
                self.err("arity", f"{cond.name} takes {len(p.params)} arguments, given {len(cond.args)}", cond.span)
                return A.And((), cond.span)
            if cond.name in stack:  # unreachable: cycles are recursive helpers
                return A.And((), cond.span)
            self.expansions = getattr(self, "expansions", 0) + 1
            if self.expansions > MAX_EXPANSIONS:  # helpers that call one another twice, nested, double at each level
                self.err("too-many-alternatives", f"the helpers used here expand to more than {MAX_EXPANSIONS} "
                         f"conditions", cond.span, "a helper that calls another several times, nested, grows "
                         "exponentially: give the repeated part a helper of its own")
                raise _Abort()  # what is left would be reported as unbound or unknown
            mapping, pre = {}, []
            for (pv, _), arg in zip(p.params, cond.args):
                if isinstance(arg, A.Var) and arg.name != "_":
                    mapping[pv] = arg
                elif isinstance(arg, (A.Name, A.Str, A.Int, A.DateLit)):
                    mapping[pv] = arg
                else:
                    fv = A.Var(self.fresh("Arg"), cond.span)
                    mapping[pv] = fv
                    if not (isinstance(arg, A.Var) and arg.name == "_"):
                        pre.append(A.Compare("=", fv, arg, cond.span))
            body = _rename(self._typed(p), mapping, self.fresh)
            frame = Frame(p.name, p.template, tuple(v for v, _ in p.params), tuple(mapping[v] for v, _ in p.params))
            inner = self._inline(body, stack | {cond.name}, frames)
            node = _FrameNode(frame, inner)
            return A.And(tuple(pre) + (node,), cond.span) if pre else node
        return cond

    def _dnf(self, cond, frames):
        if isinstance(cond, A.And):
            out = [[]]
            for c in cond.items:
                alts = self._dnf(c, frames)
                if len(out) * len(alts) > 4096:  # checked before the product is built: 4096 x 4096 lists
                    self.err("too-many-alternatives", "this condition expands to more than 4096 alternatives", cond.span)
                    return out[:1]
                out = [a + b for a in out for b in alts]
            return out
        if isinstance(cond, A.Or):
            out = []
            for c in cond.items:
                out.extend(self._dnf(c, frames))
            return out
        if isinstance(cond, _FrameNode):
            return self._dnf(cond.cond, frames + (cond.frame,))
        return [[(cond, frames)]]

    # ------------------------------------------------------------ lowering a conjunction
    def _lower_conj(self, conj, outer_bound: set, outer_kinds: dict, recursive_first=()):
        """Lower one alternative. Returns (ordered ir body, bound vars, explain items, params used)."""
        st = _ConjState(self, dict(outer_kinds))
        # typing pass: kind atoms give variables their kind
        for lit, _ in conj:
            if isinstance(lit, A.Atom) and len(lit.args) == 1 and isinstance(lit.args[0], A.Var):
                k = self.vocab.by_singular(lit.name)
                if k is not None:
                    st.kinds.setdefault(lit.args[0].name, k)
        negs = []
        for lit, frames in conj:
            if isinstance(lit, A.Not):
                negs.append((lit, frames))
            else:
                st.lower(lit, frames)
        if st.failed:
            return None, set(), [], set()
        # order: positive atoms (recursive ones first), constraints as soon as bound
        pos, seen_pos = [], set()
        for p, f in st.pos:
            if p not in seen_pos:
                seen_pos.add(p)
                pos.append((p, f))
        if recursive_first:
            pos.sort(key=lambda pf: 0 if pf[0].rel.startswith("pred:") and pf[0].rel[5:] in recursive_first else 1)
        bound = set(outer_bound)
        body = []
        pending = list(st.constraints)

        def drain():
            progress = True
            while progress:
                progress = False
                for c in list(pending):
                    placed = _place(c, bound)
                    if placed is not None:
                        body.append(placed)
                        bound.update(ir.literal_vars(placed))
                        pending.remove(c)
                        progress = True

        drain()
        for p, _ in pos:
            body.append(p)
            bound.update(ir.literal_vars(p))
            drain()
        for c in pending:
            missing = sorted(v for v in ir.literal_vars(c[0]) if v not in bound and not v.startswith("$"))
            shown = [v for v in missing if not v.startswith("_")] or missing
            self.err("unbound-variable",
                     f"variable {', '.join(shown)} is not bound by a positive condition before it is compared",
                     c[1], "name it in a positive condition, e.g. appointment(X) or X.field = Y")
        explain = [Explain("rel" if p.rel.startswith("pred:") or p.rel in BUILTIN_RELATIONS else "fact", p, f)
                   for p, f in pos if not p.rel.startswith("set:") and p.rel != AS_OF_REL]
        params = set(st.params)
        for neg, span, owner, kind, fname, frames in st.absent:
            if isinstance(owner, ir.V) and owner.name not in bound:
                self.err("unbound-variable", f"variable {owner.name} is not bound by a positive condition", span)
                continue
            body.append(neg)
            who = "{" + owner.name + "}" if isinstance(owner, ir.V) else str(owner.value)
            explain.append(Explain("absent", (f"{fname} of {kind.singular} {who}", "", ()), frames))
        # negations, each alternative of each is its own Neg
        for lit, frames in negs:
            inner = self._inline(lit.item, set(), frames)
            for alt in self._dnf(inner, frames):
                nb, _, _, nparams = self._lower_conj(alt, bound, st.kinds)
                if nb is None:
                    continue
                params |= nparams
                body.append(ir.Neg(tuple(nb)))
                local = ir.literal_vars(ir.Neg(tuple(nb)))
                desc = lit.description or self._helper_text(lit.item)
                explain.append(Explain("absent", (desc, _describe(lit.item), tuple(sorted(local & bound))), frames))
        return body, bound, explain, params

    def _helper_text(self, item):
        """`not helper(...)` is explained by the helper's own sentence."""
        if not isinstance(item, A.Atom) or item.name not in self.helpers:
            return None
        p = self.helpers[item.name]
        if not p.template or len(p.params) != len(item.args):
            return None
        vals = {}
        for (pv, _), a in zip(p.params, item.args):
            vals[pv] = "{" + a.name + "}" if isinstance(a, A.Var) else _const_text(a)
        return "evidence that " + re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: vals.get(m.group(1), m.group(0)), p.template)

    # ------------------------------------------------------------ rules
    def _compile_rules(self):
        rules = []
        seen = {}
        clause_ids = [c for c, _ in self.clauses]
        texts = dict(self.clauses)
        for order, rd in enumerate(self.rule_decls):
            if rd.id in seen:
                prev = seen[rd.id]
                self.err("duplicate-rule", f"rule {rd.id!r} is already defined at {prev.path}:{prev.line}", rd.span)
                continue
            seen[rd.id] = rd.span
            info, record_var, sev, message = self._rule_meta(rd, clause_ids, texts)
            if info is None:
                continue
            alts = []
            inlined = self._inline(rd.cond, set(), ())
            for i, conj in enumerate(self._dnf(inlined, ())):
                body, bound, explain, params = self._lower_conj(conj, set(), {})
                if body is None:
                    continue
                needed = {record_var: rd.attr_span("record")}
                if sev[0] == "var":
                    needed[sev[1]] = rd.attr_span("severity")
                for v in _placeholders(message):
                    needed.setdefault(v, rd.attr_span("message"))
                ok = True
                for v, span in needed.items():
                    if v not in bound:
                        self.err("unbound-variable", f"variable {v} is not bound by a positive condition"
                                 + (f" in alternative {i + 1}" if i else ""), span)
                        ok = False
                if not ok:
                    continue
                head_vars = tuple(sorted(v for v in bound))
                head = f"rule:{rd.id}:{i}"
                self.program.add_relation(head, len(head_vars))
                self.program.rules.append(ir.Rule(head, tuple(ir.V(v) for v in head_vars), tuple(body)))
                alts.append(Alternative(head, head_vars, explain, tuple(sorted(params))))
            rules.append(CompiledRule(info, record_var, sev, message, alts, order))
        return rules

    def _compile_deadlines(self, rules):
        out, seen = [], {}
        rule_ids = {r.info.id for r in rules}
        for d in self.deadline_decls:
            if d.id in seen:
                self.err("duplicate-deadline", f"deadline {d.id!r} is already defined", d.span)
                continue
            seen[d.id] = d.span
            ok = True
            for key in ("anticipates", "record", "due", "message"):
                if d.attr(key) is None:
                    self.err("missing-attribute", f"deadline {d.id!r} needs `{key}`", d.span)
                    ok = False
            if not ok:
                continue
            if d.attr("anticipates") not in rule_ids:
                self.err("unknown-rule", f"deadline {d.id!r} anticipates {d.attr('anticipates')!r}, which is not a rule",
                         d.attr_span("anticipates"), self.suggest(d.attr("anticipates"), rule_ids))
            alts = []
            for i, conj in enumerate(self._dnf(self._inline(d.cond, set(), ()), ())):
                body, bound, explain, params = self._lower_conj(conj, set(), {})
                if body is None:
                    continue
                needed = [d.attr("record"), d.attr("due")] + _placeholders(d.attr("message"))
                missing = [v for v in needed if v not in bound]
                if missing:
                    self.err("unbound-variable", f"variable {', '.join(missing)} is not bound by a positive condition",
                             d.span)
                    continue
                head_vars = tuple(sorted(bound))
                head = f"deadline:{d.id}:{i}"
                self.program.add_relation(head, len(head_vars))
                self.program.rules.append(ir.Rule(head, tuple(ir.V(v) for v in head_vars), tuple(body)))
                alts.append(Alternative(head, head_vars, explain, tuple(sorted(params))))
            out.append(CompiledDeadline(d.id, d.attr("anticipates"), d.attr("record"), d.attr("due"),
                                        d.attr("message"), d.attr("summary") or "", alts, _loc(d.span)))
        return out

    def _rule_meta(self, rd: A.RuleDecl, clause_ids, texts):
        ok = True
        for key in ("clause", "modality", "severity", "quote", "summary", "record", "message"):
            if rd.attr(key) is None:
                self.err("missing-attribute", f"rule {rd.id!r} needs a `{key}`", rd.span)
                ok = False
        keys = [k for k, _, _ in rd.attrs]
        for k in set(keys):
            if k != "note" and keys.count(k) > 1:
                self.err("duplicate-attribute", f"rule {rd.id!r} gives `{k}` more than once", rd.span)
        if not ok:
            return None, None, None, None
        cite = rd.attr("clause")
        clause = cite.split(",")[0].strip()
        if clause_ids and clause not in clause_ids:
            self.err("unknown-clause", f"the ToR has no paragraph {clause!r}", rd.attr_span("clause"),
                     self.suggest(clause, clause_ids) or "clause ids are listed in the rulebook's tor.yaml")
        quote = rd.attr("quote")
        cited = cite if cite in texts else clause
        if cite != clause and clause_ids and cite not in texts:
            self.err("unknown-clause", f"the ToR has no paragraph {cite!r}", rd.attr_span("clause"),
                     self.suggest(cite, clause_ids))
        scope = " ".join(t for c, t in self.clauses if c == cited or c.startswith(cited + ",") or c.startswith(cited + "("))
        if scope and not quote_in_text(quote, scope):
            self.err("quote-mismatch", f"the quoted text is not part of clause {clause}'s text in the ToR",
                     rd.attr_span("quote"),
                     "quote the ToR exactly (white space, hyphenation at line ends and footnote markers are ignored)")
        modality = rd.attr("modality")
        if modality not in MODALITIES:
            self.err("bad-modality", f"unknown modality {modality!r}", rd.attr_span("modality"),
                     "one of " + ", ".join(MODALITIES))
        sev = rd.attr("severity")
        if sev[0] == "const":
            sevs = (sev[1],)
        else:
            sevs = sev[2]
        for s in sevs:
            if s not in SEVERITIES:
                self.err("bad-severity", f"unknown severity {s!r}", rd.attr_span("severity"), "one of error, warning, notice")
        params = []
        for name in sorted(self._names_in(rd.cond)):
            if name in self.params:
                p = self.params[name]
                params.append(Param(p.name, p.text, p.reading or "", _loc(p.span)))
        info = RuleInfo(
            id=rd.id, clause=clause, cite=cite, severities=tuple(sevs), modality=modality,
            quote=quote, summary=rd.attr("summary"), message=rd.attr("message"),
            params=tuple(params), notes=tuple(rd.attr_all("note")), location=_loc(rd.span),
        )
        return info, rd.attr("record"), sev, rd.attr("message")

    def _names_in(self, cond, seen=None):
        """Lower-case names a condition uses, through the helpers it calls."""
        seen = seen if seen is not None else set()
        out = set()

        def walk(x):
            if isinstance(x, A.Name):
                out.add(x.name)
            elif isinstance(x, A.Atom) and x.name in self.helpers and x.name not in seen:
                seen.add(x.name)
                out.update(self._names_in(self.helpers[x.name].cond, seen))
            if hasattr(x, "__dataclass_fields__"):
                for f in x.__dataclass_fields__:
                    if f != "span":
                        walk(getattr(x, f))
            elif isinstance(x, tuple):
                for y in x:
                    walk(y)

        walk(cond)
        return out

    def _check_coverage(self):
        from .coverage import parts_of

        ids = {c for c, _ in self.clauses}
        cites = [(rd.attr("clause"), rd.id) for rd in self.rule_decls if rd.attr("clause")]
        for c, d in self.coverage.items():
            if ids and c not in ids:
                self.err("unknown-clause", f"the ToR has no paragraph {c!r}", d.span, self.suggest(c, ids))
            enc = [rid for cite, rid in cites if parts_of(c, cite)]
            if enc:
                self.err("coverage-conflict", f"clause {c!r} is encoded by rule {enc[0]}; it takes no coverage declaration",
                         d.span)
        missing = [c for c, _ in self.clauses
                   if c not in self.coverage and not any(parts_of(c, cite) for cite, _ in cites)]
        if missing and self.coverage and not any(d.code == "syntax" for d in self.diags):
            self.err("uncovered-clause", "no status for paragraph(s) " + ", ".join(missing)
                     + ": encode them with a rule or declare them `data` or `not computable`", None)

    def set_relation(self, values: tuple) -> str:
        if values not in self.set_rels:
            name = f"set:{len(self.set_rels)}"
            self.set_rels[values] = name
            self.program.add_relation(name, 1, edb=True)
            self.program.static_facts[name] = [(v,) for v in values]
        return self.set_rels[values]

    # ------------------------------------------------------------ ad hoc questions (torcheck query)
    @classmethod
    def for_rulebook(cls, rb: Rulebook) -> "Compiler":
        """A compiler that lowers further conditions against a compiled rulebook.

        What it adds goes to a copy of the rulebook's program; the rulebook
        itself is left as it was.
        """
        c = cls(rb.path, rb.path)
        c.vocab, c.params, c.helpers, c.files = rb.vocabulary, rb.params, rb.helpers, dict(rb.files)
        p = rb.program
        c.program = ir.Program(dict(p.relations), set(p.edb), list(p.rules), dict(p.static_facts))
        c.recursive = {n for n in rb.helpers if "pred:" + n in p.relations}
        c.set_rels = {tuple(r[0] for r in rows): rel for rel, rows in p.static_facts.items() if rel.startswith("set:")}
        return c

    def compile_question(self, cond, head: str) -> tuple[tuple[str, ...], list]:
        """Lower a condition like a rule body; its named variables are the answer's columns.

        Returns (columns, alternatives): the variables written in the condition
        (not `_` or names beginning with `_`) that a positive condition binds,
        in the order they first appear, and one alternative per disjunct, each
        a relation `head:i` over the columns. A column that some alternative
        leaves unbound is an error.
        """
        named: dict[str, A.Span] = {}

        def walk(x):
            if isinstance(x, (A.Var, A.FieldRef)):
                v = x.name if isinstance(x, A.Var) else x.var
                if not v.startswith("_"):
                    named.setdefault(v, x.span)
            if isinstance(x, tuple):
                for y in x:
                    walk(y)
            elif hasattr(x, "__dataclass_fields__"):
                for f in x.__dataclass_fields__:
                    if f != "span":
                        walk(getattr(x, f))

        walk(cond)
        lowered = []
        try:
            inlined = self._inline(cond, set(), ())
        except _Abort:  # reported in self.diags
            return (), []
        for conj in self._dnf(inlined, ()):
            body, bound, explain, params = self._lower_conj(conj, set(), {})
            if body is not None:
                lowered.append((body, bound, explain, params))
        columns = tuple(v for v in named if any(v in bound for _, bound, _, _ in lowered))
        alts, unbound = [], []
        for i, (body, bound, explain, params) in enumerate(lowered):
            missing = [v for v in columns if v not in bound]
            unbound += [v for v in missing if v not in unbound]
            if missing:
                continue
            rel = f"{head}:{i}"
            self.program.add_relation(rel, len(columns))
            self.program.rules.append(ir.Rule(rel, tuple(ir.V(v) for v in columns), tuple(body)))
            alts.append(Alternative(rel, columns, explain, tuple(sorted(params))))
        for v in unbound:
            self.err("unbound-variable", f"variable {v} is bound on one side of an `or` but not on the other",
                     named[v], "every alternative of the condition must bind the same variables")
        return columns, alts


class _Abort(Exception):
    pass


def _loc(span: A.Span):
    if span is None or span.line == 0:
        return None
    return Location(span.path, span.line, span.column)


def _placeholders(template: str):
    return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template or "")


def _place(c, bound):
    """Place a pending constraint if its inputs are bound; None otherwise."""
    lit = c[0]
    if isinstance(lit, ir.Cmp):
        if lit.op == "=":
            lv, rv = ir.term_vars(lit.left), ir.term_vars(lit.right)
            if isinstance(lit.left, ir.V) and lit.left.name not in bound and rv <= bound:
                return ir.Let(lit.left, lit.right)
            if isinstance(lit.right, ir.V) and lit.right.name not in bound and lv <= bound:
                return ir.Let(lit.right, lit.left)
        if ir.literal_vars(lit) <= bound:
            return lit
        return None
    return None


def _rename(cond, mapping, fresh):
    """Substitute a helper's parameters and give its local variables fresh names."""
    local = {}

    def var(name, span):
        if name == "_":
            return A.Var(fresh("Any"), span)
        if name in mapping:
            return mapping[name]
        if name not in local:
            local[name] = fresh(name)
        return A.Var(local[name], span)

    def sub_text(t):
        if t is None:
            return None

        def rep(m):
            v = m.group(1)
            x = var(v, None) if v in mapping or v in local else None
            if isinstance(x, A.Var):
                return "{" + x.name + "}"
            if x is not None:
                return _const_text(x)
            return m.group(0)

        return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", rep, t)

    def walk(x):
        if isinstance(x, A.Var):
            return var(x.name, x.span)
        if isinstance(x, A.FieldRef):
            v = var(x.var, x.span)
            if isinstance(v, A.Var):
                return A.FieldRef(v.name, x.path, x.span)
            return x  # a constant has no fields; reported when lowered
        if isinstance(x, A.Not):
            return A.Not(walk(x.item), sub_text(x.description), x.span)
        if isinstance(x, tuple):
            return tuple(walk(y) for y in x)
        if hasattr(x, "__dataclass_fields__"):
            kw = {f: walk(getattr(x, f)) for f in x.__dataclass_fields__ if f != "span"}
            return type(x)(**kw, span=x.span)
        return x

    # variables first seen in a description still need the same names
    return walk(cond)


def _const_text(x):
    if isinstance(x, (A.Name,)):
        return x.name
    if isinstance(x, (A.Str, A.Int, A.DateLit)):
        return str(x.value)
    return "?"


def _describe(cond) -> str:
    """A condition in words, for an `absent` explanation without a description."""
    if isinstance(cond, A.And):
        return ", ".join(_describe(c) for c in cond.items)
    if isinstance(cond, A.Or):
        return " or ".join(_describe(c) for c in cond.items)
    if isinstance(cond, A.Not):
        return "not " + _describe(cond.item)
    if isinstance(cond, _FrameNode):
        return _describe(cond.cond)
    if isinstance(cond, A.Atom):
        return f"{cond.name}(" + ", ".join(_expr_text(a) for a in cond.args) + ")"
    if isinstance(cond, A.Compare):
        return f"{_expr_text(cond.left)} {cond.op} {_expr_text(cond.right)}"
    if isinstance(cond, A.InSet):
        return f"{_expr_text(cond.item)} in {{" + ", ".join(_expr_text(o) for o in cond.options) + "}"
    if isinstance(cond, A.InField):
        return f"{_expr_text(cond.item)} in {_expr_text(cond.field)}"
    if isinstance(cond, A.Presence):
        return f"{_expr_text(cond.field)} is {'present' if cond.present else 'absent'}"
    return "?"


def _expr_text(e) -> str:
    if isinstance(e, A.Var):
        return "{" + e.name + "}"
    if isinstance(e, A.FieldRef):
        return "{" + e.var + "}." + ".".join(e.path)
    if isinstance(e, A.Name):
        return e.name
    if isinstance(e, (A.Str, A.Int, A.DateLit)):
        return str(e.value)
    if isinstance(e, A.Duration):
        return f"{e.amount} {e.unit}"
    if isinstance(e, A.BinOp):
        return f"{_expr_text(e.left)} {e.op} {_expr_text(e.right)}"
    if isinstance(e, A.Call):
        return f"{e.name}(" + ", ".join(_expr_text(a) for a in e.args) + ")"
    return "?"


class _ConjState:
    """Lowers the literals of one conjunction, collecting atoms and constraints."""

    def __init__(self, comp: Compiler, kinds: dict):
        self.c = comp
        self.kinds = kinds  # var -> Kind
        self.pos = []  # (ir.Pos, frames)
        self.constraints = []  # (ir literal, span)
        self.params = set()
        self.failed = False
        self.field_cache = {}
        self.as_of = None
        self.absent = []  # (ir.Neg, span, owner, kind, field, frames)

    def fail(self, code, msg, span, help=None):
        self.c.err(code, msg, span, help)
        self.failed = True

    # ---- terms
    def var(self, name):
        if name == "_":
            return ir.V(self.c.fresh("Any"))
        return ir.V(name)

    def as_of_var(self):
        if self.as_of is None:
            self.as_of = ir.V("$as_of")
            self.pos.append((ir.Pos(AS_OF_REL, (self.as_of,)), ()))
        return self.as_of

    def name(self, n: A.Name, frames):
        if n.name == "as_of":
            return self.as_of_var()
        if n.name in self.c.params:
            p = self.c.params[n.name]
            self.params.add(n.name)
            if p.kind == "int":
                return ir.K(p.value)
            if p.kind == "monthday":
                return ir.K(p.value)
            self.fail("bad-type", f"parameter {n.name!r} is a duration: add it to a date (D + {n.name})", n.span)
            return ir.K(0)
        if n.name in self.c.vocab.constants():
            return ir.K(n.name)
        known = self.c.vocab.constants() | set(self.c.params) | {"as_of"}
        self.fail("unknown-name", f"unknown name {n.name!r}", n.span,
                  self.c.suggest(n.name, known) or "constants are enumeration values, bodies and logos; variables start with a capital")
        return ir.K(n.name)

    def field_step(self, owner: ir.V, kind: Kind, fname: str, span, frames, target=None):
        f = kind.fields.get(fname)
        if f is None:
            self.fail("unknown-field", f"kind {kind.name!r} has no field {fname!r}", span,
                      self.c.suggest(fname, kind.fields))
            return ir.V(self.c.fresh()), None
        if fname == "id":
            return owner, kind
        key = (owner, fname)
        if target is None and not f.is_list and key in self.field_cache:
            return self.field_cache[key]
        out = target if target is not None else ir.V(self.c.fresh(fname.capitalize()))
        self.pos.append((ir.Pos(kind.field_rel(fname), (owner, out)), frames))
        nk = self.c.vocab.kinds.get(f.single_kind) if f.single_kind else None
        if isinstance(out, ir.V) and nk is not None:
            self.kinds.setdefault(out.name, nk)
        if target is None and not f.is_list:
            self.field_cache[key] = (out, nk)
        return out, nk

    def field_ref(self, fr: A.FieldRef, frames, target=None):
        """The term a field reference denotes; `target` unifies its last step."""
        owner = ir.V(fr.var)
        kind = self.kinds.get(fr.var)
        if kind is None:
            self.fail("unknown-kind", f"cannot tell what kind of record {fr.var} is", fr.span,
                      f"name it first, e.g. appointment({fr.var})")
            return ir.V(self.c.fresh())
        for i, step in enumerate(fr.path):
            last = i == len(fr.path) - 1
            owner, kind = self.field_step(owner, kind, step, fr.span, frames, target if last else None)
            if kind is None and not last:
                self.fail("unknown-kind", f"{fr.var}.{'.'.join(fr.path[:i + 1])} may refer to several kinds; "
                          f"bind it to a variable and name its kind", fr.span)
                return owner
        return owner

    def field_parts(self, fr: A.FieldRef, frames):
        """(owner term, kind) of a field reference's last step, after lowering the steps before it."""
        if len(fr.path) == 1:
            kind = self.kinds.get(fr.var)
            if kind is None:
                self.fail("unknown-kind", f"cannot tell what kind of record {fr.var} is", fr.span,
                          f"name it first, e.g. appointment({fr.var})")
            return ir.V(fr.var), kind
        owner = self.field_ref(A.FieldRef(fr.var, fr.path[:-1], fr.span), frames)
        return owner, self.kinds.get(owner.name) if isinstance(owner, ir.V) else None

    def term(self, e, frames):
        """Lower an expression to a V, K or Fn."""
        if isinstance(e, A.Var):
            return self.var(e.name)
        if isinstance(e, A.Name):
            return self.name(e, frames)
        if isinstance(e, A.Str):
            return ir.K(e.value)
        if isinstance(e, A.Int):
            return ir.K(e.value)
        if isinstance(e, A.DateLit):
            import datetime as dt
            try:
                dt.date.fromisoformat(e.value)
            except ValueError:
                self.fail("bad-date", f"{e.value} is not a date", e.span)
            return ir.K(e.value)
        if isinstance(e, A.FieldRef):
            return self.field_ref(e, frames)
        if isinstance(e, A.BinOp):
            left = self.term(e.left, frames)
            r = e.right
            sign = "add" if e.op == "+" else "sub"
            if isinstance(r, A.Duration):
                return ir.Fn(f"{sign}_{r.unit}", (left, ir.K(r.amount)))
            if isinstance(r, A.Name) and r.name in self.c.params and self.c.params[r.name].kind == "duration":
                self.params.add(r.name)
                d = self.c.params[r.name].value
                return ir.Fn(f"{sign}_{d.unit}", (left, ir.K(d.amount)))
            return ir.Fn("plus" if e.op == "+" else "minus", (left, self.term(r, frames)))
        if isinstance(e, A.Call):
            arity = USER_FUNCTIONS.get(e.name)
            if arity is None:
                self.fail("unknown-function", f"unknown function {e.name!r}", e.span,
                          self.c.suggest(e.name, USER_FUNCTIONS) or "functions: " + ", ".join(USER_FUNCTIONS))
                return ir.K(0)
            ok = len(e.args) in arity if isinstance(arity, tuple) else len(e.args) == arity
            if not ok:
                self.fail("arity", f"{e.name} takes {arity} arguments, given {len(e.args)}", e.span)
            return ir.Fn(e.name, tuple(self.term(a, frames) for a in e.args))
        if isinstance(e, A.Duration):
            self.fail("bad-type", "a duration only makes sense added to or subtracted from a date", e.span)
            return ir.K(0)
        self.fail("syntax", "unsupported expression", getattr(e, "span", None))
        return ir.K(0)

    def simple(self, e, frames):
        """Lower to a V or K, binding computed values to fresh variables."""
        t = self.term(e, frames)
        if isinstance(t, ir.Fn):
            v = ir.V(self.c.fresh("Val"))
            self.constraints.append((ir.Cmp("=", v, t), getattr(e, "span", None)))
            return v
        return t

    # ---- literals
    def lower(self, lit, frames):
        if isinstance(lit, A.Atom):
            return self.atom(lit, frames)
        if isinstance(lit, A.Compare):
            l, r = lit.left, lit.right
            if lit.op == "=" and isinstance(l, A.FieldRef) and isinstance(r, (A.Var, A.Name, A.Str, A.Int, A.DateLit)) \
                    and not (isinstance(r, A.Name) and r.name == "as_of"):
                self.field_ref(l, frames, target=self.simple(r, frames))
                return
            if lit.op == "=" and isinstance(r, A.FieldRef) and isinstance(l, (A.Var, A.Name, A.Str, A.Int, A.DateLit)) \
                    and not (isinstance(l, A.Name) and l.name == "as_of"):
                self.field_ref(r, frames, target=self.simple(l, frames))
                return
            lt, rt = self.term(l, frames), self.term(r, frames)
            self.constraints.append((ir.Cmp(lit.op, lt, rt), lit.span))
            return
        if isinstance(lit, A.InSet):
            vals = []
            for o in lit.options:
                t = self.term(o, frames)
                if not isinstance(t, ir.K):
                    self.fail("bad-type", "the options of `in {...}` must be constants", getattr(o, "span", lit.span))
                    return
                vals.append(t.value)
            rel = self.c.set_relation(tuple(vals))
            self.pos.append((ir.Pos(rel, (self.simple(lit.item, frames),)), frames))
            return
        if isinstance(lit, A.InField):
            self.field_ref(lit.field, frames, target=self.simple(lit.item, frames))
            return
        if isinstance(lit, A.Presence):
            if lit.present:
                self.field_ref(lit.field, frames, target=ir.V(self.c.fresh("Any")))
                return
            owner, kind = self.field_parts(lit.field, frames)
            if kind is None:
                return
            fname = lit.field.path[-1]
            if fname not in kind.fields:
                self.fail("unknown-field", f"kind {kind.name!r} has no field {fname!r}", lit.field.span,
                          self.c.suggest(fname, kind.fields))
                return
            # an absent field is a negated atom, placed with the negations
            self.absent.append((ir.Neg((ir.Pos(kind.field_rel(fname), (owner, ir.V(self.c.fresh("Any")))),)),
                                lit.span, owner, kind, fname, frames))
            return
        if isinstance(lit, A.Atom):
            return self.atom(lit, frames)
        self.fail("syntax", "unsupported condition", getattr(lit, "span", None))

    def atom(self, a: A.Atom, frames):
        c = self.c
        k = c.vocab.by_singular(a.name)
        if k is not None:
            if len(a.args) != 1:
                self.fail("arity", f"{a.name}(X) takes one argument, the record", a.span)
                return
            self.pos.append((ir.Pos(k.rel(), (self.simple(a.args[0], frames),)), frames))
            return
        if a.name in BUILTIN_RELATIONS:
            arity = BUILTIN_RELATIONS[a.name][0]
            if len(a.args) != arity:
                self.fail("arity", f"{a.name} takes {arity} arguments, given {len(a.args)}", a.span)
                return
            self.pos.append((ir.Pos(a.name, tuple(self.simple(x, frames) for x in a.args)), frames))
            return
        if a.name in c.recursive:
            n = len(c.helpers[a.name].params)
            if len(a.args) != n:
                self.fail("arity", f"{a.name} takes {n} arguments, given {len(a.args)}", a.span)
                return
            self.pos.append((ir.Pos("pred:" + a.name, tuple(self.simple(x, frames) for x in a.args)), frames))
            return
        known = set(c.helpers) | set(BUILTIN_RELATIONS) | {kk.singular for kk in c.vocab.kinds.values()}
        self.fail("unknown-predicate", f"unknown predicate {a.name!r}", a.span,
                  c.suggest(a.name, known) or "predicates are record kinds (appointment(X)), helpers declared with "
                  "`predicate`, and the calendar (quarter, calendar_year)")


def _unique(diags):
    """A literal lowered in several alternatives reports its problem once."""
    seen, out = set(), []
    for d in diags:
        k = (d.code, d.message, str(d.location))
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out


def compile_rulebook(path: str, display: str | None = None, use_cache: bool = True) -> Rulebook:
    """Compile the rulebook folder at `path`; raises InputError with every diagnostic.

    An unchanged rulebook comes from the cache of compiled rulebooks (checker.rulecache; TORCHECK_NO_CACHE=1
    or use_cache=False bypasses it); only a successful compile is stored, so a rulebook with a problem is
    reported every time.
    """
    from . import rulecache
    from .model import InputError

    rb, token = rulecache.load(path, display) if use_cache else (None, None)
    if rb is not None:
        return rb
    comp = Compiler(path, display)
    try:
        rb = comp.compile()
    except _Abort:
        raise InputError(_unique(comp.diags))
    if comp.diags:
        raise InputError(_unique(comp.diags))
    rulecache.store(token, rb)
    return rb
