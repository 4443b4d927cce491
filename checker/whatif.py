"""What-if: the effect of a proposal (records added, removed, replaced) on the violations.

`what_if` evaluates the registry once, then applies the proposal to the same
engine: the rows that only the registry has are retracted, the rows that only
the proposed registry has are asserted (the calendar relations included, so a
proposal dated in a new year gets its quarters), and the rules are asked
again. A relation that reads none of the changed relations (directly or
through the rules it rests on) keeps the answer the engine gave before, so
only what the proposal can reach is computed again. `full=True` evaluates
the proposed registry from scratch instead; the two give the same answer, row
for row (tests/test_whatif.py holds them to it).

Violations are compared by rule, record and message (cli.md): what only the
proposed registry has is *introduced*, what only the registry has is
*resolved* (the violations of a removed record among them), what both have is
*unchanged*. Nothing is ever written: the proposal is read, never applied to
a file.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import calendar, ir
from .evaluate import Evaluation, calendar_facts, evaluate
from .model import SEVERITIES, Violation
from .registry import Registry, facts as registry_facts


@dataclass(frozen=True)
class WhatIf:
    as_of: str
    rulebook: str
    introduced: tuple[Violation, ...]  # check's canonical order
    resolved: tuple[Violation, ...]  # check's canonical order
    unchanged: int
    added: tuple[str, ...] = ()  # ids of the records the proposal adds (not replacing one)
    removed: tuple[str, ...] = ()  # ids it removes (not replaced)
    replaced: tuple[str, ...] = ()  # ids it removes and adds again

    def to_json(self) -> dict:
        """The JSON of cli.md, keys in its order."""
        return {
            "as_of": self.as_of,
            "introduced": [v.to_json() for v in self.introduced],
            "resolved": [v.to_json() for v in self.resolved],
            "unchanged": self.unchanged,
        }


def what_if(rulebook, registry: Registry, proposed: Registry, as_of: str, *,
            engine: str = "pydatalog", full: bool = False, before=None, remember=None, state=None) -> WhatIf:
    """Compare the violations of `registry` and `proposed` (the registry with the proposal applied).

    before: the registry's violations, when they are known already (a check's kept result,
    checker.memo): then only the proposed registry is evaluated, from `state` (the SQLite database
    kept with them) when there is one. Otherwise the registry is evaluated and `remember`, if given,
    is called with its violations. Either way only the violations the proposal introduces are
    explained again (the others are not shown).
    """
    if before is None:
        ev = evaluate_base(rulebook, registry, as_of, engine)
        before = ev.violations()
        if remember is not None:
            remember(before)
        after_ev = evaluate(rulebook, proposed, as_of, engine) if full else apply(ev, proposed)
    else:
        after_ev = from_state(rulebook, registry, proposed, as_of, state) if state is not None else None
        if after_ev is None:
            after_ev = evaluate(rulebook, proposed, as_of, engine)
    after = after_ev.violations(unexplained={v.key() for v in before})
    return compare(before, after, registry, proposed, as_of, rulebook.name)


class _Answers:
    """An engine that keeps its answers, and gives kept ones instead of asking again."""

    def __init__(self, engine, kept=None):
        self.engine = engine
        self.kept = dict(kept or {})
        self.answers = {}

    def query(self, rel):
        rows = self.kept.get(rel)
        if rows is None:
            rows = self.engine.query(rel)
        self.answers[rel] = rows
        return rows

    def load(self, facts):
        self.engine.load(facts)

    def retract(self, facts):
        self.engine.retract(facts)


def evaluate_base(rulebook, registry: Registry, as_of: str, engine: str = "pydatalog") -> Evaluation:
    """evaluate(), its engine keeping its answers for `apply`."""
    ev = evaluate(rulebook, registry, as_of, engine)
    return Evaluation(ev.rulebook, ev.registry, ev.as_of, ev.facts, ev.provenance, _Answers(ev.engine))


def reads(program) -> dict:
    """derived relation -> every relation its rows depend on (itself included), through the rules."""
    deps: dict = {}
    for rule in program.rules:
        deps.setdefault(rule.head, {rule.head}).update(rel for rel, _ in ir.relations_used(rule.body))
    grew = True
    while grew:  # to the fixed point: recursive helpers depend on themselves
        grew = False
        for rel, ds in deps.items():
            more = set().union(*(deps.get(d, ()) for d in ds)) - ds
            if more:
                ds |= more
                grew = True
    return deps


def apply(ev: Evaluation, proposed: Registry) -> Evaluation:
    """The evaluation of `proposed`, made by changing `ev`'s engine in place (`ev` is spent).

    The new evaluation's facts and provenance are exactly those a full
    evaluation of `proposed` builds (same rows, same order), so everything
    derived from them, explanations included, is the same too. When `ev`
    comes from `evaluate_base`, the answers it gave for relations the
    proposal cannot reach are given again without asking the engine.
    """
    facts, provenance = registry_facts(proposed, ev.rulebook.vocabulary)
    new = {rel: list(rows) for rel, rows in facts.items()}
    new.update(calendar_facts(new, ev.as_of, ev.rulebook.program))
    gone, come = {}, {}
    for rel in sorted(set(ev.facts) | set(new)):
        old_rows, new_rows = ev.facts.get(rel, ()), new.get(rel, ())
        old_set, new_set = set(old_rows), set(new_rows)
        out = [r for r in old_rows if r not in new_set]
        into = [r for r in new_rows if r not in old_set]
        if out:
            gone[rel] = out
        if into:
            come[rel] = into
    ev.engine.retract(gone)
    ev.engine.load(come)
    changed = set(gone) | set(come)
    answers = getattr(ev.engine, "answers", {})
    deps = reads(ev.rulebook.program) if answers else {}
    kept = {rel: rows for rel, rows in answers.items() if rel in deps and not deps[rel] & changed}
    engine = _Answers(getattr(ev.engine, "engine", ev.engine), kept)
    return Evaluation(ev.rulebook, proposed, ev.as_of, new, provenance, engine)


class _Lazy(Mapping):
    """A mapping made the first time it is read: the proposed registry's facts and their places are
    needed only to explain the violations a proposal introduces."""

    def __init__(self, make, part: int):
        self._make, self._part = make, part

    def _d(self):
        return self._make()[self._part]

    def __getitem__(self, k):
        return self._d()[k]

    def __iter__(self):
        return iter(self._d())

    def __len__(self):
        return len(self._d())


def from_state(rulebook, registry: Registry, proposed: Registry, as_of: str, state) -> Evaluation | None:
    """The evaluation of `proposed`, made from the SQLite database a check of `registry` kept (`state`).

    The facts of the records the proposal adds, removes or replaces are taken out of it and put in
    (every row of a record begins with its id, so a record's rows are its own), the calendar is
    widened if the proposal brings a date outside its years (checker.calendar), and only the strata
    that read a changed relation are computed again. The result is the same as evaluating `proposed`
    whole (tests hold them to it); None when it cannot be made so: the database unreadable or not
    this program's, the proposal taking away a date of the span's first or last year (which might
    narrow it) or of a year outside the span (which might leave the calendar), or a rulebook whose
    span is made of every relation's dates.
    """
    import sqlite3

    from .engines.sqlite import SQLiteEngine

    old, new = registry.records, proposed.records
    changed = [i for i in old if i not in new or new[i] != old[i]] + [i for i in new if i not in old]
    vocab = rulebook.vocabulary
    gone_f, _ = registry_facts(Registry(registry.path, {i: old[i] for i in changed if i in old}), vocab)
    come_f, _ = registry_facts(Registry(proposed.path, {i: new[i] for i in changed if i in new}), vocab)
    gone, come = {}, {}
    for rel in set(gone_f) | set(come_f):
        g, c = gone_f.get(rel, []), come_f.get(rel, [])
        gs, cs = set(g), set(c)
        if any(r not in cs for r in g):
            gone[rel] = [r for r in g if r not in cs]
        if any(r not in gs for r in c):
            come[rel] = [r for r in c if r not in gs]
    relations = calendar.calendar_relations(rulebook.program)  # the dates that make the span (checker.calendar)
    if relations is None:  # the span is every relation's dates: evaluated whole
        return None
    try:
        eng = SQLiteEngine.restore(rulebook.program, state)
        had = {y for (y,) in eng.db.execute(f"SELECT c0 FROM {eng.c.table['calendar_year']}")}
        lo, hi = calendar.span(_kept_years(eng, relations), as_of)  # the span of the registry checked
    except (sqlite3.Error, OSError, KeyError):
        return None
    if not had:
        return None
    keep = int(as_of[:4])  # the as-of date's year is always in the span
    if any((y <= lo or y >= hi) and y != keep for y in calendar.date_years(gone, relations)):  # might narrow:
        return None  # evaluated whole instead
    lo, hi = calendar.widen(lo, hi, calendar.date_years(come, relations))
    brought = calendar.date_years(come)
    if any(not lo <= y <= hi and y not in brought for y in calendar.date_years(gone)):
        return None  # a year kept for its dates alone might have lost its last one: evaluated whole instead
    extra = (set(range(lo, hi + 1)) | calendar.clamp(brought)) - had
    for rel, rows in calendar.rows(extra).items():
        if rows:
            come[rel] = rows
    eng.retract(gone)
    eng.load(come)
    made = []

    def make():
        if not made:
            f, prov = registry_facts(proposed, vocab)
            all_facts = {rel: list(rows) for rel, rows in f.items()}
            all_facts.update(calendar_facts(all_facts, as_of, rulebook.program))
            made.append((all_facts, prov))
        return made[0]

    return Evaluation(rulebook, proposed, as_of, _Lazy(make, 0), _Lazy(make, 1), eng)


def _kept_years(eng, relations) -> set[int]:
    """The years of the dates in a kept database's tables of `relations` (as calendar.date_years finds them)."""
    found = {}
    for rel in sorted(relations):
        table = eng.c.table[rel]
        for i in range(eng.program.relations[rel]):
            c = f"c{i}"
            found[(rel, i)] = [row for row in eng.db.execute(
                f"SELECT DISTINCT {c} FROM {table} WHERE typeof({c}) = 'text' AND length({c}) BETWEEN 10 AND 11 "
                f"AND substr({c}, 5, 1) = '-'")]
    return calendar.date_years(found)


def compare(before, after, registry: Registry, proposed: Registry, as_of: str, rulebook: str) -> WhatIf:
    after_keys = {v.key() for v in after}
    before_keys = {v.key() for v in before}
    old, new = registry.records, proposed.records
    return WhatIf(
        as_of=as_of,
        rulebook=rulebook,
        introduced=tuple(v for v in after if v.key() not in before_keys),
        resolved=tuple(v for v in before if v.key() not in after_keys),
        unchanged=len(before_keys & after_keys),
        added=tuple(i for i in new if i not in old),
        removed=tuple(i for i in old if i not in new),
        replaced=tuple(i for i in new if i in old and new[i] != old[i]),
    )


# ====================================================================== rendering


def _counts(vs) -> str:
    n = {s: 0 for s in SEVERITIES}
    for v in vs:
        n[v.severity] += 1
    return ", ".join(f"{n[s]} {s}" + ("" if n[s] == 1 else "s") for s in SEVERITIES)


_SHOWN_IDS = 12  # a large proposal names its first records, then how many more


def _ids(ids, fmt=str) -> str:
    shown = ", ".join(fmt(i) for i in ids[:_SHOWN_IDS])
    return shown + (f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else "")


def _proposal_words(w: WhatIf) -> list[str]:
    out = []
    for verb, ids in (("adds", w.added), ("replaces", w.replaced), ("removes", w.removed)):
        if ids:
            out.append(f"{verb} {_plural(len(ids), 'record')} ({_ids(ids)})")
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_sentence(w: WhatIf) -> str:
    """ "1 introduced (1 error, 0 warnings, 0 notices), 2 resolved, 6 unchanged" """
    intro = f"{len(w.introduced)} introduced"
    if w.introduced:
        intro += f" ({_counts(w.introduced)})"
    return f"{intro}, {len(w.resolved)} resolved, {w.unchanged} unchanged"


def render_json(w: WhatIf) -> str:
    import json

    return json.dumps(w.to_json(), ensure_ascii=False, indent=2) + "\n"


def render_text(w: WhatIf) -> str:
    """A diff of the violations: `+` introduced, `-` resolved, each with its reason."""
    from .render import explain

    lines = [f"torcheck what-if: {w.rulebook} rulebook, as of {w.as_of}"]
    words = _proposal_words(w)
    lines.append("the proposal " + ("; ".join(words) if words else "changes no record"))
    lines.append("")
    for sign, vs in (("+", w.introduced), ("-", w.resolved)):
        for v in vs:
            head = [f"{v.severity:<7}", f"ToR {v.clause}", v.rule, v.record]
            if v.location is not None:
                head.append(str(v.location))
            lines.append(f"{sign} " + "  ".join(head))
            lines.append(f"{sign}     {_one_line(v.message)}")
            if v.because:
                lines.append(f"{sign}     why: {_one_line(explain.reason(v.because))}")
    if w.introduced or w.resolved:
        lines.append("")
    lines.append(summary_sentence(w))
    return "\n".join(lines) + "\n"


def render_markdown(w: WhatIf) -> str:
    """A decision note: what the proposal changes, then each violation it introduces or resolves."""
    from .render import explain
    from .render.markdown import code, line_start, text

    if w.introduced:
        verdict = (f"**Not compliant as proposed:** the proposal introduces {_plural(len(w.introduced), 'violation')} "
                   f"({_counts(w.introduced)})")
    else:
        verdict = "**No new violation:** the proposal introduces none"
    verdict += f", resolves {len(w.resolved)} and leaves {w.unchanged} unchanged."
    out = [f"# What-if: a proposal against the {text(w.rulebook)} rulebook, as of {text(w.as_of)}", "", verdict, "",
           "## The proposal", ""]
    words = []
    for verb, ids in (("Adds", w.added), ("Replaces", w.replaced), ("Removes", w.removed)):
        if ids:
            words.append(f"- {verb} " + _ids(ids, code))
    out += words or ["- Changes no record"]
    for title, vs in (("Introduced", w.introduced), ("Resolved", w.resolved)):
        out += ["", f"## {title} ({len(vs)})", ""]
        if not vs:
            out.append("None.")
        for v in vs:
            where = f" at {code(v.location)}" if v.location is not None else ""
            out.append(f"- **{text(v.severity)}** ToR {text(v.clause)}, {code(v.rule)}: {code(v.record)}{where}: "
                       f"{text(v.message)}")
            for depth, node in explain.walk(v.because):
                if explain.kind(node) == "param":
                    s = f"parameter {code(node['param'])} = {text(node.get('value'))}"
                else:
                    src = explain.source(node)
                    s = line_start(text(explain.phrase(node))) + (f" ({code(src)})" if src else "")
                out.append("  " * (depth + 1) + "- " + s)
    out.append("")
    return "\n".join(out)


def _one_line(s: str) -> str:
    return " ".join(s.split())


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
