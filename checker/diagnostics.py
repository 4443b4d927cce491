"""Diagnostics: the problems of an input, each with a declared code and severity, rendered once.

Ground floor: imports nothing of torcheck. Every stage collects its diagnostics (never stopping at the
first) and raises them together as InputError; the command line prints them sorted by position as
`PATH:LINE[:COL]: SEVERITY[CODE]: message` (cli.md), the source line and a caret, then `help:`.

Codes are stable (tests and users refer to them, as OPA's `rego_unsafe_var_error`): every code a stage
makes is declared in CODES with its severity and meaning; tests/test_diagnostic_codes.py holds the
source, the tests and the golden files to this table. `suggest` is the one "did you mean".
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    severity: str  # "error": the input cannot be used, exit 2; "warning": reported, the input is used
    stage: str  # who makes it: registry, rulebook, cases, lint, command line, cache
    meaning: str


def _table(stage: str, severity: str, text: str) -> dict[str, Code]:
    rows = {}
    for line in text.strip().splitlines():
        code, meaning = line.split(None, 1)
        rows[code] = Code(severity, stage, meaning.strip())
    return rows


CODES: dict[str, Code] = {
    **_table("registry", "error", """
        registry-not-found   the registry folder does not exist
        not-a-folder         the registry (or rulebook) path is not a folder
        no-yaml-files        the registry folder holds no YAML file
        unreadable-file      a file or folder that cannot be read, or is not a regular file
        unreadable-folder    a folder that cannot be listed (nothing is checked from a half-read folder)
        symlink-outside      a link whose target lies outside the folder being read (the target is not read)
        file-too-large       a file larger than the reader accepts
        binary-file          a file holding NUL bytes
        not-utf8             a file that is not valid UTF-8
        yaml-syntax          unparsable YAML, a control character, or more than one document in a file
        yaml-alias           an anchor (&a) or alias (*a)
        yaml-tag             an explicit tag (!!str, !!python/object/apply:..., !custom)
        too-deep             nesting deeper than the reader allows
        duplicate-key        a key written twice in one mapping
        not-a-mapping        a file that is not a mapping of kinds, or a record that is not a mapping
        not-a-list           a kind whose value is not a list of records
        unknown-kind         a top-level key that is no declared kind of record
        unknown-field        a field the record's kind does not declare
        missing-id           a record without an id
        missing-field        a required field is absent
        bad-id               an id that is not [A-Za-z0-9][A-Za-z0-9._:-]*
        bad-type             a list where one value is expected or the reverse, a mapping as a value
        bad-text             a text holding a control character
        bad-date             not written YYYY-MM-DD, or not a real date
        bad-year             a year not written as digits
        bad-boolean          a boolean other than true / false
        bad-enum             a value outside the field's enumeration
        duplicate-id         an id used by two records
        reserved-id          a record taking the id of a fixed body or a logo
        dangling-ref         a reference to an id no record, body or logo has
        wrong-kind-ref       a reference to a record, body or logo the field does not allow
        unknown-id           what-if: removing an id the registry does not have
        referenced-record    what-if: removing a record a remaining record still refers to
        proposal-not-found   what-if: a proposal file that does not exist
        unknown-record       explain: a record the registry does not have
    """),
    **_table("rulebook", "error", """
        rulebook-not-found   the rulebook folder does not exist
        empty-rulebook       no *.rules file in the rulebook folder
        encoding             a rule file that is not UTF-8 text
        syntax               a rule file that does not parse
        bad-tor              the rulebook's tor.yaml cannot be used
        duplicate-declaration  a name declared twice
        duplicate-attribute  an attribute given twice in one declaration
        missing-attribute    a declaration without an attribute it needs
        bad-modality         a modality the DSL does not know
        bad-severity         a severity the DSL does not know
        bad-deadline         a deadline that cannot be computed
        unknown-type         a field type the DSL does not know
        unknown-name         a constant or variable name that means nothing here
        unknown-predicate    a predicate that is no kind, helper or built-in
        unknown-function     a function the DSL does not have
        unknown-clause       a clause id the ToR does not have
        unknown-rule         a rule id the rulebook does not have
        duplicate-rule       a rule id defined twice
        duplicate-deadline   a deadline id defined twice
        uncovered-clause     a clause of the ToR the coverage table leaves out
        coverage-conflict    a clause given two coverage statuses
        quote-mismatch       a quote that is not the ToR's text
        missing-reading      a parameter that declares no reading
        arity                a predicate used with the wrong number of arguments
        unbound-variable     a variable no positive condition grounds
        negation-through-recursion  a helper negated through its own recursion
        too-many-alternatives  a rule whose alternatives multiply past the compiler's bound
        format-internal      the formatter would change a rule file's tokens (a bug of torcheck)
    """),
    **_table("cases", "error", """
        case-yaml            a case file that is not YAML the case reader takes
        case-shape           a case that lacks a part or has one it should not
        case-date            a case's as-of date that is not YYYY-MM-DD
        case-severity        a case's expected severity that is not one of the rule's
        duplicate-case       two cases with one name
    """),
    # `torcheck lint` also reports the rulebook's duplicate-rule and duplicate-deadline, as warnings
    **_table("lint", "warning", """
        duplicate-condition  the same condition twice in one alternative
        missing-quote        a rule that quotes no ToR text
        untested-rule        a rule without a test case
        missing-case-kind    a rule without a violating case, a near miss or a boundary case
        orphan-cases         cases for a rule the rulebook does not have
        unused-parameter     a parameter no rule or helper uses
        unused-predicate     a helper no rule uses
    """),
    **_table("command line", "error", """
        not-found            a path on the command line that does not exist
        baseline             a baseline file that cannot be read as a JSON report
        output               the report cannot be written where -o (or standard output) says
    """),
    **_table("cache", "warning", """
        untrusted-cache      the cache folder is not used (written by others, or its key is not private)
    """),
}

CUTOFF = 0.75  # a misspelt field, kind, role, rule or record id (registry, compiler, command line)


def suggest(word: str, known, n: int = 1, cutoff: float = CUTOFF) -> str | None:
    """ "did you mean 'x'?" (or "'x' or 'y'") for WORD among KNOWN names, or None.

    A name that differs from WORD only in case comes first; otherwise the closest by difflib's ratio."""
    known = sorted(set(known))
    folded = [k for k in known if k.casefold() == word.casefold() and k != word]
    close = folded or difflib.get_close_matches(word, known, n=n, cutoff=cutoff)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close[:n]) + "?"


@dataclass(frozen=True)
class Location:
    """A place in an input file. `path` is as the user gave it, with `/` separators."""

    path: str
    line: int
    column: int | None = None

    def __str__(self) -> str:
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem with an input (registry, rulebook or command line)."""

    code: str  # a declared code (CODES below), e.g. "unknown-field", "dangling-ref"
    message: str
    location: Location | None = None
    source_line: str | None = None  # the offending line, for the caret display
    help: str | None = None

    # "error": the input cannot be used (exit 2); "warning": a finding (`torcheck lint`) or a cache not
    # used. Left out, the code's declared severity (CODES); a code not declared is an error.
    severity: str = ""

    def __post_init__(self):
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code].severity if self.code in CODES else "error")

    def sort_key(self):
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.code, self.message)
        return (loc.path, loc.line, loc.column or 0, self.code, self.message)

    def render(self) -> str:
        head = f"{self.severity}[{self.code}]: {self.message}"
        if self.location is not None:
            head = f"{self.location}: {head}"
        lines = [head]
        if self.source_line is not None and self.location is not None:
            lines.append("    " + self.source_line.rstrip("\n"))
            if self.location.column:
                lines.append("    " + " " * (self.location.column - 1) + "^")
        if self.help:
            lines.append(f"    help: {self.help}")
        return "\n".join(line.translate(_VISIBLE) for line in lines)


# Control characters of an input file (or its name) are shown, not sent to the terminal: an escape
# sequence in a source line would otherwise reach it as is. One character for one, so carets stay aligned.
_VISIBLE = {c: 0x2400 + c for c in range(0x20) if c != 0x09}
_VISIBLE.update({0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)}})


class InputError(Exception):
    """Raised with every diagnostic of a stage; the CLI prints them and exits 2."""

    def __init__(self, diagnostics):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(d.render() for d in self.diagnostics))
