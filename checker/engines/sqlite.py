"""The SQLite engine: the program evaluated set-at-a-time in an in-memory database.

Every relation is a table `t<N>` (N its index in the sorted relation names;
no name of a relation, which may come from a rulebook, ever becomes SQL),
with one untyped column per argument, so values keep their Python type
(integers stay integers, ISO dates and ids stay text, and the two never
compare equal) and the table holds a set: all its columns are its primary
key. Relations that rules read get an index on each further column too.

The derived relations are computed stratum by stratum (checker.engines.checks
orders them and refuses a program with negation through recursion): a
non-recursive rule is one `INSERT ... SELECT`; a recursive stratum is
iterated semi-naively until no rule adds a row. Its relations are rowid
tables, so the rows a round adds are a rowid range; each round joins every
recursive atom in turn with the previous round's range (its delta) and the
other atoms with whole relations, and inserts only rows the relation lacks.
Bodies become joins:

- a positive atom is a table in FROM, its constants and repeated variables
  conditions in WHERE;
- a negated conjunction is a correlated `NOT EXISTS (SELECT 1 ...)` sharing
  the variables bound before it;
- a comparison is a SQL comparison; an assignment (Let) names an expression
  that is substituted wherever its variable is used;
- a call of one of checker.dates.FUNCTIONS is a user function registered
  with create_function(deterministic=True) under a generated name. A call
  that fails (a date past year 9999) gives NULL, which no comparison or
  join accepts, so the row is dropped (pyDatalog, in the same case, carries
  the Python exception object along as a value).

Every constant, from a rule or a registry, is a bound parameter.

`load` and `retract` change facts; before the next query, the strata that
read a changed relation (directly or through a lower stratum) are computed
again, the others keep their rows. Statistics (ANALYZE) are kept for the relations
of facts only.
"""
from __future__ import annotations

import sqlite3
import threading

from .. import ir
from ..dates import FUNCTIONS
from . import sort_rows
from .checks import check, stratify

_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _safe(fn):
    """A dates function as SQLite calls it: NULL in, NULL out; a failure is NULL."""

    def call(*args):
        if any(a is None for a in args):
            return None
        try:
            v = fn(*args)
        except Exception:  # noqa: BLE001 - any failure of a rule's arithmetic drops the row
            return None
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            return None
        if isinstance(v, int) and not _INT64[0] <= v <= _INT64[1]:
            return None
        return v

    return call


class _Query:
    """One SQL statement under construction: aliases, conditions, named parameters."""

    def __init__(self, params: dict, counter: list):
        self.params = params  # shared by the statement and its subqueries
        self.counter = counter  # [next alias number]
        self.tables: list[str] = []
        self.where: list[str] = []

    def const(self, value) -> str:
        name = f"k{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def alias(self) -> str:
        self.counter[0] += 1
        return f"a{self.counter[0]}"


class _Compiled:
    """A program translated once: its strata, its statements, and an empty database to copy."""

    def __init__(self, program: ir.Program):
        check(program)
        self.program = program
        self.shape = _shape(program)
        self.strata = stratify(program)
        self.table = {rel: f"t{i}" for i, rel in enumerate(sorted(program.relations))}
        self.fn = {name: f"f{i}" for i, name in enumerate(sorted(FUNCTIONS))}
        self.derived = sorted({r.head for r in program.rules})
        recursive = {rel for st in self.strata if st.recursive for rel in st.relations}
        self.indexes: dict[str, list] = {}  # table -> [(index name, CREATE INDEX statement)]
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        read = {rel for rule in program.rules for rel, _ in ir.relations_used(rule.body)}
        self.read = read
        for rel, arity in sorted(program.relations.items()):
            self.indexes[self.table[rel]] = _create(db, self.table[rel], arity, indexed=rel in read,
                                                    rowid=rel in recursive)
        self.plan = [self._compile_stratum(st) for st in self.strata]
        self.reads = [{rel for r in st.rules for rel, _ in ir.relations_used(r.body)} for st in self.strata]
        for rel, rows in sorted(program.static_facts.items()):
            _insert(db, self.table[rel], program.relations[rel], rows)
        self.template = db
        self.lock = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False,
                             cached_statements=1024)
        with self.lock:
            self.template.backup(db)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA temp_store = MEMORY")
        for name, sql_name in self.fn.items():
            f = FUNCTIONS[name]
            for n in _arities(f):
                db.create_function(sql_name, n, _safe(f), deterministic=True)
        return db

    # ------------------------------------------------------------ translation
    def _term(self, t, env: dict, q: _Query) -> str:
        if isinstance(t, ir.V):
            return env[t.name]
        if isinstance(t, ir.K):
            return q.const(t.value)
        if isinstance(t, ir.Fn):
            return f"{self.fn[t.name]}({', '.join(self._term(a, env, q) for a in t.args)})"
        raise TypeError(t)

    def _body(self, body, env: dict, q: _Query, sources: dict):
        """Add a body's tables and conditions to q; env maps variables to SQL expressions."""
        for i, lit in enumerate(body):
            if isinstance(lit, ir.Pos):
                a = q.alias()
                q.tables.append(f"{sources.get(i, self.table[lit.rel])} AS {a}")
                for j, arg in enumerate(lit.args):
                    col = f"{a}.c{j}"
                    if isinstance(arg, ir.V) and arg.name not in env:
                        env[arg.name] = col
                    else:
                        q.where.append(f"{col} = {self._term(arg, env, q)}")
            elif isinstance(lit, ir.Let):
                expr = self._term(lit.expr, env, q)
                if lit.var.name in env:
                    q.where.append(f"{env[lit.var.name]} = {expr}")
                else:
                    env[lit.var.name] = f"({expr})"
            elif isinstance(lit, ir.Cmp):
                q.where.append(f"{self._term(lit.left, env, q)} {_OPS[lit.op]} {self._term(lit.right, env, q)}")
            elif isinstance(lit, ir.Neg):
                sub = _Query(q.params, q.counter)
                self._body(lit.body, dict(env), sub, {})
                q.where.append(f"NOT EXISTS ({_select('1', sub)})")
            else:
                raise TypeError(lit)

    def _rule_sql(self, rule: ir.Rule, sources: dict, target: str, only_new: bool = False):
        """INSERT OR IGNORE INTO target SELECT the rule's head; sources replace tables of some atoms.

        only_new: leave out the rows the target has (a recursive relation read by the same statement,
        which SQLite would otherwise copy whole, duplicates included, before inserting).
        """
        params: dict = {}
        q = _Query(params, [0])
        env: dict = {}
        self._body(rule.body, env, q, sources)
        exprs = [self._term(a, env, q) for a in rule.args] or ["1"]
        if only_new:
            same = " AND ".join(f"x.c{i} = {e}" for i, e in enumerate(exprs))
            q.where.append(f"NOT EXISTS (SELECT 1 FROM {target} AS x WHERE {same})")
        return f"INSERT OR IGNORE INTO {target} {_select(', '.join(exprs), q)}", params

    def _compile_stratum(self, st):
        """("plain", statements) or ("recursive", tables, base statements, round statements).

        A recursive relation is a rowid table: the rows a round adds get the next rowids, so the rows
        new in the previous round (its delta) are those with rowid in (:lo_K, :hi_K]. A round joins each
        recursive atom in turn with its delta and the other atoms with the whole relations.
        """
        if not st.recursive:
            return ("plain", [self._rule_sql(r, {}, self.table[r.head]) for r in st.rules])
        index = {rel: k for k, rel in enumerate(st.relations)}
        base, step = [], []
        for r in st.rules:
            rec = [i for i, lit in enumerate(r.body) if isinstance(lit, ir.Pos) and lit.rel in index]
            if not rec:
                base.append(self._rule_sql(r, {}, self.table[r.head]))
            for i in rec:
                k = index[r.body[i].rel]
                delta = f"(SELECT * FROM {self.table[r.body[i].rel]} WHERE rowid > :lo_{k} AND rowid <= :hi_{k})"
                step.append(self._rule_sql(r, {i: delta}, self.table[r.head], only_new=True))
        return ("recursive", tuple(self.table[rel] for rel in st.relations), base, step)


_COMPILED: dict[int, _Compiled] = {}
_COMPILED_LOCK = threading.Lock()


def _shape(program: ir.Program):
    return (len(program.relations), len(program.rules), sum(len(v) for v in program.static_facts.values()))


def compiled(program: ir.Program) -> _Compiled:
    """The translation of a program, made once per program object (a rulebook is compiled once, checked often)."""
    with _COMPILED_LOCK:
        c = _COMPILED.get(id(program))
        if c is not None and c.program is program and c.shape == _shape(program):
            return c
    c = _Compiled(program)
    with _COMPILED_LOCK:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        _COMPILED[id(program)] = c
    return c


class SQLiteEngine:
    name = "sqlite"

    def __init__(self, program: ir.Program):
        self.c = compiled(program)
        self.program = program
        self.db = self.c.connect()
        self.changed: set | None = None  # relations of facts changed since the last evaluation; None: all
        self.analyzed: set = set()
        # facts of relations no rule reads (a field only explanations show): kept here, put in their
        # table only if one is asked for (an ad hoc query)
        self.unread: dict[str, list] = {}
        self.lost: set = set()  # relations whose facts a restored engine does not have (see restore)

    # ------------------------------------------------------------ evaluation
    def _run(self):
        """Bring the derived relations up to date: the strata that read a changed relation, in order."""
        db, c = self.db, self.c
        changed = None if self.changed is None else set(self.changed)
        db.execute("BEGIN")
        try:
            for st, step, reads in zip(c.strata, c.plan, c.reads):
                if changed is not None:
                    if not reads & changed:
                        continue
                    changed.update(st.relations)
                for rel in st.relations:
                    db.execute(f"DELETE FROM {c.table[rel]}")
                self._step(step)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.changed = set()

    def _step(self, step):
        db = self.db
        if step[0] == "plain":
            for sql, params in step[1]:
                db.execute(sql, params)
            return
        _, tables, base, rounds = step
        for sql, params in base:
            db.execute(sql, params)
        hi = [0] * len(tables)
        while True:
            lo, hi = hi, [db.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0] for t in tables]
            if lo == hi:
                break
            bounds = {f"lo_{k}": v for k, v in enumerate(lo)} | {f"hi_{k}": v for k, v in enumerate(hi)}
            for sql, params in rounds:
                db.execute(sql, params | bounds)

    # ------------------------------------------------------------ the engine interface
    def _facts(self, facts: dict, unread=None):
        """The relations of facts to change; those no rule reads go to `unread` when it is given."""
        for rel in sorted(facts):
            if rel in self.c.table and rel in self.program.edb and rel not in self.c.derived and facts[rel]:
                if unread is not None and rel not in self.c.read:
                    unread.setdefault(rel, []).extend(facts[rel])
                    continue
                yield rel, self.c.table[rel], self.program.relations[rel], facts[rel]

    def _note(self, rel):
        if self.changed is not None:
            self.changed.add(rel)

    def load(self, facts: dict, every: bool = False):
        """Add facts; every=False keeps the rows of relations no rule reads out of the tables (`unread`)."""
        db = self.db
        db.execute("BEGIN")
        loaded = []
        for rel, table, arity, rows in self._facts(facts, None if every else self.unread):
            first = table not in self.analyzed and len(rows) > 1000
            if first:  # a first, large load: rows in key order, indexes built once afterwards
                for name, _ in self.c.indexes.get(table, ()):
                    db.execute(f"DROP INDEX {name}")
                rows = _in_order(rows)
            _insert(db, table, arity, rows)
            if first:
                for _, create in self.c.indexes.get(table, ()):
                    db.execute(create)
            loaded.append(table)
            self._note(rel)
        db.execute("COMMIT")
        # statistics of the relations of facts only, once (a what-if's few rows do not change them):
        # derived relations are empty now, and statistics saying so would lead the planner to scan them
        # in the outer loop once they are full
        for table in loaded:
            if table not in self.analyzed:
                self.db.execute(f"ANALYZE {table}")
                self.analyzed.add(table)

    def retract(self, facts: dict):
        for rel in facts:
            if rel in self.unread:
                gone = set(facts[rel])
                self.unread[rel] = [r for r in self.unread[rel] if r not in gone]
        self.db.execute("BEGIN")
        for rel, table, arity, rows in self._facts(facts):
            cond = " AND ".join(f"c{i} = ?" for i in range(max(arity, 1)))
            data = rows if arity else [(1,) for _ in rows]
            self.db.executemany(f"DELETE FROM {table} WHERE {cond}", data)
            self._note(rel)
        self.db.execute("COMMIT")

    def query(self, rel: str):
        if rel in self.lost:
            raise RuntimeError(f"relation {rel} was not kept with the saved database")
        rows = self.unread.pop(rel, None)
        if rows:
            self.load({rel: rows}, every=True)
        if self.changed is None or self.changed:
            self._run()
        n = self.program.relations[rel]
        rows = self.db.execute(f"SELECT * FROM {self.c.table[rel]}").fetchall()
        if n == 0:
            return [()] if rows else []
        return sort_rows(rows)

    def close(self):
        self.db.close()

    # ------------------------------------------------------------ kept between runs
    def save(self, path) -> None:
        """Write the database, its derived relations brought up to date, to `path` (atomically).

        The facts of relations no rule reads (`unread`) are not in it: an engine restored from the file
        answers for every relation a rule reads, and refuses to answer for those.
        """
        import os
        import tempfile

        if self.changed is None or self.changed:
            self._run()
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".sqlite", dir=os.path.dirname(os.fspath(path)) or ".")
        os.close(fd)
        try:
            dst = sqlite3.connect(tmp)
            try:
                self.db.backup(dst)
            finally:
                dst.close()
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def dump(self) -> bytes:
        """The bytes of the database `save` would write (for checker.memo, which seals them)."""
        if self.changed is None or self.changed:
            self._run()
        return self.db.serialize()

    @classmethod
    def restore(cls, program: ir.Program, path) -> "SQLiteEngine":
        """An engine in the state `save` wrote to `path` (or `dump` returned, as bytes), for the same program.

        The file is data: it is read only if it holds exactly the tables and indexes this program's
        database has (and SQLite's statistics), nothing else (no view, no trigger); otherwise, or if it
        is not a database, sqlite3.DatabaseError. Bytes are what checker.memo has checked the seal of:
        the database is made from them, not read again from a file that might have changed since.
        """
        eng = cls(program)
        if isinstance(path, (bytes, bytearray)):
            src = sqlite3.connect(":memory:")
            try:
                src.deserialize(bytes(path))
            except (sqlite3.Error, OverflowError, ValueError) as e:
                src.close()
                raise sqlite3.DatabaseError(f"not a database this program saved: {e}") from None
        else:
            src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            schema = "SELECT type, name, tbl_name, sql FROM sqlite_master"
            want = set(eng.db.execute(schema).fetchall())
            have = set(src.execute(schema).fetchall())
            extra = {row for row in have - want if not (row[0] == "table" and row[1].startswith("sqlite_stat"))}
            if extra or want - have:
                raise sqlite3.DatabaseError(f"{path} is not a database this program saved")
            src.backup(eng.db)
        finally:
            src.close()
        eng.changed = set()
        eng.analyzed = set(eng.c.table.values())
        eng.lost = {rel for rel in program.edb if rel not in eng.c.read}
        return eng


def _create(db, table: str, arity: int, indexed: bool, rowid: bool = False):
    """A set of rows: all columns the key; a rowid table with a unique index when rows are read in rowid order.

    Returns the secondary indexes made, as (name, statement).
    """
    cols = [f"c{i}" for i in range(max(arity, 1))]
    if rowid:
        db.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
        db.execute(f"CREATE UNIQUE INDEX {table}_key ON {table} ({', '.join(cols)})")
    else:
        db.execute(f"CREATE TABLE {table} ({', '.join(cols)}, PRIMARY KEY ({', '.join(cols)})) WITHOUT ROWID")
    made = []
    if indexed:
        for i, col in enumerate(cols[1:], 1):
            # covering: the key's columns ride along in a WITHOUT ROWID table's index, not in a rowid table's
            key = [col] + [c for c in cols if c != col] if rowid else [col]
            made.append((f"{table}_{col}", f"CREATE INDEX {table}_{col} ON {table} ({', '.join(key)})"))
            db.execute(made[-1][1])
    return made


def _in_order(rows):
    try:
        return sorted(rows)
    except TypeError:  # integers and texts in one column: any order will do
        return rows


def _insert(db, table: str, arity: int, rows):
    marks = ", ".join("?" * max(arity, 1))
    data = rows if arity else [(1,) for _ in rows]
    db.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", data)


def _select(cols: str, q: _Query) -> str:
    sql = f"SELECT {cols}"
    if q.tables:
        sql += " FROM " + ", ".join(q.tables)
    if q.where:
        sql += " WHERE " + " AND ".join(q.where)
    return sql


def _arities(fn):
    """The numbers of arguments a function accepts (make_date takes 2 or 3)."""
    import inspect

    ps = list(inspect.signature(fn).parameters.values())
    required = sum(1 for p in ps if p.default is inspect.Parameter.empty)
    return range(required, len(ps) + 1)
