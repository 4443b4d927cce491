"""Stage 4: evaluate a compiled rulebook on a registry and build the report.

The engine answers, for each rule alternative, rows that bind every variable
of the alternative's positive body (the witnesses). From those bindings this
module renders the violation's message and its explanation, so the
explanation is the same whatever engine produced the rows.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from . import dates, ir
from .compile import AS_OF_REL, BUILTIN_RELATIONS, Rulebook
from .engines import get_engine
from .model import SEVERITY_RANK, Report, Violation
from .registry import Registry, facts as registry_facts

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def calendar_facts(all_facts: dict, as_of: str) -> dict:
    """The engine-provided relations: as_of, quarters and years over the registry's span."""
    years = {int(as_of[:4])}
    for rows in all_facts.values():
        for row in rows:
            for v in row:
                if isinstance(v, str) and _ISO.match(v):
                    years.add(int(v[:4]))
    lo, hi = min(years), max(years)
    return {
        AS_OF_REL: [(as_of,)],
        "quarter": list(dates.quarters(lo, hi)),
        "calendar_year": list(dates.years(lo, hi)),
    }


@dataclass
class Evaluation:
    rulebook: Rulebook
    registry: Registry
    as_of: str
    facts: dict
    provenance: dict
    engine: object

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

    def violations(self) -> list[Violation]:
        rb = self.rulebook
        out: dict[tuple, dict] = {}
        for rule in rb.rules:
            for alt in rule.alternatives:
                for row in self.engine.query(alt.head):
                    b = dict(zip(alt.head_vars, row))
                    record = str(b[rule.record_var])
                    sev = rule.severity[1] if rule.severity[0] == "const" else str(b[rule.severity[1]])
                    message = render_template(rule.message, b)
                    key = (rule.info.id, record, message)
                    nodes = self.explain(alt, b)
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
                container(e.frames).append({"holds": self._rel_text(e.lit, b), "because": []})
            elif e.kind == "absent":
                desc, auto, _ = e.lit
                text = render_template(desc or auto, b)
                container(e.frames).append({"absent": text})
        for name in alt.params:
            p = self.rulebook.params[name]
            root.append({"param": name, "value": p.text})
        return _dedupe(root)

    def _fact_node(self, lit: ir.Pos, b, mentioned):
        row = tuple(_val(a, b) for a in lit.args)
        src = self.provenance.get((lit.rel, row))
        vocab = self.rulebook.vocabulary
        if len(row) == 1:
            if row[0] in mentioned:
                return None
            text = f"{lit.rel} {row[0]}"
        else:
            kind_name, _, fname = lit.rel.partition(".")
            kind = vocab.by_singular(kind_name)
            f = kind.fields.get(fname) if kind else None
            phrase = (f.phrase if f is not None and f.phrase else "has " + fname.replace("_", " "))
            text = f"{kind_name} {row[0]} {phrase} {row[1]}"
        node = {"fact": text}
        if src is not None:
            node["source"] = str(src)
        return node

    def _rel_text(self, lit: ir.Pos, b):
        vals = [_val(a, b) for a in lit.args]
        if lit.rel == "quarter":
            return f"{vals[0]} runs from {vals[1]} to {dates.sub_days(vals[2], 1)}"
        if lit.rel == "calendar_year":
            return f"{vals[0]} runs from {vals[1]} to {dates.sub_days(vals[2], 1)}"
        name = lit.rel[5:] if lit.rel.startswith("pred:") else lit.rel
        p = self.rulebook.helpers.get(name)
        if p is not None and p.template:
            return render_template(p.template, {v: val for (v, _), val in zip(p.params, vals)})
        return f"{name}(" + ", ".join(str(v) for v in vals) + ")"


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
    """Several witnesses of one violation: every node of each, once, params last."""
    nodes = _dedupe(list(a) + list(b))
    return [n for n in nodes if "param" not in n] + [n for n in nodes if "param" in n]


def evaluate(rulebook: Rulebook, registry: Registry, as_of: str, engine: str = "pydatalog") -> Evaluation:
    facts, provenance = registry_facts(registry, rulebook.vocabulary)
    all_facts = {rel: list(rows) for rel, rows in facts.items()}
    all_facts.update(calendar_facts(all_facts, as_of))
    eng = get_engine(engine)(rulebook.program)
    eng.load(all_facts)
    return Evaluation(rulebook, registry, as_of, all_facts, provenance, eng)
