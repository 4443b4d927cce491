"""What several renderers say alike: the clause groups, the rule lookup, the counts, the colours."""
from __future__ import annotations

import click

from ..model import SEVERITIES, Report, RuleInfo, Violation


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts_sentence(report: Report) -> str:
    """ "3 errors, 1 warning, 0 notices in 214 records checked against 37 rules",
    or "No violations in 214 records checked against 37 rules"."""
    s = report.summary()
    scope = (
        f"in {plural(report.records, 'record')} checked against "
        f"{plural(len(report.rules), 'rule')}"
    )
    if not report.violations:
        return f"No violations {scope}"
    return ", ".join(plural(s[sev], sev) for sev in SEVERITIES) + " " + scope


def by_clause(report: Report) -> list[tuple[str, list[Violation]]]:
    """The violations grouped by clause, groups in the order the report first names them."""
    groups: dict[str, list[Violation]] = {}
    for v in report.violations:
        groups.setdefault(v.clause, []).append(v)
    return list(groups.items())


def rule_ids(violations: list[Violation]) -> list[str]:
    """The distinct rules of some violations, in their order."""
    return list(dict.fromkeys(v.rule for v in violations))


def rules_by_id(report: Report) -> dict[str, RuleInfo]:
    return {r.id: r for r in report.rules}


# The colours of the text report and of `torcheck explain`, as click.style's
# arguments: a severity, a heading ("head"), a fact's source ("source"), an
# absent condition ("absent"). A name not here is left plain.
STYLES: dict[str, dict] = {
    "head": {"bold": True},
    "warning": {"fg": "yellow"},
    "notice": {"fg": "cyan"},
    "source": {"dim": True},
    "absent": {"fg": "yellow"},
}
# Bold red, the error's colour, is the one style click.style cannot spell as it
# has always been written: one sequence ESC[1;31m (tests and users' scripts
# match those bytes), where click.style(fg="red", bold=True) writes two,
# ESC[31m ESC[1m. click.style still writes the reset.
_BOLD_RED = "\x1b[1;31m"


def style(text: str, what: str) -> str:
    """`text` in the colour of `what` (a key of STYLES, or "error")."""
    if what == "error":
        return _BOLD_RED + click.style(text)
    kw = STYLES.get(what)
    return click.style(text, **kw) if kw else text


def has_style(what: str) -> bool:
    return what == "error" or what in STYLES
