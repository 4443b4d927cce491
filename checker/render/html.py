"""A standalone HTML report: one file, no network, readable on screen and on paper.

A summary, then one section per clause: its violations, each with its reason
and the `because` tree in a <details> element, and beside them the clause's
ToR text (report.clause_texts), or, without it, the text the rules quote.
Every piece of input is escaped.
"""
from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from ..model import SEVERITIES, Report, RuleInfo, Violation
from . import explain
from .common import by_clause, counts_sentence, rule_ids, rules_by_id

_CSS = """\
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #c9c4b8; --paper: #fdfcf8;
  --error: #9b1c1c; --warning: #8a5a00; --notice: #1f4e79; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 64rem; padding: 2rem 1.5rem 4rem; background: var(--paper);
  color: var(--ink); font: 1rem/1.5 Georgia, "Times New Roman", Times, serif; }
h1 { font-size: 1.6rem; font-weight: normal; border-bottom: 2px solid var(--ink);
  padding-bottom: .4rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; font-weight: normal; margin: 0 0 .6rem; }
.meta, .rule-summary, .where, .cite { color: var(--muted); }
.meta { margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .9rem .25rem 0; text-align: left;
  vertical-align: top; }
td.n, th.n { text-align: right; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; }
a { color: inherit; }
section.clause { border-top: 1px solid var(--rule); padding-top: 1rem; margin-top: 1.5rem;
  display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 0 2rem; }
section.clause > h2, section.clause > .rules,
section.clause > .violations:last-child { grid-column: 1 / -1; }
.rules { margin: 0 0 .8rem; padding: 0; list-style: none; }
aside.tor { font-size: .92rem; border-left: 3px double var(--rule); padding-left: 1rem;
  white-space: pre-line; }
aside.tor h3 { font-size: .8rem; letter-spacing: .06em; text-transform: uppercase; margin: 0 0 .4rem;
  color: var(--muted); font-weight: normal; white-space: normal; }
article.violation { margin: 0 0 1.2rem; break-inside: avoid; }
article.violation p { margin: .15rem 0; }
.sev { font-variant: small-caps; letter-spacing: .04em; font-weight: bold; }
.sev-error { color: var(--error); } .sev-warning { color: var(--warning); }
.sev-notice { color: var(--notice); }
details summary { cursor: pointer; }
details ul { margin: .3rem 0; padding-left: 1.3rem; }
.kind { color: var(--muted); font-size: .85em; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 48rem) { section.clause { display: block; } aside.tor { margin-bottom: 1rem; } }
@media print {
  body { background: none; max-width: none; padding: 0; font-size: 10.5pt; }
  section.clause { break-inside: auto; }
  h2 { break-after: avoid; }
  details summary { list-style: none; }
  details summary::-webkit-details-marker { display: none; }
  a { text-decoration: none; }
}
@page { margin: 18mm 16mm; }
"""

# Closed <details> do not print: open them all before printing.
_SCRIPT = ('addEventListener("beforeprint", function () '
           '{ document.querySelectorAll("details").forEach(function (d) { d.open = true; }); });')


def render(report: Report, *, docs_base: str | None = None) -> str:
    rules = rules_by_id(report)
    title = f"torcheck: {report.rulebook} rulebook, as of {report.as_of}"
    groups = by_clause(report)
    anchors = _anchors([clause for clause, _ in groups])

    def rule_ref(rule_id: str) -> str:
        label = f"<code>{escape(rule_id)}</code>"
        if docs_base is None:
            return label
        href = docs_base.rstrip("/") + "/rules/" + quote(rule_id, safe="") + ".html"
        return f'<a href="{escape(href)}">{label}</a>'

    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>\n{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(counts_sentence(report))}.</p>',
        "</header>",
    ]
    if report.violations:
        out += _summary(report, groups, anchors, rule_ref)
    out.append("<main>")
    for clause, violations in groups:
        out += _clause(report, clause, violations, anchors[clause], rules, rule_ref)
    out += [
        "</main>",
        f"<footer>Made by torcheck from the registry and the {escape(report.rulebook)} "
        f"rulebook, as of {escape(report.as_of)}.</footer>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)


def _anchors(clauses: list[str]) -> dict[str, str]:
    """A fragment id per clause ("10(a)" -> "clause-10-a"), distinct."""
    out: dict[str, str] = {}
    for clause in clauses:
        base = "clause-" + (re.sub(r"[^0-9A-Za-z]+", "-", clause).strip("-") or "x")
        anchor, n = base, 1
        while anchor in out.values():
            n += 1
            anchor = f"{base}-{n}"
        out[clause] = anchor
    return out


def _summary(report: Report, groups, anchors, rule_ref) -> list[str]:
    counts = report.summary()
    out = ['<section class="summary">', "<table>",
           '<thead><tr><th>Severity</th><th class="n">Violations</th></tr></thead>', "<tbody>"]
    out += [f'<tr><td><span class="sev sev-{sev}">{sev}</span></td>'
            f'<td class="n">{counts[sev]}</td></tr>' for sev in SEVERITIES]
    out += ["</tbody>", "</table>", "<table>",
            '<thead><tr><th>Clause</th><th>Rule</th><th class="n">Violations</th></tr></thead>',
            "<tbody>"]
    for clause, violations in groups:
        for rule_id in rule_ids(violations):
            n = sum(1 for v in violations if v.rule == rule_id)
            out.append(f'<tr><td><a href="#{anchors[clause]}">ToR {escape(clause)}</a></td>'
                       f'<td>{rule_ref(rule_id)}</td><td class="n">{n}</td></tr>')
    out += ["</tbody>", "</table>", "</section>"]
    return out


def _clause(report: Report, clause: str, violations: list[Violation], anchor: str,
            rules: dict[str, RuleInfo], rule_ref) -> list[str]:
    ids = rule_ids(violations)
    out = [f'<section class="clause" id="{anchor}">', f"<h2>ToR {escape(clause)}</h2>",
           '<ul class="rules">']
    for rule_id in ids:
        info = rules.get(rule_id)
        line = rule_ref(rule_id)
        if info is not None:
            line += f' <span class="rule-summary">— {escape(info.summary)}</span>'
            line += "".join(f'<br><span class="cite">Note: {escape(n)}</span>' for n in info.notes)
        out.append(f"<li>{line}</li>")
    out += ["</ul>", '<div class="violations">']
    for v in violations:
        out += _violation(v, rule_ref if len(ids) > 1 else None)
    out.append("</div>")
    out += _tor_text(report, clause, [rules[r] for r in ids if r in rules])
    out.append("</section>")
    return out


def _tor_text(report: Report, clause: str, infos: list[RuleInfo]) -> list[str]:
    text = report.clause_texts.get(clause)
    if text:
        heading = f"ToR {clause}"
    else:
        quotes = list(dict.fromkeys(r.quote for r in infos if r.quote))
        if not quotes:
            return []
        text, heading = "\n\n".join(quotes), f"ToR {clause}, as the rules quote it"
    body = escape(text.strip())
    return [f'<aside class="tor" lang="ru"><h3 lang="en">{escape(heading)}</h3>{body}</aside>']


def _violation(v: Violation, rule_ref) -> list[str]:
    head = [f'<span class="sev sev-{escape(v.severity)}">{escape(v.severity)}</span>',
            f"<code>{escape(v.record)}</code>"]
    if v.location is not None:
        head.append(f'<span class="where"><code>{escape(str(v.location))}</code></span>')
    if rule_ref is not None:
        head.append(rule_ref(v.rule))
    out = ['<article class="violation">', f"<p>{' · '.join(head)}</p>",
           f"<p>{escape(v.message)}</p>"]
    if v.because:
        out.append("<details>")
        out.append(f"<summary>Why: {escape(explain.crisp(v.because))}</summary>")
        out += _tree(v.because)
        out.append("</details>")
    out.append("</article>")
    return out


# Absent conditions ("no ... found") and parameters say what they are.
_LABELS = {"fact": "fact", "holds": "conclusion"}


def _tree(nodes) -> list[str]:
    out = ["<ul>"]
    for node in nodes:
        label = _LABELS.get(explain.kind(node))
        item = escape(explain.phrase(node))
        if label:
            item = f'<span class="kind">{label}</span> {item}'
        src = explain.source(node)
        if src:
            item += f' <span class="where">(<code>{escape(src)}</code>)</span>'
        grounds = explain.grounds(node)
        if grounds:
            out.append(f"<li>{item}")
            out += _tree(grounds)
            out.append("</li>")
        else:
            out.append(f"<li>{item}</li>")
    out.append("</ul>")
    return out
