"""The migration runner: versioned schema files once each, then the policy files declaratively.

- `db/schema/NNNN_name.sql` are applied in order, each exactly once and in its own transaction, and recorded
  in `supabase_migrations.schema_migrations` (the Supabase CLI's table and format) with a sha256 beside it
  (`supabase_migrations.nexk_checksums`), so an edited, already-applied file is refused by name.
- `db/functions/*.sql` (one file per concern) hold every SQL function once, as `create or replace`: a changed
  file is applied again, in the order its `-- nexk: after <file>` headers declare, each in its own
  transaction; a migration with a `-- nexk: functions` line has the changed files applied at that line (so
  it can create the table a function needs before it, and the trigger that calls it after). Signature
  changes and drops stay in migrations; the runner says so when a file would change a signature in place.
- `db/policies/*.sql` (one file per table) are applied after the migrations whenever they changed: inside
  one transaction, every policy of the tables the file names is dropped and the file recreates them, so a
  policy change is the reviewable diff of one file and re-running changes nothing.
- A baseline migration (`-- nexk: replaces <file> <sha256>` lines) stands for older migrations that
  were squashed into it: a database that applied exactly those files has it already, and the runner
  records it as applied there (the old rows move to `supabase_migrations.nexk_squashed`) without running
  anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pglast
import pglast.stream
import pglast.visitors
import psycopg
from psycopg import sql

from db.compat import ensure_compat
from db.logins import set_password
from nexk.errors import NexkError
from nexk.portal_login import PORTAL_LOGIN

DB_DIR = Path(__file__).resolve().parent
SCHEMA_DIR = DB_DIR / "schema"
POLICIES_DIR = DB_DIR / "policies"
FUNCTIONS_DIR = DB_DIR / "functions"
NO_TRANSACTION = re.compile(r"^--\s*nexk:\s*no-transaction\s*$", re.MULTILINE)
FUNCTIONS_MARKER = re.compile(r"^--\s*nexk:\s*functions\s*$", re.MULTILINE)
# `-- nexk: replaces 0007_tickets 1b49…` (the file name without .sql, its sha256): one line per squashed file.
REPLACES = re.compile(r"^--\s*nexk:\s*replaces\s+(?P<file>\S+)\s+(?P<sha>[0-9a-f]{64})\s*$", re.MULTILINE)
AFTER = re.compile(r"^--\s*nexk:\s*after\s+(?P<file>\S+)\s*$", re.MULTILINE)
MIGRATION_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

BOOKKEEPING = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
    version text not null primary key, statements text[], name text
);
create table if not exists supabase_migrations.nexk_checksums (
    version text primary key references supabase_migrations.schema_migrations (version) on delete cascade,
    sha256 text not null,
    applied_at timestamptz not null default now()
);
create table if not exists supabase_migrations.nexk_policy_files (
    name text primary key,
    sha256 text not null,
    tables text[] not null,
    applied_at timestamptz not null default now()
);
create table if not exists supabase_migrations.nexk_function_files (
    name text primary key,
    sha256 text not null,
    functions text[] not null,
    applied_at timestamptz not null default now()
);
create table if not exists supabase_migrations.nexk_squashed (
    version text primary key,
    name text not null,
    statements text[],
    sha256 text,
    squashed_into text not null,
    squashed_at timestamptz not null default now()
);
"""


class MigrationError(NexkError):
    """A file that could not be applied; the database is as it was before that file (a `no-transaction`
    file keeps the statements before the failing one: its message says so)."""


log = logging.getLogger("nexk.migrate")


@dataclass(frozen=True)
class Timeouts:
    """How long each file may wait for a lock and run, and how often a lock timeout is tried again.

    On a live database a migration that waits for a lock blocks every query that arrives after it on that
    table, so it must give up quickly (lock_timeout), let the queue drain, and try again (docs/migrations.md).
    Defaults: lock 2 s (the portal's requests run within 8 s, Supabase's statement_timeout for authenticated),
    statement 5 min (a whole file's longest statement, e.g. an index build), 5 tries, 1-2-4-8 s apart.
    Environment: NEXK_MIGRATE_LOCK_TIMEOUT, NEXK_MIGRATE_STATEMENT_TIMEOUT (PostgreSQL durations: 500ms, 2s,
    5min; 0 disables), NEXK_MIGRATE_LOCK_TRIES (a whole number from 1). A file may still `set local` its own.
    """

    lock: str = "2s"
    statement: str = "5min"
    tries: int = 5
    backoff: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # seconds before try 2, 3, ...; the last one repeats

    @classmethod
    def from_environment(cls) -> Timeouts:
        default = cls()
        tries = os.environ.get("NEXK_MIGRATE_LOCK_TRIES", str(default.tries)).strip()
        if not tries.isdigit() or int(tries) < 1:
            raise MigrationError(
                f"NEXK_MIGRATE_LOCK_TRIES={tries!r}: give a whole number of tries, 1 or more (default {default.tries})."
            )
        return cls(
            lock=os.environ.get("NEXK_MIGRATE_LOCK_TIMEOUT", default.lock).strip(),
            statement=os.environ.get("NEXK_MIGRATE_STATEMENT_TIMEOUT", default.statement).strip(),
            tries=int(tries),
        )

    def pause_before(self, attempt: int) -> float:
        """Seconds to wait before try `attempt` (2, 3, ...)."""
        return self.backoff[min(attempt - 2, len(self.backoff) - 1)] if self.backoff else 0.0

    def apply(self, conn: psycopg.Connection) -> None:
        """Set both timeouts for the current transaction only; a bad value is refused by name."""
        for setting, value, variable in (
            ("lock_timeout", self.lock, "NEXK_MIGRATE_LOCK_TIMEOUT"),
            ("statement_timeout", self.statement, "NEXK_MIGRATE_STATEMENT_TIMEOUT"),
        ):
            try:
                with conn.transaction():
                    conn.execute("select pg_catalog.set_config(%s, %s, true)", (setting, value))
            except psycopg.DataError as exc:
                raise MigrationError(
                    f"{variable}={value!r} is not a PostgreSQL duration for {setting} (e.g. 500ms, 2s, 5min; "
                    "0 disables it)."
                ) from exc


@dataclass(frozen=True)
class SqlFile:
    path: Path

    @cached_property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def relpath(self) -> str:
        try:
            return str(self.path.relative_to(DB_DIR.parent))
        except ValueError:
            return str(self.path)

    def statements(self) -> list[tuple[int, str]]:
        """(first line, text) of each statement; a syntax error names the file and the line."""
        return list(self._statements)

    @cached_property
    def _statements(self) -> list[tuple[int, str]]:
        try:
            slices = pglast.split(self.sql, with_parser=True, only_slices=True)
        except pglast.parser.ParseError as exc:
            location = exc.args[1] if len(exc.args) > 1 else 0  # pglast: (message, character offset)
            line = self.sql.count("\n", 0, max(int(location), 0)) + 1
            raise MigrationError(f"{self.relpath}:{line}: syntax error: {exc.args[0]}") from exc
        return [(self.sql.count("\n", 0, s.start) + 1, self.sql[s]) for s in slices]


@dataclass(frozen=True)
class MigrationFile(SqlFile):
    version: str = ""
    name: str = ""

    @property
    def transactional(self) -> bool:
        """False for a file marked `-- nexk: no-transaction` (create index concurrently, validate constraint:
        statements PostgreSQL refuses in a transaction block, or that should not hold locks together)."""
        return NO_TRANSACTION.search(self.sql) is None

    @cached_property
    def replaces(self) -> dict[str, tuple[str, str]]:
        """A baseline's squashed migrations, {version: (name, sha256)} from its `-- nexk: replaces` lines."""
        found: dict[str, tuple[str, str]] = {}
        for match in REPLACES.finditer(self.sql):
            name = MIGRATION_NAME.match(match["file"].removesuffix(".sql") + ".sql")
            if not name:
                raise MigrationError(
                    f"{self.relpath}: `-- nexk: replaces {match['file']}` does not name a migration file "
                    "(NNNN_name)."
                )
            found[name["version"]] = (name["name"], match["sha"])
        return found

    @cached_property
    def functions_at(self) -> int | None:
        """Where the `-- nexk: functions` line is (a character offset), if the file has one: the changed
        db/functions files are applied there, inside this migration's transaction."""
        markers = list(FUNCTIONS_MARKER.finditer(self.sql))
        if len(markers) > 1:
            raise MigrationError(f"{self.relpath}: more than one `-- nexk: functions` line; keep one.")
        if markers and not self.transactional:
            raise MigrationError(
                f"{self.relpath}: `-- nexk: functions` needs a transaction; this file is `no-transaction`."
            )
        return markers[0].start() if markers else None

    def split_statements(self) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """The statements before and after the `-- nexk: functions` line (all before when it has none)."""
        line = None if self.functions_at is None else self.sql.count("\n", 0, self.functions_at) + 1
        statements = self.statements()
        if line is None:
            return statements, []
        return [s for s in statements if s[0] < line], [s for s in statements if s[0] > line]


@dataclass(frozen=True)
class PolicyFile(SqlFile):
    name: str = ""

    def tables(self) -> list[str]:
        """The tables whose policies this file owns (every `create policy ... on <table>` in it)."""
        found: list[str] = []
        for raw in pglast.parse_sql(self.sql):
            stmt = raw.stmt
            if isinstance(stmt, pglast.ast.CreatePolicyStmt):
                rel = stmt.table
                if rel is None:
                    continue
                qualified = f"{rel.schemaname or 'public'}.{rel.relname}"
                if qualified not in found:
                    found.append(qualified)
        return found


@dataclass(frozen=True)
class FunctionFile(SqlFile):
    """One concern's SQL functions (db/functions/<concern>.sql): `create or replace function`, with the
    comments and the grants of each, and nothing else. A file names the files it needs before it with
    `-- nexk: after <file>` lines."""

    name: str = ""

    @cached_property
    def _parsed(self) -> list[tuple[int, pglast.ast.Node]]:
        return [(line, _statement(text)) for line, text in self.statements()]

    @cached_property
    def after(self) -> list[str]:
        return [m["file"] for m in AFTER.finditer(self.sql)]

    @cached_property
    def definitions(self) -> list[tuple[str, list[str], bool, int]]:
        """(schema.name, argument types as written, SQL-language body?, line) of each function it defines;
        any other statement is refused, naming its line and where it belongs."""
        found = []
        for first_line, stmt in self._parsed:
            if isinstance(stmt, pglast.ast.CreateFunctionStmt) and stmt.replace and not stmt.is_procedure:
                name = ".".join(part.sval for part in stmt.funcname or ())
                if "." not in name:
                    raise MigrationError(f"{self.relpath}:{first_line}: qualify {name} with its schema.")
                args = [
                    pglast.stream.RawStream()(param.argType)
                    for param in stmt.parameters or ()
                    if param.mode
                    not in (
                        pglast.enums.FunctionParameterMode.FUNC_PARAM_OUT,
                        pglast.enums.FunctionParameterMode.FUNC_PARAM_TABLE,
                    )
                ]
                language = next((o.arg.sval for o in stmt.options or () if o.defname == "language"), "")
                found.append((name, args, language.lower() == "sql", first_line))
                continue
            on_function = pglast.enums.ObjectType.OBJECT_FUNCTION
            if isinstance(stmt, pglast.ast.CommentStmt) and stmt.objtype == on_function:
                continue
            if (
                isinstance(stmt, pglast.ast.GrantStmt)
                and stmt.objtype == on_function
                and stmt.targtype == pglast.enums.GrantTargetType.ACL_TARGET_OBJECT
            ):
                continue
            raise MigrationError(
                f"{self.relpath}:{first_line}: db/functions files hold only `create or replace function`, "
                "`comment on function` and `grant`/`revoke ... on function` (re-applied whenever the file "
                "changes). Put this statement in a migration (db/schema/), drops and signature changes too."
            )
        return found

    def calls_from_sql_bodies(self) -> list[tuple[int, str]]:
        """(line, schema.name) of each function its SQL-language bodies call. PostgreSQL checks such a body
        when it creates the function, so what it calls must exist by then (plpgsql is checked when it runs)."""
        called: list[tuple[int, str]] = []
        for first_line, stmt in self._parsed:
            if not isinstance(stmt, pglast.ast.CreateFunctionStmt):
                continue
            language = next((o.arg.sval for o in stmt.options or () if o.defname == "language"), "")
            if language.lower() != "sql":
                continue
            body = next(o.arg for o in stmt.options or () if o.defname == "as")
            for item in body:
                for node in pglast.parse_sql(item.sval):
                    called.extend((first_line, name) for name in sorted(_called_functions(node)))
        return called


def _statement(text: str) -> pglast.ast.Node:
    """The parse tree of one statement's text (as SqlFile.statements() yields them)."""
    stmt = pglast.parse_sql(text)[0].stmt
    if stmt is None:
        raise MigrationError(f"no SQL statement in {text!r}")
    return stmt


def _called_functions(tree: pglast.ast.Node | tuple[pglast.ast.Node, ...]) -> set[str]:
    """schema.name of every schema-qualified function call in a parse tree."""
    called: set[str] = set()

    class Calls(pglast.visitors.Visitor):
        def visit_FuncCall(self, _ancestors: object, node: pglast.ast.FuncCall) -> None:
            parts = [part.sval for part in node.funcname or ()]
            if len(parts) == 2:
                called.add(".".join(parts))

    Calls()(tree)
    return called


@dataclass
class Plan:
    applied: list[tuple[str, str]] = field(default_factory=list)  # (version, name)
    pending_migrations: list[MigrationFile] = field(default_factory=list)
    changed_policies: list[PolicyFile] = field(default_factory=list)
    removed_policies: list[str] = field(default_factory=list)
    changed_functions: list[FunctionFile] = field(default_factory=list)
    removed_functions: list[str] = field(default_factory=list)
    adopt_baseline: MigrationFile | None = None  # the database applied what this baseline replaces

    @property
    def up_to_date(self) -> bool:
        return not (
            self.pending_migrations
            or self.changed_policies
            or self.removed_policies
            or self.changed_functions
            or self.removed_functions
            or self.adopt_baseline
        )


def load_migrations(directory: Path = SCHEMA_DIR) -> list[MigrationFile]:
    files: list[MigrationFile] = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path}: migration file names look like 0007_short_name.sql (four digits, underscore, "
                "lower-case name): rename it."
            )
        file = MigrationFile(path=path, version=match["version"], name=match["name"])
        file.functions_at  # noqa: B018 (a misplaced `-- nexk: functions` line is refused here, before anything runs)
        files.append(file)
    versions = [f.version for f in files]
    for version in {v for v in versions if versions.count(v) > 1}:
        names = ", ".join(f.path.name for f in files if f.version == version)
        raise MigrationError(f"Two migrations share version {version} ({names}): renumber one of them.")
    return files


def load_policies(directory: Path = POLICIES_DIR) -> list[PolicyFile]:
    return [PolicyFile(path=p, name=p.stem) for p in sorted(directory.glob("*.sql"))]


def load_functions(directory: Path = FUNCTIONS_DIR) -> list[FunctionFile]:
    """The function files in the order they are applied: each after the files its `-- nexk: after` lines
    name, otherwise by name. Refused before anything runs: an `after` naming no file, a cycle, a function
    defined in two files, and a file whose SQL-language body calls a function of a file not declared before
    it (PostgreSQL would refuse it on a new database: the message says which line to add)."""
    files = {p.name: FunctionFile(path=p, name=p.stem) for p in sorted(directory.glob("*.sql"))}
    for file in files.values():
        for needed in file.after:
            if needed not in files:
                raise MigrationError(
                    f"{file.relpath}: `-- nexk: after {needed}` names no file of {directory.name}/: "
                    f"correct it (files: {', '.join(files)})."
                )
    ordered: list[FunctionFile] = []
    placed: set[str] = set()
    while len(ordered) < len(files):
        ready = [f for n, f in files.items() if n not in placed and all(a in placed for a in f.after)]
        if not ready:
            stuck = ", ".join(n for n in files if n not in placed)
            raise MigrationError(
                f"db/functions: the `-- nexk: after` lines of {stuck} form a cycle: a file can not come after "
                "one that comes after it. Move the functions that both need into one file, or drop a line."
            )
        ordered.append(ready[0])
        placed.add(ready[0].path.name)
    defined_in: dict[str, FunctionFile] = {}
    for file in ordered:
        for name, args, _sql, line in file.definitions:
            signature = f"{name}({', '.join(args)})"
            other = defined_in.get(signature)
            if other is not None and other is not file:
                raise MigrationError(
                    f"{file.relpath}:{line}: {signature} is defined in {other.relpath} too: keep one."
                )
            defined_in[signature] = file
    first_definition: dict[str, tuple[FunctionFile, int]] = {}
    for file in ordered:
        for name, _args, _sql, line in file.definitions:
            first_definition.setdefault(name, (file, line))
    position = {f.path.name: i for i, f in enumerate(ordered)}
    for file in ordered:
        for line, called in file.calls_from_sql_bodies():
            home, home_line = first_definition.get(called, (None, 0))
            if home is None:
                continue
            if position[home.path.name] > position[file.path.name]:
                raise MigrationError(
                    f"{file.relpath}:{line} calls {called} from a SQL-language body, which {home.relpath} "
                    "defines and the declared order applies later (PostgreSQL checks a SQL body when it creates "
                    f"the function): add the line `-- nexk: after {home.path.name}` to {file.path.name}."
                )
            if home is file and home_line > line:
                raise MigrationError(
                    f"{file.relpath}:{line} calls {called} from a SQL-language body before line {home_line} "
                    "defines it (PostgreSQL checks a SQL body when it creates the function): move the "
                    "definition above its caller."
                )
    return ordered


@dataclass
class Recorded:
    """What the database's bookkeeping says was applied."""

    migrations: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # version: (name, sha256)
    policies: dict[str, tuple[str, list]] = field(default_factory=dict)  # name: (sha256, tables)
    functions: dict[str, tuple[str, list]] = field(default_factory=dict)  # name: (sha256, signatures)


def _recorded(conn: psycopg.Connection) -> Recorded:
    def exists(table: str) -> bool:
        row = conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()
        return bool(row and row[0])

    found = Recorded()
    if not exists("supabase_migrations.nexk_policy_files"):
        return found
    found.migrations = {
        version: (name, sha)
        for version, name, sha in conn.execute(
            "select m.version, m.name, c.sha256 from supabase_migrations.schema_migrations as m"
            " left join supabase_migrations.nexk_checksums as c on c.version = m.version order by m.version"
        )
    }
    found.policies = {
        name: (sha, tables)
        for name, sha, tables in conn.execute(
            "select name, sha256, tables from supabase_migrations.nexk_policy_files"
        )
    }
    if exists("supabase_migrations.nexk_function_files"):
        found.functions = {
            name: (sha, signatures)
            for name, sha, signatures in conn.execute(
                "select name, sha256, functions from supabase_migrations.nexk_function_files"
            )
        }
    return found


def _adopt_baseline(
    applied: dict[str, tuple[str, str | None]], migrations: list[MigrationFile]
) -> MigrationFile | None:
    """The baseline to record as applied when the database applied the migrations it replaces (and the
    history as it reads once that is done, in `applied`); refuses a database that stopped part-way."""
    for baseline in (m for m in migrations if m.replaces):
        done = applied.get(baseline.version)
        if done is not None and done[0] == baseline.name:
            continue  # built from the baseline, or already recorded
        have = sorted(v for v in baseline.replaces if v in applied)
        if not have:
            continue
        missing = sorted(v for v in baseline.replaces if v not in applied)
        if missing:
            names = ", ".join(f"{v}_{baseline.replaces[v][0]}" for v in missing)
            raise MigrationError(
                f"{baseline.relpath} replaces migrations this database applied only in part (missing: {names}). "
                "Bring it up to date with the runner of a commit that still has those files (`git log -- "
                f"db/schema/` names it; `git worktree add /tmp/nexk-old <commit>`, then `nexk db migrate` "
                "there), then run this one again."
            )
        for version in have:
            name, sha = baseline.replaces[version]
            done_name, done_sha = applied[version]
            if done_name != name or (done_sha is not None and done_sha != sha):
                raise MigrationError(
                    f"{baseline.relpath} replaces {version}_{name}.sql (sha256 {sha[:12]}…), but this database "
                    f"applied {version}_{done_name}.sql (sha256 {(done_sha or '?')[:12]}…): it was built from "
                    "other files. Compare it with the baseline (docs/migrations.md) before going on."
                )
        for version in have:
            del applied[version]
        applied[baseline.version] = (baseline.name, baseline.sha256)
        return baseline
    return None


def _plan(
    conn: psycopg.Connection,
    migrations: list[MigrationFile],
    policies: list[PolicyFile],
    functions: list[FunctionFile] | None = None,
) -> Plan:
    recorded = _recorded(conn)
    applied, applied_policies = dict(recorded.migrations), recorded.policies
    local = {m.version: m for m in migrations}
    adopt = _adopt_baseline(applied, migrations)
    plan = Plan(applied=[(v, name) for v, (name, _) in sorted(applied.items())], adopt_baseline=adopt)
    for version, (name, sha) in applied.items():
        file = local.get(version)
        if file is None:
            raise MigrationError(
                f"The database has migration {version}_{name} applied but db/schema/ has no such file: "
                "restore it (never delete an applied migration) or point at the right database."
            )
        if sha is not None and sha != file.sha256:
            raise MigrationError(
                f"{file.relpath} was edited after it was applied (recorded sha256 {sha[:12]}…, file now "
                f"{file.sha256[:12]}…). Applied migrations never change: restore the file and put the change "
                "in a new migration."
            )
    newest = max(applied, default="")
    plan.pending_migrations = [m for m in migrations if m.version not in applied]
    for m in plan.pending_migrations:
        if m.version < newest:
            raise MigrationError(
                f"{m.relpath} is older than the newest applied migration {newest}: renumber it after {newest}."
            )
        if m.replaces and applied:
            raise MigrationError(
                f"{m.relpath} is a baseline for a new database, but this one has migrations applied and not "
                f"those it replaces ({', '.join(sorted(applied))}): point at the right database."
            )
    declared = {name: f for f in functions or [] for name, _args, _sql, _line in f.definitions}
    for m in plan.pending_migrations:
        for first_line, text in m.statements():
            stmt = _statement(text)
            if isinstance(stmt, pglast.ast.CreateFunctionStmt):
                name = ".".join(part.sval for part in stmt.funcname or ())
                if name in declared:
                    raise MigrationError(
                        f"{m.relpath}:{first_line}: defines {name}, which {declared[name].relpath} declares: "
                        "change the body there instead (the file is applied after the migrations and would "
                        "undo this one). A migration only drops a function or changes its signature."
                    )
    # A migration may recreate a table (and so drop its policies): then every policy file is applied again.
    plan.changed_policies = [
        p for p in policies if plan.pending_migrations or applied_policies.get(p.name, (None,))[0] != p.sha256
    ]
    names = {p.name for p in policies}
    plan.removed_policies = sorted(n for n in applied_policies if n not in names)
    functions = functions or []
    plan.changed_functions = [f for f in functions if recorded.functions.get(f.name, (None,))[0] != f.sha256]
    plan.removed_functions = sorted(n for n in recorded.functions if n not in {f.name for f in functions})
    return plan


def plan(
    conninfo: str,
    schema_dir: Path = SCHEMA_DIR,
    policies_dir: Path = POLICIES_DIR,
    functions_dir: Path = FUNCTIONS_DIR,
) -> Plan:
    """What `migrate` would do on that database (changes nothing)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return _plan(
            conn, load_migrations(schema_dir), load_policies(policies_dir), load_functions(functions_dir)
        )


def _execute_statement(conn: psycopg.Connection, file: SqlFile, first_line: int, text: str) -> None:
    """Run one statement; an error names file, line and PostgreSQL's message."""
    try:
        conn.execute(text)  # no parameters: psycopg sends the text as is (no % interpolation)
    except psycopg.Error as exc:
        position = exc.diag.statement_position
        line = first_line + (text.count("\n", 0, int(position) - 1) if position else 0)
        message = (exc.diag.message_primary or str(exc)).strip()
        raise MigrationError(f"{file.relpath}:{line}: {message}") from exc


def _execute_file(
    conn: psycopg.Connection, file: SqlFile, statements: list[tuple[int, str]] | None = None
) -> list[str]:
    """Run every statement of a file, or the given ones of it (inside the caller's transaction); errors name
    file, line, message."""
    texts = []
    for first_line, text in file.statements() if statements is None else statements:
        try:
            _execute_statement(conn, file, first_line, text)
        except MigrationError as exc:
            raise MigrationError(f"{exc} (nothing of this file was applied)") from exc.__cause__
        texts.append(text)
    return texts


def _signatures(conn: psycopg.Connection, files: list[FunctionFile]) -> dict[str, list[str]]:
    """{file name: the signatures it defines}, as PostgreSQL spells them (`private.f(uuid, timestamp with
    time zone)`, the form of pg_catalog.oidvectortypes), so they compare with the catalog's."""
    defined = [[f.name, name, args] for f in files for name, args, _sql, _line in f.definitions]
    rows = conn.execute(
        "select e.item ->> 0, e.item ->> 1 || '(' || coalesce(("
        " select string_agg(coalesce(pg_catalog.format_type(pg_catalog.to_regtype(a.x), null), a.x), ', '"
        " order by a.o) from pg_catalog.jsonb_array_elements_text(e.item -> 2) with ordinality as a (x, o)"
        "), '') || ')' from pg_catalog.jsonb_array_elements(%s::jsonb) with ordinality as e (item, ord)"
        " order by e.ord",
        (json.dumps(defined),),
    ).fetchall()
    found: dict[str, list[str]] = {f.name: [] for f in files}
    for name, signature in rows:
        found[name].append(signature)
    return found


def _existing_signatures(conn: psycopg.Connection, names: set[str]) -> set[str]:
    rows = conn.execute(
        "select n.nspname || '.' || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'"
        " from pg_catalog.pg_proc as p inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace"
        " where n.nspname || '.' || p.proname = any(%s)",
        (sorted(names),),
    ).fetchall()
    return {r[0] for r in rows}


def _apply_function_file(conn: psycopg.Connection, file: FunctionFile, every: dict[str, list[str]]) -> None:
    """Apply one functions file inside the caller's transaction and record it. `every` holds the signatures
    of all function files: a function of the same name with a signature none of them defines would stay
    beside the new one (create or replace keys on the argument types), so that is refused."""
    mine = every[file.name]
    known = {signature for signatures in every.values() for signature in signatures}
    stray = sorted(_existing_signatures(conn, {s.split("(", 1)[0] for s in mine}) - known)
    if stray:
        raise MigrationError(
            f"{file.relpath} would change the signature of {', '.join(stray)} in place: `create or replace` "
            "would create a second function beside it instead. Signature changes go in a migration: in the "
            f"next numbered db/schema file `drop function {stray[0]};` (and recreate what used it, after a "
            "`-- nexk: functions` line), then run again. Nothing of this file was applied."
        )
    try:
        _execute_file(conn, file)
    except MigrationError as exc:
        if isinstance(exc.__cause__, psycopg.errors.InvalidFunctionDefinition):
            raise MigrationError(
                f"{exc}. `create or replace` cannot change a function's result type, parameter names or "
                "defaults: that is a signature change and goes in a migration: `drop function <name>(<argument "
                "types>);` in the next numbered db/schema file (recreating what used it after a `-- nexk: "
                "functions` line, where this file is applied), then run again."
            ) from exc.__cause__
        raise
    conn.execute(
        "insert into supabase_migrations.nexk_function_files (name, sha256, functions) values (%s, %s, %s)"
        " on conflict (name) do update set sha256 = excluded.sha256, functions = excluded.functions,"
        " applied_at = now()",
        (file.name, file.sha256, mine),
    )


def _changed_functions(conn: psycopg.Connection, functions: list[FunctionFile]) -> list[FunctionFile]:
    recorded: dict[str, str] = dict(
        conn.execute("select name, sha256 from supabase_migrations.nexk_function_files").fetchall()
    )
    return [f for f in functions if recorded.get(f.name) != f.sha256]


def _check_dropped_functions(conn: psycopg.Connection, every: dict[str, list[str]]) -> None:
    """A function once recorded from db/functions that no file defines any more must be gone from the
    database: dropping it is a migration's work, never a side effect of deleting its text."""
    known = {signature for signatures in every.values() for signature in signatures}
    rows = conn.execute("select name, functions from supabase_migrations.nexk_function_files").fetchall()
    still_named = {signature.split("(", 1)[0] for signature in known}  # a new signature: refused when applied
    gone = {
        signature: name
        for name, signatures in rows
        for signature in signatures
        if signature not in known and signature.split("(", 1)[0] not in still_named
    }
    left = sorted(_existing_signatures(conn, {s.split("(", 1)[0] for s in gone}) & set(gone))
    if left:
        raise MigrationError(
            f"{', '.join(left)} no longer stands in db/functions (it was in db/functions/{gone[left[0]]}.sql) but "
            f"the database still has it: drop it in a migration (`drop function {left[0]};` in the next "
            "numbered db/schema file), or restore its definition."
        )


def _record_baseline(conn: psycopg.Connection, baseline: MigrationFile) -> None:
    """The database applied what `baseline` replaces: move those rows of the history (statements and
    checksums) to supabase_migrations.nexk_squashed and book the baseline as applied in their place, as
    `supabase migration squash` leaves the history. Nothing of the baseline runs."""
    versions = sorted(baseline.replaces)
    conn.execute(
        "insert into supabase_migrations.nexk_squashed (version, name, statements, sha256, squashed_into)"
        " select m.version, m.name, m.statements, c.sha256, %s from supabase_migrations.schema_migrations as m"
        " left join supabase_migrations.nexk_checksums as c on c.version = m.version where m.version = any(%s)",
        (f"{baseline.version}_{baseline.name}", versions),
    )
    conn.execute("delete from supabase_migrations.schema_migrations where version = any(%s)", (versions,))
    _record(conn, baseline, [text for _line, text in baseline.statements()])
    log.info(
        "%s recorded as applied: the database had applied the %d files it replaces",
        baseline.relpath,
        len(versions),
    )


def _drop_policies(conn: psycopg.Connection, table: str) -> None:
    schema, name = table.split(".", 1)
    rows = conn.execute(
        "select policyname from pg_catalog.pg_policies where schemaname = %s and tablename = %s",
        (schema, name),
    ).fetchall()
    for (policy,) in rows:
        conn.execute(sql.SQL("drop policy {} on {}.{}").format(*map(sql.Identifier, (policy, schema, name))))


def _lock_timed_out(exc: BaseException) -> bool:
    return isinstance(exc.__cause__, psycopg.errors.LockNotAvailable)


def _apply_with_retries(
    conn: psycopg.Connection,
    file: SqlFile,
    timeouts: Timeouts,
    sleep: Callable[[float], None],
    work: Callable[[], None],
) -> None:
    """Run `work` (one file) in its own transaction with the timeouts set; a lock timeout rolls it back and
    tries again after a pause, up to `timeouts.tries` times; any other error ends at once."""
    for attempt in range(1, timeouts.tries + 1):
        try:
            with conn.transaction():
                timeouts.apply(conn)
                work()
            return
        except MigrationError as exc:
            if not _lock_timed_out(exc):
                if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
                    raise MigrationError(
                        f"{exc} (statement_timeout {timeouts.statement}: split the work, build indexes "
                        "concurrently, or raise NEXK_MIGRATE_STATEMENT_TIMEOUT for this run)"
                    ) from exc.__cause__
                raise
            if attempt == timeouts.tries:
                raise MigrationError(
                    f"{file.relpath}: could not take its locks within lock_timeout {timeouts.lock} in "
                    f"{timeouts.tries} tries ({exc}). Another session holds a conflicting lock (see "
                    "pg_locks and pg_stat_activity): run the migration again once it is done, or raise "
                    "NEXK_MIGRATE_LOCK_TIMEOUT / NEXK_MIGRATE_LOCK_TRIES. Nothing of this file was applied."
                ) from exc.__cause__
            pause = timeouts.pause_before(attempt + 1)
            log.warning(
                "%s: lock timeout (%s) on try %d of %d, trying again in %.1f s",
                file.relpath,
                timeouts.lock,
                attempt,
                timeouts.tries,
                pause,
            )
            sleep(pause)


def _record(conn: psycopg.Connection, file: MigrationFile, statements: list[str]) -> None:
    """Book the file as applied, as the Supabase CLI does, with its checksum beside it."""
    conn.execute(
        "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)",
        (file.version, file.name, statements),
    )
    conn.execute(
        "insert into supabase_migrations.nexk_checksums (version, sha256) values (%s, %s)",
        (file.version, file.sha256),
    )


def _invalid_indexes(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select i.indexrelid::regclass::text from pg_catalog.pg_index as i where not i.indisvalid order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def _apply_outside_transaction(
    conn: psycopg.Connection, file: MigrationFile, timeouts: Timeouts, sleep: Callable[[float], None]
) -> list[str]:
    """A `-- nexk: no-transaction` file: each statement commits on its own, with the same timeouts (set for
    the session, reset afterwards) and the same retries of a lock timeout. Its statements must be safe to run
    again (`create index concurrently if not exists`, `validate constraint`): a failure keeps what came
    before. A concurrent index build that failed leaves an INVALID index, which `if not exists` would then
    keep: the runner stops and names it instead of trying again (docs/migrations.md)."""
    texts: list[str] = []
    try:
        for setting, value in (("lock_timeout", timeouts.lock), ("statement_timeout", timeouts.statement)):
            conn.execute("select pg_catalog.set_config(%s, %s, false)", (setting, value))
        for first_line, text in file.statements():
            for attempt in range(1, timeouts.tries + 1):
                try:
                    _execute_statement(conn, file, first_line, text)
                    break
                except MigrationError as exc:
                    invalid = _invalid_indexes(conn)
                    if invalid:
                        raise MigrationError(
                            f"{exc}. Statements before line {first_line} were applied; a failed concurrent "
                            f"build left INVALID index(es) {', '.join(invalid)}: `drop index concurrently` "
                            "each, then run the migration again."
                        ) from exc.__cause__
                    if not _lock_timed_out(exc) or attempt == timeouts.tries:
                        raise MigrationError(
                            f"{exc}. This file runs outside a transaction: statements before line "
                            f"{first_line} were applied (each is safe to run again): fix the cause and run "
                            "the migration again."
                        ) from exc.__cause__
                    pause = timeouts.pause_before(attempt + 1)
                    log.warning(
                        "%s:%d: lock timeout (%s) on try %d of %d, trying again in %.1f s",
                        file.relpath,
                        first_line,
                        timeouts.lock,
                        attempt,
                        timeouts.tries,
                        pause,
                    )
                    sleep(pause)
            texts.append(text)
    finally:
        conn.execute("reset lock_timeout")
        conn.execute("reset statement_timeout")
    return texts


def migrate(
    conninfo: str,
    dry_run: bool = False,
    authenticator_password: str | None = None,
    portal_password: str | None = None,
    schema_dir: Path = SCHEMA_DIR,
    policies_dir: Path = POLICIES_DIR,
    timeouts: Timeouts | None = None,
    sleep: Callable[[float], None] = time.sleep,
    functions_dir: Path = FUNCTIONS_DIR,
) -> Plan:
    """Bring the database up to date; returns the plan that was (or, with dry_run, would be) carried out.

    Order: the baseline recorded where the database applied what it replaces; pending migrations (the
    changed function files applied at a migration's `-- nexk: functions` line); the changed function files;
    the changed policy files. Each file runs with `timeouts` (default: Timeouts.from_environment()); `sleep`
    waits between tries. The passwords are the local cluster's (db/cluster.py): `authenticator_password` for
    the compatibility layer's PostgREST login, `portal_password` for `nexk_portal` once its migration ran
    (db/logins.py); on Supabase neither is given (`pulumi up` sets the portal's)."""
    timeouts = timeouts or Timeouts.from_environment()
    migrations, policies = load_migrations(schema_dir), load_policies(policies_dir)
    functions = load_functions(functions_dir)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # One runner at a time per database (CI jobs, `make dev` and a test session may overlap).
        conn.execute("select pg_advisory_lock(hashtext('nexk.migrate'))")
        todo = _plan(conn, migrations, policies, functions)
        if dry_run:
            return todo
        ensure_compat(conn, authenticator_password)
        with conn.transaction():
            conn.execute(BOOKKEEPING)
        if todo.adopt_baseline is not None:
            with conn.transaction():
                _record_baseline(conn, todo.adopt_baseline)
        # Files applied at a `-- nexk: functions` line ran without checking SQL bodies (the schema was not
        # complete yet, as pg_restore does it); they are applied once more after the last migration.
        applied_early: set[str] = set()
        for file in todo.pending_migrations:

            def apply_migration(file: MigrationFile = file) -> None:
                before, after = file.split_statements()
                statements = _execute_file(conn, file, before)
                if file.functions_at is not None:
                    conn.execute("select pg_catalog.set_config('check_function_bodies', 'off', true)")
                    every = _signatures(conn, functions)
                    for function_file in _changed_functions(conn, functions):
                        _apply_function_file(conn, function_file, every)
                        applied_early.add(function_file.name)
                    conn.execute("select pg_catalog.set_config('check_function_bodies', 'on', true)")
                statements += _execute_file(conn, file, after)
                _record(conn, file, statements)

            if file.transactional:
                _apply_with_retries(conn, file, timeouts, sleep, apply_migration)
                continue
            statements = _apply_outside_transaction(conn, file, timeouts, sleep)
            with conn.transaction():
                _record(conn, file, statements)
        with conn.transaction():
            every = _signatures(conn, functions)
            _check_dropped_functions(conn, every)
            changed = {f.name for f in _changed_functions(conn, functions)}
            conn.execute(
                "delete from supabase_migrations.nexk_function_files where name <> all(%s)",
                ([f.name for f in functions],),
            )
        todo.changed_functions = [f for f in functions if f.name in changed | applied_early]
        for function_file in todo.changed_functions:

            def apply_functions(file: FunctionFile = function_file) -> None:
                _apply_function_file(conn, file, every)

            _apply_with_retries(conn, function_file, timeouts, sleep, apply_functions)
        for policy_file in todo.changed_policies:

            def apply_policies(file: PolicyFile = policy_file) -> None:
                tables = file.tables()
                for table in tables:
                    _drop_policies(conn, table)
                _execute_file(conn, file)
                conn.execute(
                    "insert into supabase_migrations.nexk_policy_files (name, sha256, tables) values (%s, %s, %s)"
                    " on conflict (name) do update set sha256 = excluded.sha256, tables = excluded.tables,"
                    " applied_at = now()",
                    (file.name, file.sha256, tables),
                )

            _apply_with_retries(conn, policy_file, timeouts, sleep, apply_policies)
        for name in todo.removed_policies:
            with conn.transaction():
                row = conn.execute(
                    "delete from supabase_migrations.nexk_policy_files where name = %s returning tables",
                    (name,),
                ).fetchone()
                for table in row[0] if row else []:
                    _drop_policies(conn, table)
        if portal_password is not None and _role_exists(conn, PORTAL_LOGIN):
            set_password(conn, PORTAL_LOGIN, portal_password)
        conn.execute("select pg_advisory_unlock(hashtext('nexk.migrate'))")
        return todo


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("select from pg_catalog.pg_roles where rolname = %s", (role,)).fetchone() is not None
