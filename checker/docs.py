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

The site needs no network and works from file://: styles and scripts are
inline, the search index is a JSON block in index.html. Rule sources are
highlighted here, at build time, from the language's own tokens (checker.fmt).
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

from . import ast as A
from . import __version__
from .coverage import coverage as coverage_entries
from .coverage import parts_of
from .fmt import lossless_parse
from .lint import names_used, predicates_called
from .parse import parse_text

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


def highlight(text: str) -> list[str]:
    """The rule file as HTML, one string per line, with spans for keywords, strings, comments, ..."""
    try:
        tree, comments = lossless_parse(text)
    except Exception:  # a file that does not parse is shown plain (the compiler has reported it)
        return [escape(x) for x in text.splitlines()]
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
    lines = "".join(out).split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _excerpt(s: SiteData, d: Decl, *, leading_comments: bool = True) -> str:
    """The declaration's lines, highlighted, with the comment lines just above it, and line numbers."""
    raw, hl = s.raw_lines[d.file], s.highlighted[d.file]
    first = d.line
    if leading_comments:
        while first > 1 and raw[first - 2].lstrip().startswith("#"):
            first -= 1
    rows = []
    for n in range(first, d.end_line + 1):
        rows.append(f'<span class="ln" data-n="{n}"></span>{hl[n - 1] if n - 1 < len(hl) else ""}')
    head = f'<div class="src-head"><code>{escape(d.file)}</code>, line {d.line}</div>'
    return f'<figure class="src">{head}<pre><code>' + "\n".join(rows) + "</code></pre></figure>"


# ====================================================================== text helpers


def _mark_quotes(text: str, quotes) -> str:
    """The ToR text, escaped, with the words each rule quotes marked (white space may differ)."""
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
    return "".join(out)


def _sev(sev: str) -> str:
    return f'<span class="sev sev-{escape(sev)}">{escape(sev)}</span>'


def _severities(info) -> str:
    if len(info.severities) == 1:
        return _sev(info.severities[0])
    return " or ".join(_sev(x) for x in info.severities)


def _rule_href(rid: str, up: str) -> str:
    return f"{up}rules/{urlquote(rid, safe='')}.html"


# ====================================================================== pages

_CSS = """\
:root { --ink: #1c1c1c; --muted: #5b5b5b; --rule: #cfc9bb; --paper: #fdfcf8; --tint: #f4f1e8;
  --accent: #1f3f66; --error: #9b1c1c; --warning: #8a5a00; --notice: #1f4e79; --mark: #f3e7b3; }
* { box-sizing: border-box; }
html { background: var(--paper); }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem 1.5rem 4rem; color: var(--ink);
  font: 1rem/1.55 Georgia, "Times New Roman", Times, serif; }
a { color: var(--accent); }
h1 { font-size: 1.7rem; font-weight: normal; margin: .2rem 0 .4rem; }
h2 { font-size: 1.2rem; font-weight: normal; margin: 0 0 .5rem; }
h3 { font-size: 1.02rem; margin: 0 0 .3rem; font-weight: normal; }
h1 + .lead { margin-top: 0; }
h1 code { font-size: 1.35rem; }
ul.parts { margin: .2rem 0; padding-left: 1.1rem; }
section.def { margin-top: 1rem; }
.lead, .muted, .src-head, .meta { color: var(--muted); }
header.site { border-bottom: 2px solid var(--ink); margin-bottom: 1.2rem; padding-bottom: .6rem; }
nav.top { font-size: .92rem; margin-bottom: .5rem; }
nav.top a { margin-right: 1rem; }
nav.toc { font-size: .88rem; line-height: 1.9; margin: .8rem 0; }
nav.toc a { margin-right: .55rem; white-space: nowrap; text-decoration: none; border-bottom: 1px dotted var(--rule); }
nav.toc a.st-encoded { font-weight: bold; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .86rem; }
section.clause { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 0 2rem;
  border-top: 1px solid var(--rule); padding: 1rem 0 .6rem; }
section.clause:target { background: var(--tint); }
.tor p { margin: 0; white-space: pre-line; }
.tor h2 a { text-decoration: none; color: inherit; }
mark { background: var(--mark); color: inherit; padding: 0 .05em; }
.status { font-variant: small-caps; letter-spacing: .04em; }
.status-encoded { color: var(--accent); }
.reason { margin: .2rem 0 0; }
article.rule { margin: 0 0 1rem; }
article.rule p { margin: .2rem 0; }
.sev { font-variant: small-caps; letter-spacing: .04em; font-weight: bold; }
.sev-error { color: var(--error); } .sev-warning { color: var(--warning); } .sev-notice { color: var(--notice); }
.modality { color: var(--muted); font-style: italic; }
.notes { margin: .3rem 0; padding-left: 1.1rem; font-size: .93rem; }
dl.params { margin: .3rem 0; font-size: .93rem; }
dl.params dt { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .86rem; }
dl.params dd { margin: 0 0 .3rem 1.2rem; }
details summary { cursor: pointer; color: var(--muted); font-size: .92rem; }
figure.src { margin: .4rem 0 .8rem; }
.src-head { font-size: .8rem; margin-bottom: .15rem; }
figure.src pre { margin: 0; padding: .5rem .7rem; background: var(--tint); border-left: 3px solid var(--rule);
  overflow-x: auto; line-height: 1.45; }
.ln::before { content: attr(data-n); display: inline-block; width: 2.6em; margin-right: .8em; text-align: right;
  color: #9a9482; user-select: none; }
.k { color: #5b2a86; font-weight: bold; } .s { color: #2f5d1f; } .c { color: #8a8376; font-style: italic; }
.v { color: #7a3b00; } .n { color: #1f4e79; } .i { color: #1c1c1c; font-weight: bold; } .f { color: #1f3f66; }
.o { color: #5b5b5b; }
table { border-collapse: collapse; margin: .8rem 0; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .8rem .3rem 0; text-align: left; vertical-align: top; }
th { font-weight: normal; color: var(--muted); }
.example { border-top: 1px solid var(--rule); padding: .6rem 0; }
.example pre { margin: .3rem 0; padding: .5rem .7rem; background: var(--tint); overflow-x: auto; }
.expect { margin: .2rem 0 0; padding-left: 1.1rem; }
.fails { color: var(--error); font-weight: bold; }
form.search { margin: .6rem 0 0; }
form.search input { font: inherit; padding: .35rem .5rem; width: min(32rem, 100%); border: 1px solid var(--muted);
  background: #fff; }
#results { list-style: none; padding: 0; margin: .4rem 0 0; max-width: 48rem; }
#results li { padding: .25rem 0; border-bottom: 1px dotted var(--rule); }
#results .what { color: var(--muted); font-size: .85rem; margin-left: .4rem; }
#results .snip { display: block; color: var(--muted); font-size: .88rem; }
.pager { display: flex; justify-content: space-between; margin: 1rem 0; font-size: .92rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--rule); padding-top: .6rem; }
@media (max-width: 50rem) { section.clause { display: block; } .tor { margin-bottom: .8rem; } }
@media print {
  html, body { background: none; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, form.search, #results, .pager, .noprint { display: none !important; }
  a { color: inherit; text-decoration: none; }
  section.clause { break-inside: avoid-page; }
  section.clause:target { background: none; }
  h1, h2, h3 { break-after: avoid; }
  figure.src pre { white-space: pre-wrap; background: none; border-left: 1px solid #999; }
  details summary { list-style: none; }
  details summary::-webkit-details-marker { display: none; }
  mark { background: none; text-decoration: underline; }
}
@page { margin: 18mm 16mm; }
"""

# Closed <details> do not print: open them all before printing.
_PRINT_JS = ('addEventListener("beforeprint", function () '
             '{ document.querySelectorAll("details").forEach(function (d) { d.open = true; }); });')

_SEARCH_JS = """\
(function () {
  var data = JSON.parse(document.getElementById("search-data").textContent);
  var box = document.getElementById("q"), list = document.getElementById("results");
  var count = document.getElementById("count");
  function norm(s) { return s.toLowerCase().replace(/\\u0451/g, "\\u0435"); }
  function snippet(text, word) {
    var i = word ? norm(text).indexOf(word) : -1;
    var a = Math.max(0, i < 0 ? 0 : i - 50);
    return (a > 0 ? "\\u2026" : "") + text.substr(a, 160) + (text.length > a + 160 ? "\\u2026" : "");
  }
  function search() {
    var q = norm(box.value.trim()), hits = [];
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!q) { count.textContent = ""; return []; }
    var words = q.split(/\\s+/);
    data.forEach(function (e, i) {
      var id = norm(e.id), s = 0;
      if (id === q) { s = 100; }
      else if (e.c && norm(e.c) === q) { s = 60; }
      else if (id.indexOf(q) === 0) { s = 50; }
      else if (id.indexOf(q) >= 0) { s = 30; }
      else {
        var t = norm(e.id + " " + e.x);
        if (words.every(function (w) { return t.indexOf(w) >= 0; })) { s = 10; }
      }
      if (s) { hits.push([s, i, e]); }
    });
    hits.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    hits.slice(0, 30).forEach(function (h) {
      var e = h[2], li = document.createElement("li"), a = document.createElement("a");
      li.setAttribute("data-kind", e.k);
      li.setAttribute("data-id", e.id);
      a.href = e.u;
      a.textContent = e.t;
      li.appendChild(a);
      var what = document.createElement("span");
      what.className = "what";
      what.textContent = e.k === "clause" ? "paragraph" : "rule";
      li.appendChild(what);
      var snip = document.createElement("span");
      snip.className = "snip";
      snip.textContent = snippet(e.x, words[0]);
      li.appendChild(snip);
      list.appendChild(li);
    });
    count.textContent = hits.length === 0 ? "Nothing found." :
      hits.length + (hits.length === 1 ? " result" : " results") + (hits.length > 30 ? ", the first 30 shown" : "");
    return hits;
  }
  box.addEventListener("input", search);
  document.getElementById("search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var first = list.querySelector("a");
    if (first) { window.location.href = first.href; }
  });
  if (box.value) { search(); }
})();
"""


def _page(title: str, body: list[str], *, up: str = "", script: str = "", rulebook: str = "") -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{escape(title)}</title>",
        f"<style>\n{_CSS}</style>",
        "</head>",
        "<body>",
        '<nav class="top">'
        f'<a href="{up}index.html">The ToR and its rules</a>'
        f'<a href="{up}coverage.html">Coverage</a>'
        f'<a href="{up}definitions.html">Parameters and helpers</a>'
        f'<a href="{up}index.html#search">Search</a>'
        "</nav>",
        *body,
        f"<footer>Made by torcheck {escape(__version__)} from the {escape(rulebook)} rulebook. "
        "The Russian text is the ToR's original; summaries, notes and readings are the rulebook's.</footer>",
        f"<script>{_PRINT_JS}</script>",
    ]
    if script:
        out.append(f"<script>\n{script}</script>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _rule_block(s: SiteData, r, up: str, *, source: bool = True, heading: str = "h3") -> list[str]:
    info = r.info
    out = [f'<article class="rule" id="rule-{escape(info.id)}">',
           f'<{heading}><a href="{_rule_href(info.id, up)}"><code>{escape(info.id)}</code></a> '
           f'{_severities(info)} <span class="modality">{escape(MODALITY_LABEL.get(info.modality, info.modality))}</span>'
           f"</{heading}>",
           f'<p class="summary">{escape(info.summary)}</p>']
    if info.cite != info.clause and info.cite not in s.slugs:
        out.append(f'<p class="muted">Cites {escape(info.cite)}.</p>')
    if info.notes:
        out.append('<ul class="notes">' + "".join(f"<li>Note: {escape(n)}</li>" for n in info.notes) + "</ul>")
    params = s.params_of.get(info.id) or [p.name for p in info.params]
    if params:
        out.append(_params_dl(s, params, up))
    d = s.decls.get(("rule", info.id))
    if d is not None and source:
        out.append("<details><summary>The rule as written</summary>")
        out.append(_excerpt(s, d))
        out.append("</details>")
    out.append("</article>")
    return out


def _params_dl(s: SiteData, names, up: str) -> str:
    rows = ['<dl class="params">']
    for n in names:
        p = s.rb.params.get(n)
        if p is None:
            continue
        cites = f" (cites {escape(p.cites)})" if p.cites else ""
        rows.append(f'<dt><a href="{up}definitions.html#param-{escape(n)}">{escape(n)}</a> = {escape(p.text)}'
                    f"{cites}</dt><dd>{escape(p.reading or '')}</dd>")
    rows.append("</dl>")
    return "".join(rows)


def _clause_section(s: SiteData, cid: str, text: str, up: str, *, full: bool) -> list[str]:
    sl = s.slugs[cid]
    e = s.coverage.get(cid, {"status": "not_computable", "rules": [], "reason": None})
    direct = s.direct.get(cid, [])
    quotes = [r.info.quote for r in direct]
    # a chapeau shows the words its parts' rules quote too
    for r in s.rb.rules:
        if r not in direct and parts_of(cid, r.info.cite) and r.info.cite not in s.slugs:
            quotes.append(r.info.quote)
    status = e["status"]
    head = f'<h2><a href="{up}clauses/{sl}.html">ToR {escape(cid)}</a></h2>' if not full else ""
    out = [f'<section class="clause" id="p-{sl}" data-clause="{escape(cid)}">',
           f'<div class="tor">{head}<p lang="ru">{_mark_quotes(text, quotes)}</p></div>',
           '<div class="enc">',
           f'<p class="status status-{status}">{STATUS_LABEL[status]}</p>']
    if status == "encoded":
        for r in direct:
            out += _rule_block(s, r, up, source=not full)
        parts = [c for c, _ in s.rb.clauses
                 if c != cid and parts_of(cid, c) and s.coverage.get(c, {}).get("status") == "encoded"]
        if parts:
            out.append('<p class="muted">Encoded through its parts:</p>')
            out.append('<ul class="parts">')
            for c in parts:
                href = s.slugs[c] + ".html" if full else "#p-" + s.slugs[c]
                rules = ", ".join(f'<a href="{_rule_href(r.info.id, up)}"><code>{escape(r.info.id)}</code></a>'
                                  for r in s.direct.get(c, []))
                out.append(f'<li><a href="{href}">{escape(c)}</a>: {rules}</li>')
            out.append("</ul>")
    else:
        out.append(f'<p class="muted">{escape(STATUS_HELP[status])}</p>')
        if e.get("reason"):
            out.append(f'<p class="reason">{escape(e["reason"])}</p>')
    out += ["</div>", "</section>"]
    if full and direct:
        out += ['<section class="def">', f"<h2>The rule{'s' if len(direct) > 1 else ''} as written</h2>"]
        for r in direct:
            d = s.decls.get(("rule", r.info.id))
            if d is not None:
                out.append(_excerpt(s, d))
        out.append("</section>")
    return out


def _counts(s: SiteData) -> str:
    n = {"encoded": 0, "data": 0, "not_computable": 0}
    for e in s.coverage.values():
        n[e["status"]] += 1
    total = len(s.rb.clauses)
    return (f"{total} paragraphs and sub-items: {n['encoded']} encoded by {len(s.rb.rules)} rules, "
            f"{n['data']} carried by the registry as data, {n['not_computable']} not computable.")


def _index(s: SiteData) -> str:
    rb = s.rb
    body = ['<header class="site">',
            f"<h1>The Terms of Reference of U4SSC and the {escape(rb.name)} rulebook</h1>",
            '<p class="lead">Each paragraph of the ToR in its Russian original, beside the rules that encode it: '
            "what each rule requires, in English, how strictly (its modality and severity), the readings it "
            "declares, and the rule as written. Words a rule quotes are marked in the text. A paragraph no rule "
            "encodes says why.</p>",
            f'<p class="meta">{escape(_counts(s))}</p>',
            '<form class="search" id="search" role="search">'
            '<label for="q">Search paragraphs and rules </label>'
            '<input id="q" type="search" autocomplete="off" placeholder="36, logo, u4ssc-logo-without-approval, секретариат">'
            ' <span id="count" class="muted" aria-live="polite"></span>'
            '</form>',
            '<ul id="results"></ul>',
            '<nav class="toc" aria-label="Paragraphs">' + " ".join(
                f'<a class="st-{s.coverage.get(c, {}).get("status", "x")}" href="#p-{s.slugs[c]}">{escape(c)}</a>'
                for c, _ in rb.clauses) + "</nav>",
            "</header>", "<main>"]
    for cid, text in rb.clauses:
        body += _clause_section(s, cid, text, "", full=False)
    body.append("</main>")
    data = json.dumps(_search_index(s), ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    body.append(f'<script type="application/json" id="search-data">{data}</script>')
    return _page(f"U4SSC Terms of Reference: the {rb.name} rulebook", body, script=_SEARCH_JS, rulebook=rb.name)


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
    prev = rb.clauses[k - 1][0] if k > 0 else None
    nxt = rb.clauses[k + 1][0] if k + 1 < len(rb.clauses) else None
    pager = ['<div class="pager">',
             f'<a href="{s.slugs[prev]}.html">← ToR {escape(prev)}</a>' if prev else "<span></span>",
             f'<a href="../index.html#p-{s.slugs[cid]}">In the whole ToR</a>',
             f'<a href="{s.slugs[nxt]}.html">ToR {escape(nxt)} →</a>' if nxt else "<span></span>",
             "</div>"]
    parents = [c for c, _ in rb.clauses if c != cid and parts_of(c, cid)]
    lead = f"The {escape(rb.name)} rulebook on this paragraph of the Terms of Reference."
    if parents:
        p = max(parents, key=len)
        lead = (f'Part of <a href="{s.slugs[p]}.html">ToR {escape(p)}</a>: '
                f'<span lang="ru">{escape(rb.clause_texts().get(p, ""))}</span>')
    body = ['<header class="site">', f"<h1>ToR {escape(cid)}</h1>", f'<p class="lead">{lead}</p>',
            "</header>", *pager, "<main>"]
    body += _clause_section(s, cid, text, "../", full=True)
    body += ["</main>", *pager]
    return _page(f"ToR {cid}: the {rb.name} rulebook", body, up="../", rulebook=rb.name)


def _rule_page(s: SiteData, r) -> str:
    rb, info = s.rb, r.info
    up = "../"
    texts = rb.clause_texts()
    shown_clause = info.cite if info.cite in texts else info.clause
    text = texts.get(shown_clause, "")
    sl = s.slugs.get(shown_clause)
    body = ['<header class="site">', f"<h1><code>{escape(info.id)}</code></h1>",
            f'<p class="lead">{escape(info.summary)}</p>', "</header>", "<main>",
            '<section class="clause">',
            '<div class="tor">'
            + (f'<h2><a href="{up}clauses/{sl}.html">ToR {escape(shown_clause)}</a></h2>' if sl else
               f"<h2>ToR {escape(shown_clause)}</h2>")
            + f'<p lang="ru">{_mark_quotes(text, [info.quote]) if text else escape(info.quote)}</p></div>',
            '<div class="enc">',
            "<table>",
            f"<tr><th>Clause</th><td>{escape(info.cite)}</td></tr>",
            f"<tr><th>Modality</th><td>{escape(MODALITY_LABEL.get(info.modality, info.modality))}</td></tr>",
            f"<tr><th>Severity</th><td>{_severities(info)}</td></tr>",
            f'<tr><th>Quotes</th><td lang="ru">{escape(info.quote)}</td></tr>',
            f"<tr><th>Message</th><td>{escape(info.message)}</td></tr>",
            "</table>"]
    if info.notes:
        body.append('<ul class="notes">' + "".join(f"<li>Note: {escape(n)}</li>" for n in info.notes) + "</ul>")
    if s.params_of.get(info.id):
        body += ["<h3>Declared readings</h3>", _params_dl(s, s.params_of[info.id], up)]
    body += ["</div>", "</section>", '<section class="def">', "<h2>The rule as written</h2>"]
    d = s.decls.get(("rule", info.id))
    if d is not None:
        body.append(_excerpt(s, d))
    helpers = s.helpers_of.get(info.id, [])
    if helpers:
        body.append("<h2>The notions it rests on</h2>")
        for h in helpers:
            hd = s.decls.get(("predicate", h))
            tpl = rb.helpers[h].template
            body.append(f'<h3 id="helper-{escape(h)}"><code>{escape(h)}</code>'
                        + (f" — {escape(tpl)}" if tpl else "") + "</h3>")
            if hd is not None:
                body.append(_excerpt(s, hd))
    dls = [dl for dl in rb.deadlines if dl.rule == info.id]
    if dls:
        body.append("<h2>What falls due</h2>")
        for dl in dls:
            body.append(f"<h3><code>{escape(dl.id)}</code> — {escape(dl.summary)}</h3>")
            dd = s.decls.get(("deadline", dl.id))
            if dd is not None:
                body.append(_excerpt(s, dd))
    body.append("</section>")
    body += _examples(s, info.id)
    body.append("</main>")
    return _page(f"{info.id}: the {rb.name} rulebook", body, up=up, rulebook=rb.name)


def _examples(s: SiteData, rid: str) -> list[str]:
    pairs = s.cases.get(rid, [])
    out = ['<section class="examples">', "<h2>Examples</h2>"]
    if not pairs:
        out += ['<p class="muted">This rule has no test cases.</p>', "</section>"]
        return out
    out.append(f'<p class="muted">The rule\'s test cases: each a small registry, the day the check is made, '
               f"and what the check must report for this rule. {len(pairs)} cases.</p>")
    kinds = [k for k in KIND_ORDER if any(c.kind == k for c, _ in pairs)]
    kinds += sorted({c.kind for c, _ in pairs} - set(KIND_ORDER))
    for kind in kinds:
        out.append(f"<h3>{escape(KIND_LABEL.get(kind, kind.capitalize()))}</h3>")
        for c, o in pairs:
            if c.kind != kind:
                continue
            name = c.name
            for prefix in ("violating - ", "near miss - ", "boundary - "):
                if name.startswith(prefix):
                    name = name[len(prefix):]
            out.append('<div class="example">')
            out.append(f"<p><strong>{escape(name[:1].upper() + name[1:])}</strong></p>")
            out.append(f'<p class="muted">As of {escape(c.as_of)}. The registry:</p>')
            out.append(f'<pre><code>{escape((c.registry_text or "").rstrip())}</code></pre>')
            out += _expected(c, o)
            out.append("</div>")
    out.append("</section>")
    return out


def _expected(c, o) -> list[str]:
    """What the case expects of the rule; with the check's own message when the case passes."""
    exp = [{**e, "rule": c.rule} for e in c.expect] + list(c.also)
    if not exp:
        return ["<p>Expected: <strong>no violation</strong> of this rule.</p>"]
    passed = o is not None and o.passed
    pairs = list(o.matched) if passed else [(e, None) for e in exp]
    lines = []
    for e, v in pairs:
        item = f"<code>{escape(str(e.get('record')))}</code>"
        if e.get("severity"):
            item += " " + _sev(e["severity"])
        if e.get("rule") != c.rule:
            item += f" of <code>{escape(str(e.get('rule')))}</code>"
        if v is not None:
            item += f": {escape(v.message)}"
        elif e.get("message_contains"):
            item += f" (the message names {escape(str(e['message_contains']))})"
        lines.append(f"<li>{item}</li>")
    n = len(exp)
    out = [f"<p>Expected: {n} violation{'s' if n != 1 else ''}:</p>", '<ul class="expect">', *lines, "</ul>"]
    if o is not None and not o.passed:
        out.append('<p class="fails">The check does not give this result at present (see torcheck test).</p>')
    return out


def _coverage_page(s: SiteData) -> str:
    rb = s.rb
    body = ['<header class="site">', "<h1>Coverage of the Terms of Reference</h1>",
            f'<p class="lead">{escape(_counts(s))} A paragraph is <em>encoded</em> when a rule cites it or one of '
            "its parts; otherwise the rulebook declares it <em>data</em> (the registry carries it) or "
            "<em>not computable</em>, with the reason.</p>", "</header>", "<main>", "<table>",
            "<thead><tr><th>ToR</th><th>Status</th><th>Rules, or the reason</th></tr></thead>", "<tbody>"]
    for cid, _ in rb.clauses:
        e = s.coverage.get(cid, {"status": "not_computable", "rules": [], "reason": ""})
        if e["status"] == "encoded":
            what = ", ".join(f'<a href="{_rule_href(r, "")}"><code>{escape(r)}</code></a>' for r in e["rules"])
        else:
            what = escape(e.get("reason") or "")
        body.append(f'<tr id="c-{s.slugs[cid]}"><td><a href="clauses/{s.slugs[cid]}.html">{escape(cid)}</a></td>'
                    f'<td class="status status-{e["status"]}">{STATUS_LABEL[e["status"]]}</td><td>{what}</td></tr>')
    body += ["</tbody>", "</table>", "</main>"]
    return _page(f"Coverage: the {rb.name} rulebook", body, rulebook=rb.name)


def _definitions_page(s: SiteData) -> str:
    rb = s.rb
    body = ['<header class="site">', "<h1>Parameters and helper predicates</h1>",
            '<p class="lead">Parameters name the thresholds the rulebook reads into vague words of the ToR '
            "(\"regularly\", \"immediately\"): change one here and every rule using it follows. Helper predicates "
            "define the ToR's recurring notions once, like definitions in a statute.</p>",
            "</header>", "<main>", "<h2>Parameters</h2>"]
    if not rb.params:
        body.append('<p class="muted">The rulebook declares no parameter.</p>')
    for name in sorted(rb.params):
        p = rb.params[name]
        users = s.rules_of_param.get(name, [])
        body.append(f'<section class="def" id="param-{escape(name)}">')
        body.append(f"<h3><code>{escape(name)}</code> = {escape(p.text)}"
                    + (f' <span class="muted">(cites ToR {escape(p.cites)})</span>' if p.cites else "") + "</h3>")
        body.append(f"<p>{escape(p.reading or '')}</p>")
        body.append(_used_by(users))
        d = s.decls.get(("parameter", name))
        if d is not None:
            body.append(_excerpt(s, d))
        body.append("</section>")
    body.append("<h2>Helper predicates</h2>")
    for name in sorted(rb.helpers):
        h = rb.helpers[name]
        args = ", ".join(v + (f": {k}" if k else "") for v, k in h.params)
        body.append(f'<section class="def" id="helper-{escape(name)}">')
        body.append(f"<h3><code>{escape(name)}({escape(args)})</code>"
                    + (f" — {escape(h.template)}" if h.template else "") + "</h3>")
        body.append(_used_by(s.rules_of_helper.get(name, [])))
        d = s.decls.get(("predicate", name))
        if d is not None:
            body.append(_excerpt(s, d))
        body.append("</section>")
    body.append("</main>")
    return _page(f"Parameters and helpers: the {rb.name} rulebook", body, rulebook=rb.name)


def _used_by(rule_ids) -> str:
    if not rule_ids:
        return '<p class="muted">Used by no rule.</p>'
    return "<p>Used by " + ", ".join(f'<a href="{_rule_href(r, "")}"><code>{escape(r)}</code></a>'
                                     for r in rule_ids) + ".</p>"


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
