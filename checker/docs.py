"""The rulebook as a static site: the ToR paragraph by paragraph, beside the rules that encode it.

`build_site(rb, cases, outcomes)` returns the site as {relative path: HTML};
`write_site` writes it. Pages:

  index.html          every paragraph of the ToR in its Russian original, beside
                      its rules (summary, modality, severity, notes, parameters,
                      the rule's source) or its coverage status and reason; a
                      search box over clause ids, rule ids and text
  clauses/<slug>.html one page per paragraph or sub-item
  rules/<id>.html     one page per rule: the ToR text with the quoted words
                      marked, everything the rule declares, its source, the
                      helpers and parameters it rests on, what falls due, and
                      its test cases as examples
  coverage.html       the coverage table
  definitions.html    parameters and helper predicates

The pages are Jinja2 templates, checker/render/templates/site/ (one per page,
base.html.j2 the frame, macros.html.j2 the shared pieces, site.css and
search.js the style and the search), autoescaped: this module gathers the
values each page shows and the templates lay them out, so the site can be
restyled without touching Python. The site needs no network and works from
file://: styles and scripts are inlined, the search index is a JSON block in
index.html. Rule sources are highlighted here, at build time, from the
language's own tokens (checker.fmt).
Output is deterministic: the same rulebook and cases give the same bytes, and
nothing depends on where the rulebook lies (paths are shown as
`<rulebook>/<file>`). `render(report, "html", docs_base=...)` links the html
check report's rule ids to `<docs_base>/rules/<id>.html`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote as urlquote

from lark import Token
from markupsafe import Markup

from . import ast as A
from . import __version__
from .coverage import coverage as coverage_entries
from .coverage import parts_of
from .fmt import lossless_parse
from .lint import names_used, predicates_called
from .parse import parse_text
from .render.templating import render as render_template

STATUS_LABEL = {"encoded": "Encoded", "data": "Data", "not_computable": "Not computable"}
STATUS_HELP = {
    "data": "The registry itself carries what this paragraph says.",
    "not_computable": "No state of a registry can breach this paragraph.",
}
MODALITY_LABEL = {
    "obligation": "obligation (must)",
    "prohibition": "prohibition (may not)",
    "recommendation": "recommendation (should)",
    "permission": "permission (may)",
    "exclusive_permission": "permission read as exclusive (only … may)",
}
KIND_ORDER = ("violating", "near miss", "boundary")
KIND_LABEL = {"violating": "Violating", "near miss": "Near miss", "boundary": "Boundary"}


# ====================================================================== the model of the site


@dataclass
class Decl:
    """A declaration of the rulebook with its place: file (shown), first and last line."""

    node: object
    file: str
    line: int
    end_line: int


@dataclass
class SiteData:
    rb: object
    decls: dict = field(default_factory=dict)  # ("rule"|"predicate"|"parameter"|"deadline", name) -> Decl
    highlighted: dict = field(default_factory=dict)  # file -> list of html lines
    raw_lines: dict = field(default_factory=dict)  # file -> list of text lines
    cases: dict = field(default_factory=dict)  # rule id -> [(Case, Outcome|None)]
    slugs: dict = field(default_factory=dict)  # clause id -> slug
    direct: dict = field(default_factory=dict)  # clause id -> [CompiledRule] shown at that clause
    coverage: dict = field(default_factory=dict)  # clause id -> coverage entry
    helpers_of: dict = field(default_factory=dict)  # rule id -> [helper names], in the order of first use
    params_of: dict = field(default_factory=dict)  # rule id -> [parameter names]
    rules_of_helper: dict = field(default_factory=dict)
    rules_of_param: dict = field(default_factory=dict)


def slug(clause: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", clause.lower()).strip("-") or "x"


def _shown(rb, path: str) -> str:
    """A rule file as `<rulebook>/<file>`, whatever folder the rulebook was read from."""
    prefix = rb.path.rstrip("/") + "/"
    rel = path[len(prefix):] if path.startswith(prefix) else path.rsplit("/", 1)[-1]
    return f"{rb.name}/{rel}"


def _gather(rb, cases, outcomes) -> SiteData:
    s = SiteData(rb)
    for path in sorted(rb.files):
        text = rb.files[path]
        shown = _shown(rb, path)
        s.raw_lines[shown] = text.splitlines()
        s.highlighted[shown] = highlight(text)
        tree, _ = parse_text(text, shown)
        for it in tree.items if tree is not None else ():
            key = None
            if isinstance(it, A.RuleDecl):
                key = ("rule", it.id)
            elif isinstance(it, A.PredDecl):
                key = ("predicate", it.name)
            elif isinstance(it, A.ParamDecl):
                key = ("parameter", it.name)
            elif isinstance(it, A.DeadlineDecl):
                key = ("deadline", it.id)
            if key is not None and key not in s.decls:
                s.decls[key] = Decl(it, shown, it.span.line, it.span.end_line or it.span.line)
    clause_ids = [c for c, _ in rb.clauses]
    used = set()
    for c in clause_ids:
        s.slugs[c] = slug(c) if slug(c) not in used else f"{slug(c)}-{len(used)}"
        used.add(s.slugs[c])
    for r in rb.rules:
        at = r.info.cite if r.info.cite in s.slugs else r.info.clause
        s.direct.setdefault(at, []).append(r)
    s.coverage = {e["clause"]: e for e in coverage_entries(rb)}
    by_case = {id(o.case): o for o in outcomes or ()}
    for c in cases:
        s.cases.setdefault(c.rule, []).append((c, by_case.get(id(c))))
    # helpers and parameters each rule rests on (through the helpers it calls)
    helpers = rb.helpers
    for r in rb.rules:
        d = s.decls.get(("rule", r.info.id))
        if d is None:
            continue
        order, todo = [], sorted(predicates_called(d.node.cond))
        names = set(names_used(d.node.cond))
        while todo:
            n = todo.pop(0)
            if n in order or n not in helpers:
                continue
            order.append(n)
            names |= names_used(helpers[n].cond)
            todo += sorted(predicates_called(helpers[n].cond))
        s.helpers_of[r.info.id] = sorted(order)
        s.params_of[r.info.id] = sorted(n for n in names if n in rb.params)
        for n in order:
            s.rules_of_helper.setdefault(n, []).append(r.info.id)
        for n in s.params_of[r.info.id]:
            s.rules_of_param.setdefault(n, []).append(r.info.id)
    return s


# ====================================================================== highlighting

_CLASS = {"STRING": "s", "LONG_STRING": "s", "COMMENT": "c", "VAR": "v", "INT": "n", "DATE": "n",
          "MONTHDAY": "n", "UNIT": "n", "RULE_ID": "i", "PRESENCE": "k", "KIND": "k", "LOGO": "k", "COMP": "o"}


def highlight(text: str) -> list[Markup]:
    """The rule file as HTML, one string per line, with spans for keywords, strings, comments, ...

    Markup built here, from escaped pieces of the source and fixed <span> tags:
    the token classes come from the language's own tokens (checker.fmt), which
    a template cannot reach; every piece of the file's text is escaped first."""
    try:
        tree, comments = lossless_parse(text)
    except Exception:  # a file that does not parse is shown plain (the compiler has reported it)
        return [Markup(escape(x)) for x in text.splitlines()]
    toks = sorted(list(tree.scan_values(lambda v: isinstance(v, Token))) + comments, key=lambda t: t.start_pos)
    out, pos = [], 0
    for k, t in enumerate(toks):
        out.append(escape(text[pos:t.start_pos]))
        value = str(t)
        cls = _CLASS.get(t.type)
        if t.type in ("KIND", "LOGO") and k > 0 and toks[k - 1].type == "DOT":
            cls = "m"  # a field named like a keyword: M.kind
        if cls is None:
            if t.type == "NAME":
                nxt = toks[k + 1] if k + 1 < len(toks) else None
                cls = "f" if nxt is not None and nxt.type == "LPAR" and nxt.start_pos == t.end_pos else "m"
            elif value.isalpha() and t.type == value.upper():
                cls = "k"  # a keyword of the language: rule, when, not, or, clause, ...
        if cls is None:
            out.append(escape(value))
        else:
            out.append("\n".join(f'<span class="{cls}">{escape(part)}</span>' if part else ""
                                 for part in value.split("\n")))
        pos = t.end_pos
    out.append(escape(text[pos:]))
    lines = [Markup(x) for x in "".join(out).split("\n")]
    return lines[:-1] if text.endswith("\n") else lines




# ====================================================================== text helpers


def _mark_quotes(text: str, quotes) -> Markup:
    """The ToR text, escaped, with the words each rule quotes marked (white space may differ).

    Markup built here: the <mark> tags fall where a fuzzy match of the quotes
    puts them, inside the text, and every piece of the text is escaped first."""
    spans = []
    for q in quotes:
        q = q.strip()
        if not q:
            continue
        i = text.find(q)
        if i >= 0:
            spans.append((i, i + len(q)))
            continue
        pattern = r"\s*".join(re.escape(w) for w in q.split())
        # a word hyphenated at a line end in the source ("каких- либо") may be quoted either way
        pattern = pattern.replace(r"\-", r"-\s*")
        m = re.search(pattern, text)
        if m:
            spans.append(m.span())
    spans.sort()
    merged = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    out, pos = [], 0
    for a, b in merged:
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:]))
    return Markup("".join(out))



# ====================================================================== the values of the pages
#
# The pages are templates (checker/render/templates/site/); these functions
# only gather what each shows, as plain values the templates escape.


def _rule_href(rid: str, up: str) -> str:
    return f"{up}rules/{urlquote(rid, safe='')}.html"


def _link(rid: str, up: str) -> dict:
    return {"id": rid, "href": _rule_href(rid, up)}


def _excerpt(s: SiteData, d: Decl | None, *, leading_comments: bool = True) -> dict | None:
    """The declaration's lines, highlighted, with the comment lines just above it, and line numbers."""
    if d is None:
        return None
    raw, hl = s.raw_lines[d.file], s.highlighted[d.file]
    first = d.line
    if leading_comments:
        while first > 1 and raw[first - 2].lstrip().startswith("#"):
            first -= 1
    rows = [(n, hl[n - 1] if n - 1 < len(hl) else "") for n in range(first, d.end_line + 1)]
    return {"file": d.file, "line": d.line, "rows": rows}


def _modality(info) -> str:
    return MODALITY_LABEL.get(info.modality, info.modality)


def _params(s: SiteData, names, up: str) -> dict | None:
    if not names:
        return None
    entries = []
    for n in names:
        p = s.rb.params.get(n)
        if p is not None:
            entries.append({"name": n, "text": p.text, "cites": p.cites, "reading": p.reading or ""})
    return {"up": up, "entries": entries}


def _rule_block(s: SiteData, r, up: str, *, source: bool = True) -> dict:
    info = r.info
    return {
        **_link(info.id, up),
        "severities": list(info.severities),
        "modality": _modality(info),
        "summary": info.summary,
        "cites": info.cite if info.cite != info.clause and info.cite not in s.slugs else None,
        "notes": list(info.notes),
        "params": _params(s, s.params_of.get(info.id) or [p.name for p in info.params], up),
        "excerpt": _excerpt(s, s.decls.get(("rule", info.id))) if source else None,
    }


def _clause_section(s: SiteData, cid: str, text: str, up: str, *, full: bool) -> dict:
    e = s.coverage.get(cid, {"status": "not_computable", "rules": [], "reason": None})
    direct = s.direct.get(cid, [])
    quotes = [r.info.quote for r in direct]
    # a chapeau shows the words its parts' rules quote too
    for r in s.rb.rules:
        if r not in direct and parts_of(cid, r.info.cite) and r.info.cite not in s.slugs:
            quotes.append(r.info.quote)
    status = e["status"]
    out = {"slug": s.slugs[cid], "id": cid, "up": up, "head": not full, "text": _mark_quotes(text, quotes),
           "status": status, "status_label": STATUS_LABEL[status], "rules": [], "parts": [],
           "help": STATUS_HELP.get(status, ""), "reason": e.get("reason")}
    if status == "encoded":
        out["rules"] = [_rule_block(s, r, up, source=not full) for r in direct]
        out["parts"] = [{"id": c, "href": s.slugs[c] + ".html" if full else "#p-" + s.slugs[c],
                         "rules": [_link(r.info.id, up) for r in s.direct.get(c, [])]}
                        for c, _ in s.rb.clauses
                        if c != cid and parts_of(cid, c) and s.coverage.get(c, {}).get("status") == "encoded"]
    if full and direct:
        written = (_excerpt(s, s.decls.get(("rule", r.info.id))) for r in direct)
        out["written"] = [x for x in written if x is not None]
        out["n_written"] = len(direct)
    else:
        out["written"] = None
    return out


def _counts(s: SiteData) -> str:
    n = {"encoded": 0, "data": 0, "not_computable": 0}
    for e in s.coverage.values():
        n[e["status"]] += 1
    total = len(s.rb.clauses)
    return (f"{total} paragraphs and sub-items: {n['encoded']} encoded by {len(s.rb.rules)} rules, "
            f"{n['data']} carried by the registry as data, {n['not_computable']} not computable.")


def _page(template: str, s: SiteData, title: str, *, up: str = "", script: str | None = None, **values) -> str:
    return render_template(f"site/{template}", title=title, up=up, script=script, version=__version__,
                           rulebook=s.rb.name, **values)


def _index(s: SiteData) -> str:
    rb = s.rb
    data = _script_json(_search_index(s))
    return _page(
        "index.html.j2", s, f"U4SSC Terms of Reference: the {rb.name} rulebook", script="site/search.js",
        counts=_counts(s),
        toc=[{"id": c, "slug": s.slugs[c], "status": s.coverage.get(c, {}).get("status", "x")}
             for c, _ in rb.clauses],
        sections=[_clause_section(s, cid, text, "", full=False) for cid, text in rb.clauses],
        # Markup: JSON read by the page's script, not HTML. Escaping it would break the
        # JSON; _script_json keeps it inside its <script> element.
        search_data=Markup(data),
    )


def _script_json(value) -> str:
    """`value` as JSON that cannot leave the <script> element it is written in: no "</"
    (which could close it), no "<!--" nor "<script" (which would keep the real "</script>"
    from closing it); JSON reads the escaped forms back as the same text."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return re.sub(r"<(?=!--|script)", r"\\u003c", data, flags=re.IGNORECASE)


def _search_index(s: SiteData) -> list[dict]:
    out = []
    for cid, text in s.rb.clauses:
        e = s.coverage.get(cid, {})
        extra = [e.get("reason") or ""] + [r.info.summary for r in s.direct.get(cid, [])]
        out.append({"k": "clause", "id": cid, "t": f"ToR {cid}", "u": f"index.html#p-{s.slugs[cid]}",
                    "x": " ".join(x for x in [text] + extra if x)})
    for r in s.rb.rules:
        i = r.info
        out.append({"k": "rule", "id": i.id, "c": i.clause, "t": f"{i.id} (ToR {i.cite})",
                    "u": _rule_href(i.id, ""), "x": " ".join([i.summary, i.quote] + list(i.notes))})
    return out


def _clause_page(s: SiteData, k: int) -> str:
    rb = s.rb
    cid, text = rb.clauses[k]

    def near(j):
        return {"id": rb.clauses[j][0], "slug": s.slugs[rb.clauses[j][0]]} if 0 <= j < len(rb.clauses) else None

    parents = [c for c, _ in rb.clauses if c != cid and parts_of(c, cid)]
    parent = None
    if parents:
        p = max(parents, key=len)
        parent = {"id": p, "slug": s.slugs[p], "text": rb.clause_texts().get(p, "")}
    return _page(
        "clause.html.j2", s, f"ToR {cid}: the {rb.name} rulebook", up="../",
        clause=cid, parent=parent,
        pager={"prev": near(k - 1), "next": near(k + 1), "slug": s.slugs[cid]},
        section=_clause_section(s, cid, text, "../", full=True),
    )


def _rule_page(s: SiteData, r) -> str:
    rb, info = s.rb, r.info
    up = "../"
    texts = rb.clause_texts()
    shown_clause = info.cite if info.cite in texts else info.clause
    text = texts.get(shown_clause, "")
    helpers = [{"name": h, "template": rb.helpers[h].template,
                "excerpt": _excerpt(s, s.decls.get(("predicate", h)))}
               for h in s.helpers_of.get(info.id, [])]
    deadlines = [{"id": dl.id, "summary": dl.summary, "excerpt": _excerpt(s, s.decls.get(("deadline", dl.id)))}
                 for dl in rb.deadlines if dl.rule == info.id]
    page = {
        "id": info.id, "summary": info.summary, "clause": shown_clause, "clause_slug": s.slugs.get(shown_clause),
        "text": _mark_quotes(text, [info.quote]) if text else info.quote,
        "cite": info.cite, "modality": _modality(info), "severities": list(info.severities),
        "quote": info.quote, "message": info.message, "notes": list(info.notes),
        "params": _params(s, s.params_of.get(info.id), up),
        "excerpt": _excerpt(s, s.decls.get(("rule", info.id))),
        "helpers": helpers, "deadlines": deadlines,
    }
    examples, n_cases = _examples(s, info.id)
    return _page("rule.html.j2", s, f"{info.id}: the {rb.name} rulebook", up=up, r=page,
                 examples=examples, n_cases=n_cases)


def _examples(s: SiteData, rid: str) -> tuple[list[dict], int]:
    """The rule's test cases grouped by kind (violating, near miss, boundary, others), and their number."""
    pairs = s.cases.get(rid, [])
    kinds = [k for k in KIND_ORDER if any(c.kind == k for c, _ in pairs)]
    kinds += sorted({c.kind for c, _ in pairs} - set(KIND_ORDER))
    groups = []
    for kind in kinds:
        cases = []
        for c, o in pairs:
            if c.kind != kind:
                continue
            name = c.name
            for prefix in ("violating - ", "near miss - ", "boundary - "):
                if name.startswith(prefix):
                    name = name[len(prefix):]
            cases.append({"name": name[:1].upper() + name[1:], "as_of": c.as_of,
                          "registry": (c.registry_text or "").rstrip(), **_expected(c, o)})
        groups.append({"label": KIND_LABEL.get(kind, kind.capitalize()), "cases": cases})
    return groups, len(pairs)


def _expected(c, o) -> dict:
    """What the case expects of the rule; with the check's own message when the case passes."""
    exp = [{**e, "rule": c.rule} for e in c.expect] + list(c.also)
    if not exp:
        return {"expected": [], "fails": False}
    passed = o is not None and o.passed
    pairs = list(o.matched) if passed else [(e, None) for e in exp]
    items = [{"record": str(e.get("record")), "severity": e.get("severity"),
              "rule": str(e.get("rule")) if e.get("rule") != c.rule else None,
              "message": v.message if v is not None else None,
              "names": str(e["message_contains"]) if e.get("message_contains") else None}
             for e, v in pairs]
    return {"expected": items, "n": len(exp), "fails": o is not None and not o.passed}


def _coverage_page(s: SiteData) -> str:
    rows = []
    for cid, _ in s.rb.clauses:
        e = s.coverage.get(cid, {"status": "not_computable", "rules": [], "reason": ""})
        rows.append({"id": cid, "slug": s.slugs[cid], "status": e["status"], "status_label": STATUS_LABEL[e["status"]],
                     "rules": [_link(r, "") for r in e["rules"]] if e["status"] == "encoded" else [],
                     "reason": e.get("reason") or ""})
    return _page("coverage.html.j2", s, f"Coverage: the {s.rb.name} rulebook", counts=_counts(s), rows=rows)


def _definitions_page(s: SiteData) -> str:
    rb = s.rb
    params = [{"name": name, "text": rb.params[name].text, "cites": rb.params[name].cites,
               "reading": rb.params[name].reading or "",
               "used_by": [_link(r, "") for r in s.rules_of_param.get(name, [])],
               "excerpt": _excerpt(s, s.decls.get(("parameter", name)))}
              for name in sorted(rb.params)]
    helpers = []
    for name in sorted(rb.helpers):
        h = rb.helpers[name]
        helpers.append({"name": name, "args": ", ".join(v + (f": {k}" if k else "") for v, k in h.params),
                        "template": h.template,
                        "used_by": [_link(r, "") for r in s.rules_of_helper.get(name, [])],
                        "excerpt": _excerpt(s, s.decls.get(("predicate", name)))})
    return _page("definitions.html.j2", s, f"Parameters and helpers: the {rb.name} rulebook",
                 params=params, helpers=helpers)


# ====================================================================== entry points


def build_site(rb, cases=(), outcomes=()) -> dict[str, str]:
    """The site as {relative path: HTML}, in a fixed order."""
    s = _gather(rb, list(cases), list(outcomes))
    files = {"index.html": _index(s), "coverage.html": _coverage_page(s), "definitions.html": _definitions_page(s)}
    for k, (cid, _) in enumerate(rb.clauses):
        files[f"clauses/{s.slugs[cid]}.html"] = _clause_page(s, k)
    for r in rb.rules:
        files[f"rules/{r.info.id}.html"] = _rule_page(s, r)
    return files


def write_site(files: dict[str, str], out_dir: str) -> None:
    root = Path(out_dir)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8", newline="\n")
