"""The compliance calendar: what falls due from the as-of date through a horizon.

The rulebook declares its deadlines (`deadline` beside the rule each one
anticipates); every row of a deadline binds a record and the last day on which
acting keeps the registry compliant. `upcoming` keeps the rows with
as_of <= due <= as_of + within. A due date before the as-of date is already a
violation, which `torcheck check` reports; it is never listed here.

The calendar relations (quarters, years) are widened through the horizon's
year, so a quarter that ends inside the window is known even when no record
is dated in its year.

Formats: text, JSON, and iCalendar (RFC 5545: CRLF line endings, lines folded
at 75 octets, one all-day VEVENT per deadline; DTSTAMP is the as-of date and
UID is made of rule, record and due date, so the same input gives the same
file byte for byte).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from . import dates
from .evaluate import evaluate, render_template
from .model import Diagnostic, InputError, Location

_WITHIN = re.compile(r"^(\d{1,4})([dwm])$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def horizon(as_of: str, within: str) -> str:
    """The last day of the window: `within` is Nd (days), Nw (weeks) or Nm (months); ValueError otherwise."""
    m = _WITHIN.match(within.strip())
    if m is None:
        raise ValueError(f"{within!r} is not a span like 90d, 12w or 3m")
    n, unit = int(m.group(1)), m.group(2)
    try:
        if unit == "m":
            return dates.add_months(as_of, n)
        return dates.add_days(as_of, n * 7 if unit == "w" else n)
    except (ValueError, OverflowError):  # past the calendar's last day
        return "9999-12-31"


@dataclass(frozen=True)
class Due:
    due: str  # ISO date: the last day on which acting keeps the registry compliant
    rule: str  # the rule it anticipates
    clause: str
    record: str
    message: str
    deadline: str  # the declaration's id
    location: Location | None = None  # where the record is written

    def to_json(self) -> dict:
        return {"due": self.due, "rule": self.rule, "clause": self.clause, "record": self.record,
                "message": self.message, "deadline": self.deadline}


@dataclass(frozen=True)
class Calendar:
    as_of: str
    through: str
    rulebook: str
    entries: tuple[Due, ...]  # by due date, then clause, rule, record, message

    def to_json(self) -> dict:
        return {"as_of": self.as_of, "through": self.through, "rulebook": self.rulebook,
                "deadlines": [e.to_json() for e in self.entries]}


def upcoming(rulebook, registry, as_of: str, through: str, engine: str = "pydatalog") -> Calendar:
    """Every deadline due from `as_of` through `through` (both included)."""
    ev = evaluate(rulebook, registry, as_of, engine, through=through)  # the calendar through the window's year
    rules = {r.info.id: r for r in rulebook.rules}
    found: dict[tuple, Due] = {}
    bad = []
    for d in rulebook.deadlines:
        rule = rules.get(d.rule)
        for alt in d.alternatives:
            for row in ev.engine.query(alt.head):
                b = dict(zip(alt.head_vars, row))
                due = b[d.due_var]
                if not (isinstance(due, str) and _ISO.match(due)):
                    bad.append(Diagnostic("bad-deadline", f"deadline {d.id!r} gives {d.due_var} the value {due!r}, "
                                          f"which is not a date", d.location))
                    continue
                if not as_of <= due <= through:
                    continue
                record = str(b[d.record_var])
                rec = registry.records.get(record)
                entry = Due(due, d.rule, rule.info.clause if rule else "", record, render_template(d.message, b),
                            d.id, rec.location if rec is not None else None)
                found.setdefault((due, d.rule, record, entry.message), entry)
    if bad:
        raise InputError(list({(x.message, str(x.location)): x for x in bad}.values()))
    order = rulebook.clause_order()
    rule_order = {r.info.id: i for i, r in enumerate(rulebook.rules)}
    entries = sorted(found.values(), key=lambda e: (e.due, order.get(e.clause, len(order)),
                                                    rule_order.get(e.rule, len(rule_order)), e.record, e.message))
    return Calendar(as_of, through, rulebook.name, tuple(entries))


# ====================================================================== rendering


def render_json(c: Calendar) -> str:
    return json.dumps(c.to_json(), ensure_ascii=False, indent=2) + "\n"


def render_text(c: Calendar) -> str:
    lines = [f"torcheck: {c.rulebook} rulebook, due from {c.as_of} through {c.through}", ""]
    for e in c.entries:
        head = [e.due, f"ToR {e.clause}", e.rule, e.record]
        if e.location is not None:
            head.append(str(e.location))
        lines.append("  ".join(head))
        lines.append("    " + " ".join(e.message.split()))
    if c.entries:
        lines.append("")
    n = len(c.entries)
    lines.append(("Nothing falls due" if not n else f"{n} deadline" + ("" if n == 1 else "s"))
                 + f" from {c.as_of} through {c.through}")
    return "\n".join(lines) + "\n"


def _ics_text(s: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    s = s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return re.sub(r"\r\n|\r|\n", "\\\\n", s)


def _fold(line: str) -> str:
    """Lines longer than 75 octets folded (RFC 5545 3.1), never inside a UTF-8 sequence."""
    out, cur, size = [], [], 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append("".join(cur))
            cur, size = [" "], 1
        cur.append(ch)
        size += n
    out.append("".join(cur))
    return "\r\n".join(out)


def _uid_part(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._:-]", "_", s)


def render_ics(c: Calendar) -> str:
    stamp = c.as_of.replace("-", "") + "T000000Z"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//torcheck//compliance calendar//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + _ics_text(f"torcheck: {c.rulebook} deadlines")]
    seen: dict[str, int] = {}
    for e in c.entries:
        uid = f"{_uid_part(e.rule)}/{_uid_part(e.record)}/{e.due}"
        seen[uid] = seen.get(uid, 0) + 1
        if seen[uid] > 1:  # the same rule, record and day, another message
            uid += f"/{seen[uid]}"
        day = e.due.replace("-", "")
        after = dates.add_days(e.due, 1).replace("-", "")
        where = f" The record is at {e.location}." if e.location is not None else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@torcheck",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{day}",
            f"DTEND;VALUE=DATE:{after}",
            "SUMMARY:" + _ics_text(e.message),
            "DESCRIPTION:" + _ics_text(f"ToR {e.clause}, rule {e.rule}: the last day to act for record {e.record} "
                                       f"(deadline {e.deadline}).{where}"),
            "CATEGORIES:" + _ics_text(f"ToR {e.clause}"),
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


RENDERERS = {"text": render_text, "json": render_json, "ics": render_ics}
