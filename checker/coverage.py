"""The coverage view: every paragraph of the ToR with its status.

A paragraph or sub-item is *encoded* when a rule cites it (a chapeau, such as
10 or Annex I.4, when a rule cites one of its parts); otherwise the rulebook
declares it *data* or *not computable*, with a reason. The compiler rejects a
rulebook that leaves a paragraph without a status.
"""
from __future__ import annotations

import json


def parts_of(clause: str, cite: str) -> bool:
    """Is `cite` the clause itself or one of its parts ("10" -> "10(a)", "Annex I.4" -> "Annex I.4, bullet 2")?"""
    return cite == clause or cite.startswith(clause + "(") or cite.startswith(clause + ",")


def encoding_rules(rules, clause: str) -> list[str]:
    return [r.info.id for r in rules if parts_of(clause, r.info.cite) or r.info.clause == clause and r.info.cite == clause]


def coverage(rb) -> list[dict]:
    out = []
    for cid, _ in rb.clauses:
        rules = [r for r in rb.rules if parts_of(cid, r.info.cite)]
        if rules:
            notes = []
            for r in rules:
                for n in r.info.notes:
                    if n not in notes:
                        notes.append(n)
            out.append({"clause": cid, "status": "encoded", "rules": [r.info.id for r in rules],
                        "reason": None, "notes": notes})
            continue
        d = rb.coverage.get(cid)
        if d is not None:
            out.append({"clause": cid, "status": d.status, "rules": [], "reason": d.reason, "notes": []})
    return out


def render_json(entries) -> str:
    return json.dumps({"clauses": entries}, ensure_ascii=False, indent=2) + "\n"


_LABEL = {"encoded": "encoded", "data": "data", "not_computable": "not computable"}


def render_text(rb, entries) -> str:
    texts = rb.clause_texts()
    lines = [f"Coverage of the ToR by the {rb.name} rulebook", ""]
    counts = {}
    for e in entries:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
        lines.append(f"{e['clause']:<22} {_LABEL[e['status']]}")
        t = texts.get(e["clause"], "")
        if t:
            short = t if len(t) <= 110 else t[:107].rstrip() + "..."
            lines.append(f"    ToR: {short}")
        if e["rules"]:
            lines.append("    rules: " + ", ".join(e["rules"]))
        if e["reason"]:
            lines.append("    reason: " + e["reason"])
        for n in e["notes"]:
            lines.append("    note: " + n)
        lines.append("")
    total = len(entries)
    lines.append(f"{total} paragraphs and sub-items: " + ", ".join(
        f"{counts.get(s, 0)} {_LABEL[s]}" for s in ("encoded", "data", "not_computable")))
    return "\n".join(lines) + "\n"
