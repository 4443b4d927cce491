"""`torcheck fmt`: one canonical layout, every token and comment kept, idempotent."""
import random
import shutil
import textwrap

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark, get_terminal_names
from lark.lexer import PatternStr

from checker.cli import main
from checker.fmt import _annotate, format_text, lossless_parse, tokens
from checker.parse import parse_text, parser

from .conftest import RULES, torcheck

RULE_FILES = sorted(RULES.glob("*.rules"))

MESSY = textwrap.dedent('''\


    # a comment at the top
    body  secretariat "the secretariat"
    body partners    "the partners"
    logo u4ssc "logo"
    kind things ( thing )  "Things"   {
        id id
     owner   ref( people , organizations )  "is owned by"   # trailing
           start date required
      # a comment inside a kind
      kind_of enum(a,
          b, c) "kind"
       }
    parameter grace=30 days cites "20(e)"   reading "thirty"
    predicate owned( X ,D: thing )"{X} is owned" when
          thing( X ) , X . owner is present , X.start<=D
        or thing(X),X.start>D+grace,
      D in {a,b}
    rule thing-unowned clause "1"  modality obligation
     severity Sev( error,warning ) quote "цитата  с   пробелами"
          summary "s" note """a long
       note over lines""" record X
          message "{X}" when thing(X),
     not (owned(X, D),
      X.start = D) "{X} is owned",Sev=error
        # before or
        or thing(X), Sev = warning,
               not (X.start is absent
           or X.owner is absent)
       "desc"
    clause "2" not computable "reason"
    clause "3" data
        "reason three"
    ''')

CANONICAL = textwrap.dedent('''\
    # a comment at the top
    body secretariat "the secretariat"
    body partners    "the partners"

    logo u4ssc "logo"

    kind things (thing) "Things" {
      id    id
      owner ref(people, organizations) "is owned by"  # trailing
      start date required
      # a comment inside a kind
      kind_of enum(a,
                   b, c) "kind"
    }

    parameter grace = 30 days
      cites "20(e)"
      reading "thirty"

    predicate owned(X, D: thing) "{X} is owned" when
      thing(X), X.owner is present, X.start <= D
      or thing(X), X.start > D + grace,
      D in {a, b}

    rule thing-unowned
      clause "1"
      modality obligation
      severity Sev(error, warning)
      quote "цитата  с   пробелами"
      summary "s"
      note """a long
       note over lines"""
      record X
      message "{X}"
      when
        thing(X),
        not (owned(X, D),
             X.start = D) "{X} is owned", Sev = error
      # before or
      or
        thing(X), Sev = warning,
        not (X.start is absent
             or X.owner is absent)
          "desc"

    clause "2" not computable "reason"

    clause "3" data
      "reason three"
    ''')


def test_a_messy_file_in_the_canonical_layout():
    assert format_text(MESSY) == CANONICAL
    assert format_text(CANONICAL) == CANONICAL
    assert tokens(MESSY) == tokens(CANONICAL)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_every_rule_file_keeps_its_tokens_and_formats_once(path):
    text = path.read_text(encoding="utf-8")
    once = format_text(text, path.name)
    assert tokens(once) == tokens(text)  # every token and comment, in order (white space aside)
    assert format_text(once, path.name) == once  # idempotent
    # comments and strings are copied exactly
    kept = [v for t, v in tokens(text) if t in ("COMMENT", "STRING", "LONG_STRING")]
    assert all(v in once for v in kept)


def _shuffled_layout(text: str, rnd: random.Random) -> str:
    """The same tokens with other white space: indentation, spaces, extra blank lines, joined attributes."""
    tree, comments = lossless_parse(text)
    toks = sorted(_annotate(tree) + [type(_annotate(tree)[0])(c, -1, "comment") for c in comments],
                  key=lambda t: t.tok.start_pos)
    out, pos, prev = [], 0, None
    for t in toks:
        gap = text[pos:t.tok.start_pos]
        n = gap.count("\n")
        if prev is None:
            new = gap
        elif n == 0:
            new = rnd.choice([" ", "  ", "\t", "   "]) if gap else rnd.choice(["", "", " "])
        elif n == 1 and t.break_before and prev.type != "COMMENT" and rnd.random() < 0.5:
            new = " "  # an attribute joined to the line before: fmt breaks it again
        else:
            extra = rnd.choice([0, 0, 1, 2]) if n >= 2 else 0
            new = "\n" * (n + extra) + rnd.choice(["", " ", "      ", "\t", "  \t "])
        out.append(new)
        out.append(str(t.tok))
        pos = t.tok.end_pos
        prev = t
    out.append(text[pos:])
    return "".join(out)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_layout_does_not_matter(path):
    text = path.read_text(encoding="utf-8")
    expected = format_text(text, path.name)
    rnd = random.Random(path.name)
    for _ in range(3):
        shuffled = _shuffled_layout(text, rnd)
        assert shuffled != text
        assert format_text(shuffled, path.name) == expected


def test_windows_line_ends_tabs_and_empty_files():
    assert format_text("rule x\r\n\tclause \"9\"\r\n\twhen\r\n\t\tt(X)  # c\r\n") == \
        'rule x\n  clause "9"\n  when\n    t(X)  # c\n'
    assert format_text("") == ""
    assert format_text("\n\n# only a comment   \n\n\n# and another\n") == "# only a comment\n\n# and another\n"


def test_the_shipped_rulebook_is_formatted():
    r = torcheck("fmt", "rules/u4ssc", "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert r.stderr == f"0 files would be reformatted, {len(RULE_FILES)} already formatted\n"


def test_check_lists_the_files_that_would_change_and_fmt_rewrites_them(tmp_path):
    rb = tmp_path / "rb"
    shutil.copytree(RULES, rb)
    messy = rb / "zz-messy.rules"
    messy.write_text(MESSY, encoding="utf-8")  # fmt looks at each file's layout, not at the rulebook
    r = CliRunner().invoke(main, ["fmt", str(rb), "--check"])
    assert r.exit_code == 1
    assert r.stdout == f"would reformat {rb.as_posix()}/zz-messy.rules\n"
    assert messy.read_text(encoding="utf-8").startswith("\n\n# a comment")  # untouched
    r = CliRunner().invoke(main, ["fmt", str(rb), "--check", "--diff"])
    assert "-    id id\n" in r.stdout and "+  id    id\n" in r.stdout
    # --diff alone prints what would change and writes nothing (issue 12: it used to rewrite the files)
    r = CliRunner().invoke(main, ["fmt", str(rb), "--diff"])
    assert r.exit_code == 0
    assert "-    id id\n" in r.stdout and "+  id    id\n" in r.stdout
    assert "reformatted" not in r.stdout
    assert messy.read_text(encoding="utf-8") == MESSY
    r = CliRunner().invoke(main, ["fmt", str(rb)])
    assert r.exit_code == 0
    assert r.stdout == f"reformatted {rb.as_posix()}/zz-messy.rules\n"
    assert messy.read_text(encoding="utf-8").startswith("# a comment at the top\nbody secretariat ")
    assert CliRunner().invoke(main, ["fmt", str(rb), "--check"]).exit_code == 0


def test_a_file_that_does_not_parse_is_left_alone(tmp_path):
    good = tmp_path / "a.rules"
    good.write_text("rule   x\n clause \"9\" when t(X)\n", encoding="utf-8")
    bad = tmp_path / "b.rules"
    bad.write_text("rule y when\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["fmt", str(tmp_path)])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"{tmp_path.as_posix()}/b.rules:1:12: error[syntax]: unexpected end of file")
    assert good.read_text(encoding="utf-8") == "rule   x\n clause \"9\" when t(X)\n"


def test_a_missing_path_exits_2(tmp_path):
    r = CliRunner().invoke(main, ["fmt", str(tmp_path / "nowhere")])
    assert r.exit_code == 2
    assert "error[not-found]" in r.stderr


def _generated_files():
    """Rule files drawn from the grammar itself, with white space and comments of every sort between tokens."""
    sep = st.sampled_from([" ", "  ", "\n", "\n\n    ", "\t", "\n  # a comment «цитата»  \n "])
    terms, rules, ignore = parser().grammar.compile(["start"], ())
    names = get_terminal_names(terms, rules, ignore)
    explicit = {}
    for t in parser().terminals:
        if t.name in names:
            s = st.just(t.pattern.value) if isinstance(t.pattern, PatternStr) else \
                st.from_regex(t.pattern.to_regexp(), fullmatch=True)
            explicit[t.name] = st.tuples(s, sep).map("".join)
    explicit["WS"] = st.just(" ")
    explicit["COMMENT"] = st.just("# c\n")
    return from_lark(parser(), start="start", explicit=explicit)


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(text=_generated_files())
def test_any_file_of_the_grammar_formats_once_and_keeps_its_tokens(text):
    tree, diags = parse_text(text, "gen.rules")
    if tree is None:  # the generator may glue two tokens into one: not a rule file, nothing to format
        return
    once = format_text(text, "gen.rules")  # checks its own tokens and tree, or raises
    assert format_text(once, "gen.rules") == once
