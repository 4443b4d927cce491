"""Stage 4: evaluate a compiled rulebook on a registry and build the report.

The engine answers, for each rule alternative, rows that bind every variable
of the alternative's positive body (the witnesses). From those bindings this
module renders the violation's message and its explanation, so the
explanation is the same whatever engine produced the rows.
"""
from __future__ import annotations

import copy
import json
import operator
import re
from dataclasses import dataclass, field

from . import calendar, dates, ir
from .compile import AS_OF_REL, BUILTIN_RELATIONS, Rulebook
from .engines import get_engine, sort_rows
from .model import SEVERITY_RANK, Report, Violation
from .registry import Registry, facts as registry_facts

def calendar_facts(all_facts: dict, as_of: str, program, through: str | None = None) -> dict:
    """The engine-provided relations: as_of, and the quarters and years the rules can ask about
    (checker.calendar: the calendar every command shares)."""
    return {AS_OF_REL: [(as_of,)], **calendar.rows(calendar.calendar_years(all_facts, as_of, program, through))}


@dataclass
class Evaluation:
    rulebook: Rulebook
    registry: Registry
    as_of: str
    facts: dict
    provenance: dict
    engine: object
    _rows: dict = field(default_factory=dict, repr=False, compare=False)  # rows, indexes and proofs, for proofs

    def report(self, violations=None) -> Report:
        vs = self.violations() if violations is None else violations
        return Report(
            as_of=self.as_of,
            rulebook=self.rulebook.name,
            violations=tuple(vs),
            rules=tuple(r.info for r in self.rulebook.rules),
            records=len(self.registry.records),
            clause_texts=self.rulebook.clause_texts(),
        )

    def violations(self, unexplained=frozenset()) -> list[Violation]:
        """Every violation, in the canonical order, explained; those whose key() is in `unexplained` get
        no explanation (what-if leaves out the violations it will not show)."""
        rb = self.rulebook
        out: dict[tuple, dict] = {}
        for rule in rb.rules:
            for alt in rule.alternatives:
                for row in sort_rows(self.engine.query(alt.head)):  # the witnesses in a canonical order
                    b = dict(zip(alt.head_vars, row))
                    record = str(b[rule.record_var])
                    sev = rule.severity[1] if rule.severity[0] == "const" else str(b[rule.severity[1]])
                    message = render_template(rule.message, b)
                    key = (rule.info.id, record, message)
                    nodes = [] if key in unexplained else self.explain(alt, b)
                    slot = out.get(key)
                    if slot is None:
                        out[key] = {"rule": rule, "severity": sev, "nodes": nodes, "record": record,
                                    "message": message}
                    else:
                        if SEVERITY_RANK.get(sev, 0) > SEVERITY_RANK.get(slot["severity"], 0):
                            slot["severity"] = sev
                        slot["nodes"] = _merge(slot["nodes"], nodes)
        order = rb.clause_order()
        vs = []
        for (rid, record, message), s in out.items():
            rule = s["rule"]
            rec = self.registry.records.get(record)
            vs.append(Violation(
                rule=rid, clause=rule.info.clause, severity=s["severity"], record=record, message=message,
                because=tuple(s["nodes"]), location=rec.location if rec is not None else None,
            ))
        rule_order = {r.info.id: i for i, r in enumerate(rb.rules)}
        vs.sort(key=lambda v: (order.get(v.clause, len(order)), rule_order[v.rule], v.record, v.message))
        return vs

    # ---- explanations
    def explain(self, alt, b: dict) -> list:
        """The `because` nodes of one witness row, nested by the helper predicates used."""
        root: list = []
        holders: dict = {}

        def container(frames):
            cur = root
            path = ()
            for fr in frames:
                path = path + (id(fr),)
                node = holders.get(path)
                if node is None:
                    node = {"holds": _frame_text(fr, b), "because": []}
                    holders[path] = node
                    cur.append(node)
                cur = node["because"]
            return cur

        mentioned = set()
        for e in alt.explain:
            if e.kind == "fact" and len(e.lit.args) == 2:
                mentioned.add(_val(e.lit.args[0], b))
        for e in alt.explain:
            if e.kind == "fact":
                node = self._fact_node(e.lit, b, mentioned)
                if node is not None:
                    container(e.frames).append(node)
            elif e.kind == "rel":
                vals = tuple(_val(a, b) for a in e.lit.args)
                container(e.frames).append({"holds": self._rel_text(e.lit, b),
                                            "because": self._proof(e.lit.rel, vals)})
            elif e.kind == "absent":
                desc, auto, _ = e.lit
                text = render_template(desc or auto, b)
                container(e.frames).append({"absent": self._as_of_words(text)})
        for name in alt.params:
            p = self.rulebook.params[name]
            root.append({"param": name, "value": p.text})
        return _dedupe(root)

    def _fact_node(self, lit: ir.Pos, b, mentioned, row=None):
        row = tuple(_val(a, b) for a in lit.args) if row is None else row
        src = self.provenance.get((lit.rel, row))
        vocab = self.rulebook.vocabulary
        if len(row) == 1:
            if row[0] in mentioned:
                return None
            text = f"{lit.rel} {row[0]} is in the registry"
        else:
            kind_name, _, fname = lit.rel.partition(".")
            kind = vocab.by_singular(kind_name)
            f = kind.fields.get(fname) if kind else None
            phrase = (f.phrase if f is not None and f.phrase else "has " + fname.replace("_", " "))
            text = f"{kind_name} {row[0]} {phrase} {row[1]}"
            rec = self.registry.records.get(row[0])
            if f is not None and f.default is not None and rec is not None and fname not in rec.field_locations:
                # not written in the file: say so, and point at the field the value comes from
                if kind is not None and f.default in kind.fields:
                    text += f": {fname} not given, taken from {f.default}"
                    src = rec.field_locations.get(f.default, src)
                else:
                    text += f": {fname} not given, {f.default} by default"
        node = {"fact": text}
        if src is not None:
            node["source"] = str(src)
        return node

    def _rel_text(self, lit: ir.Pos, b, vals=None):
        vals = [_val(a, b) for a in lit.args] if vals is None else list(vals)
        if lit.rel == "quarter":
            return f"{vals[0]} runs from {vals[1]} to {dates.sub_days(vals[2], 1)}"
        if lit.rel == "calendar_year":
            return f"{vals[0]} runs from {vals[1]} to {dates.sub_days(vals[2], 1)}"
        name = lit.rel[5:] if lit.rel.startswith("pred:") else lit.rel
        p = self.rulebook.helpers.get(name)
        if p is not None and p.template:
            return render_template(p.template, {v: val for (v, _), val in zip(p.params, vals)})
        return f"{name}(" + ", ".join(str(v) for v in vals) + ")"

    def _as_of_words(self, text: str) -> str:
        """A description that names the as-of date by keyword gets the date itself."""
        return re.sub(r"\bas_of\b", f"{self.as_of} (the as-of date)", text)

    # ---- proofs of recursive helpers
    #
    # A recursive helper is not expanded in place; the engine only says that a
    # conclusion holds. Its grounds are found here, engine-neutrally, by
    # solving the helper's rules top-down against the facts (and the engine's
    # answers for recursive relations): the first proof in the rules' order
    # that does not rest on itself, its facts listed, a step through the same
    # helper spliced in, so a merged period lists every record that makes it up.

    _PROOF_BUDGET = 20000  # solver steps per conclusion; beyond it the conclusion stands alone

    def _proof(self, rel: str, vals: tuple) -> list:
        if not rel.startswith("pred:") or rel not in self.rulebook.program.relations:
            return []
        key = ("proof", rel, tuple(vals))  # a conclusion's proof, found from no context: the same every time
        if key not in self._rows:
            budget = [self._PROOF_BUDGET]
            self._rows[key] = _dedupe(self._prove(rel, tuple(vals), (), budget) or [])
        return copy.deepcopy(self._rows[key])  # nodes are never shared between violations

    def _prove(self, rel, goal, stack, budget):
        """Nodes of the first proof of rel(goal) that avoids the goals on `stack`, or None."""
        stack = stack + ((rel, goal),)
        for rule in self.rulebook.program.rules:
            if rule.head != rel:
                continue
            b = _unify(rule.args, goal, {})
            if b is None:
                continue
            for sol in self._solve(rule.body, b, budget):
                nodes = self._proof_nodes(rel, rule.body, sol, stack, budget)
                if nodes is not None:
                    return nodes
                if budget[0] <= 0:
                    return None
        return None

    def _proof_nodes(self, rel, body, b, stack, budget):
        mentioned = {_val(l.args[0], b) for l in body
                     if isinstance(l, ir.Pos) and len(l.args) == 2 and "." in l.rel}
        out = []
        for lit in body:
            if isinstance(lit, ir.Pos):
                row = tuple(_val(a, b) for a in lit.args)
                if lit.rel.startswith("pred:"):
                    if (lit.rel, row) in stack:
                        return None
                    sub = self._prove(lit.rel, row, stack, budget)
                    if sub is None:
                        return None
                    if lit.rel == rel:
                        out.extend(sub)  # a step of the same helper: its grounds join these
                    else:
                        out.append({"holds": self._rel_text(lit, b, row), "because": sub})
                elif lit.rel in BUILTIN_RELATIONS:
                    out.append({"holds": self._rel_text(lit, b, row), "because": []})
                elif self._is_registry_rel(lit.rel):
                    node = self._fact_node(lit, b, mentioned, row)
                    if node is not None:
                        out.append(node)
            elif isinstance(lit, ir.Neg) and len(lit.body) == 1 and isinstance(lit.body[0], ir.Pos) \
                    and "." in lit.body[0].rel:
                # an absent field ("no end of appointment a-1"); other negated conditions of a
                # recursive helper (where a period begins) are said by the conclusion's own sentence
                kind_name, _, fname = lit.body[0].rel.partition(".")
                out.append({"absent": f"{fname} of {kind_name} {_val(lit.body[0].args[0], b)}"})
        return out

    def _is_registry_rel(self, rel: str) -> bool:
        """A relation filled from the registry: a kind (`centre`) or a field (`centre.partner`)."""
        return self.rulebook.vocabulary.by_singular(rel.partition(".")[0]) is not None

    def _rows_of(self, rel, args, b):
        """The rows of rel that agree with the bound arguments, in their stored order (indexed)."""
        bound = tuple(i for i, a in enumerate(args)
                      if isinstance(a, ir.K) or (isinstance(a, ir.V) and a.name in b))
        index = self._rows.get((rel, bound))
        if index is None:
            rows = self._rows.get(rel)
            if rows is None:
                if rel in self.facts:
                    rows = list(self.facts[rel])
                elif rel in self.rulebook.program.static_facts:
                    rows = list(self.rulebook.program.static_facts[rel])
                else:
                    rows = sort_rows(self.engine.query(rel))
                self._rows[rel] = rows
            if not bound:
                return rows
            # keyed by the bound value itself when one argument is bound, by the tuple of them otherwise
            key = operator.itemgetter(*bound)
            index = {}
            for row in rows:
                k = key(row)
                found = index.get(k)
                if found is None:
                    index[k] = [row]
                else:
                    found.append(row)
            self._rows[(rel, bound)] = index
        if len(bound) == 1:
            return index.get(_eval(args[bound[0]], b), ())
        return index.get(tuple(_eval(args[i], b) for i in bound), ())

    def _solve(self, body, b, budget, outer=None):
        """Every binding that satisfies a body, extending b. The literal solved next is the
        cheapest one ready (a test whose inputs are bound, else the atom with the fewest
        unbound arguments), so a proof never scans a kind the engine's order would join late;
        the choice depends on the body and the bindings only, so the first proof is canonical."""
        budget[0] -= 1
        if budget[0] <= 0:
            return
        if not body:
            yield b
            return
        if outer is None:  # the variables shared with a negation: bound outside it
            outer = set(b).union(*(ir.literal_vars(x) for x in body if not isinstance(x, ir.Neg)))
        i = self._next_literal(body, b, outer)
        lit, rest = body[i], body[:i] + body[i + 1:]
        if isinstance(lit, ir.Pos):
            for row in self._rows_of(lit.rel, lit.args, b):
                b2 = _unify(lit.args, row, b)
                if b2 is not None:
                    yield from self._solve(rest, b2, budget, outer)
        elif isinstance(lit, ir.Let):
            v = _eval(lit.expr, b)
            if lit.var.name in b and b[lit.var.name] != v:
                return
            yield from self._solve(rest, {**b, lit.var.name: v}, budget, outer)
        elif isinstance(lit, ir.Cmp):
            if _compare(lit.op, _eval(lit.left, b), _eval(lit.right, b)):
                yield from self._solve(rest, b, budget, outer)
        elif isinstance(lit, ir.Neg):
            if next(iter(self._solve(lit.body, b, budget)), None) is None:
                yield from self._solve(rest, b, budget, outer)

    def _next_literal(self, body, b, outer) -> int:
        """The index of the literal to solve next: a test whose inputs are bound, then a
        negation whose shared variables are, then the atom with the fewest matching rows."""
        best, best_score = 0, None
        for i, lit in enumerate(body):
            if isinstance(lit, ir.Cmp):
                score = (0, 0) if ir.literal_vars(lit) <= b.keys() else None
            elif isinstance(lit, ir.Let):
                score = (0, 0) if ir.term_vars(lit.expr) <= b.keys() else None
            elif isinstance(lit, ir.Neg):
                score = (1, 0) if (ir.literal_vars(lit) & outer) <= b.keys() else None
            else:
                score = (2, len(self._rows_of(lit.rel, lit.args, b)))
            if score is not None and (best_score is None or score < best_score):
                best, best_score = i, score
        return best


def _unify(args, row, b):
    if len(args) != len(row):
        return None
    out = dict(b)
    for a, v in zip(args, row):
        if isinstance(a, ir.V):
            if a.name in out:
                if out[a.name] != v:
                    return None
            else:
                out[a.name] = v
        elif isinstance(a, ir.K):
            if a.value != v:
                return None
        else:
            return None
    return out


def _eval(t, b):
    if isinstance(t, ir.V):
        return b[t.name]
    if isinstance(t, ir.K):
        return t.value
    if isinstance(t, ir.Fn):
        return dates.FUNCTIONS[t.name](*(_eval(a, b) for a in t.args))
    raise TypeError(t)


_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


def _compare(op, x, y):
    try:
        return _COMPARE[op](x, y)
    except TypeError:  # a date against a number: never true, as in the engines
        return False


def _val(t, b):
    if isinstance(t, ir.V):
        return b.get(t.name)
    if isinstance(t, ir.K):
        return t.value
    return None


def _frame_text(fr, b):
    vals = {}
    for p, a in zip(fr.params, fr.args):
        if hasattr(a, "name") and type(a).__name__ == "Var":
            vals[p] = b.get(a.name, "?")
        else:
            vals[p] = getattr(a, "value", getattr(a, "name", "?"))
    if fr.template:
        return render_template(fr.template, vals)
    return f"{fr.pred}(" + ", ".join(str(vals[p]) for p in fr.params) + ")"


def render_template(template: str, values: dict) -> str:
    def rep(m):
        v = values.get(m.group(1))
        return m.group(0) if v is None else str(v)

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_$]*)\}", rep, template)


def _key(node):
    return json.dumps(node, sort_keys=True, ensure_ascii=False)


def _dedupe(nodes):
    seen, out = set(), []
    for n in nodes:
        if "because" in n:
            n = {**n, "because": _dedupe(n["because"])}
        k = _key(n)
        if k not in seen:
            seen.add(k)
            out.append(n)
    return out


def _merge(a, b):
    """Several witnesses of one violation: every node of each, once, params last.

    A conclusion the next witness reaches on other grounds ("o-x is a partner",
    through another partnership) is listed after the same conclusion of the
    witnesses before, so the alternatives stand side by side."""
    merged = [n for n in a if "param" not in n]
    seen = {_key(n) for n in a}
    for n in b:
        if "param" in n or _key(n) in seen:
            continue
        seen.add(_key(n))
        same = [i for i, m in enumerate(merged) if "holds" in n and m.get("holds") == n["holds"]]
        merged.insert(same[-1] + 1 if same else len(merged), n)
    params = _dedupe([n for n in list(a) + list(b) if "param" in n])
    return merged + params


def evaluate(rulebook: Rulebook, registry: Registry, as_of: str, engine: str = "pydatalog",
             through: str | None = None) -> Evaluation:
    """through: the calendar reaches that day's year too (upcoming's window)."""
    facts, provenance = registry_facts(registry, rulebook.vocabulary)
    all_facts = {rel: list(rows) for rel, rows in facts.items()}
    all_facts.update(calendar_facts(all_facts, as_of, rulebook.program, through))
    eng = get_engine(engine)(rulebook.program)
    eng.load(all_facts)
    return Evaluation(rulebook, registry, as_of, all_facts, provenance, eng)
