"""The migration runner: versioned schema files once each, then the policy files declaratively.

- `db/schema/NNNN_name.sql` are applied in order, each exactly once and in its own transaction, and recorded
  in `supabase_migrations.schema_migrations` (the Supabase CLI's table and format) with a sha256 beside it
  (`supabase_migrations.nexk_checksums`), so an edited, already-applied file is refused by name.
- `db/policies/*.sql` (one file per table) are applied after the migrations whenever they changed: inside
  one transaction, every policy of the tables the file names is dropped and the file recreates them, so a
  policy change is the reviewable diff of one file and re-running changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pglast
import psycopg
from psycopg import sql

from db.compat import ensure_compat
from nexk.errors import NexkError

DB_DIR = Path(__file__).resolve().parent
SCHEMA_DIR = DB_DIR / "schema"
POLICIES_DIR = DB_DIR / "policies"
NO_TRANSACTION = re.compile(r"^--\s*nexk:\s*no-transaction\s*$", re.MULTILINE)
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
                qualified = f"{rel.schemaname or 'public'}.{rel.relname}"
                if qualified not in found:
                    found.append(qualified)
        return found


@dataclass
class Plan:
    applied: list[tuple[str, str]] = field(default_factory=list)  # (version, name)
    pending_migrations: list[MigrationFile] = field(default_factory=list)
    changed_policies: list[PolicyFile] = field(default_factory=list)
    removed_policies: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.pending_migrations or self.changed_policies or self.removed_policies)


def load_migrations(directory: Path = SCHEMA_DIR) -> list[MigrationFile]:
    files: list[MigrationFile] = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path}: migration file names look like 0007_short_name.sql (four digits, underscore, "
                "lower-case name): rename it."
            )
        files.append(MigrationFile(path=path, version=match["version"], name=match["name"]))
    versions = [f.version for f in files]
    for version in {v for v in versions if versions.count(v) > 1}:
        names = ", ".join(f.path.name for f in files if f.version == version)
        raise MigrationError(f"Two migrations share version {version} ({names}): renumber one of them.")
    return files


def load_policies(directory: Path = POLICIES_DIR) -> list[PolicyFile]:
    return [PolicyFile(path=p, name=p.stem) for p in sorted(directory.glob("*.sql"))]


def _recorded(
    conn: psycopg.Connection,
) -> tuple[dict[str, tuple[str, str | None]], dict[str, tuple[str, list]]]:
    """Applied migrations {version: (name, sha256)} and applied policy files {name: (sha256, tables)}."""
    exists = conn.execute(
        "select to_regclass('supabase_migrations.nexk_policy_files') is not null"
    ).fetchone()
    if not exists or not exists[0]:
        return {}, {}
    migrations = {
        version: (name, sha)
        for version, name, sha in conn.execute(
            "select m.version, m.name, c.sha256 from supabase_migrations.schema_migrations as m"
            " left join supabase_migrations.nexk_checksums as c on c.version = m.version order by m.version"
        )
    }
    policies = {
        name: (sha, tables)
        for name, sha, tables in conn.execute(
            "select name, sha256, tables from supabase_migrations.nexk_policy_files"
        )
    }
    return migrations, policies


def _plan(conn: psycopg.Connection, migrations: list[MigrationFile], policies: list[PolicyFile]) -> Plan:
    applied, applied_policies = _recorded(conn)
    local = {m.version: m for m in migrations}
    plan = Plan(applied=[(v, name) for v, (name, _) in applied.items()])
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
    # A migration may recreate a table (and so drop its policies): then every policy file is applied again.
    plan.changed_policies = [
        p for p in policies if plan.pending_migrations or applied_policies.get(p.name, (None,))[0] != p.sha256
    ]
    names = {p.name for p in policies}
    plan.removed_policies = sorted(n for n in applied_policies if n not in names)
    return plan


def plan(conninfo: str, schema_dir: Path = SCHEMA_DIR, policies_dir: Path = POLICIES_DIR) -> Plan:
    """What `migrate` would do on that database (changes nothing)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return _plan(conn, load_migrations(schema_dir), load_policies(policies_dir))


def _execute_statement(conn: psycopg.Connection, file: SqlFile, first_line: int, text: str) -> None:
    """Run one statement; an error names file, line and PostgreSQL's message."""
    try:
        conn.execute(text)  # no parameters: psycopg sends the text as is (no % interpolation)
    except psycopg.Error as exc:
        position = exc.diag.statement_position
        line = first_line + (text.count("\n", 0, int(position) - 1) if position else 0)
        message = (exc.diag.message_primary or str(exc)).strip()
        raise MigrationError(f"{file.relpath}:{line}: {message}") from exc


def _execute_file(conn: psycopg.Connection, file: SqlFile) -> list[str]:
    """Run every statement of a file (inside the caller's transaction); errors name file, line, message."""
    texts = []
    for first_line, text in file.statements():
        try:
            _execute_statement(conn, file, first_line, text)
        except MigrationError as exc:
            raise MigrationError(f"{exc} (nothing of this file was applied)") from exc.__cause__
        texts.append(text)
    return texts


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
    schema_dir: Path = SCHEMA_DIR,
    policies_dir: Path = POLICIES_DIR,
    timeouts: Timeouts | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Plan:
    """Bring the database up to date; returns the plan that was (or, with dry_run, would be) carried out.

    Each file runs with `timeouts` (default: Timeouts.from_environment()); `sleep` waits between tries."""
    timeouts = timeouts or Timeouts.from_environment()
    migrations, policies = load_migrations(schema_dir), load_policies(policies_dir)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # One runner at a time per database (CI jobs, `make dev` and a test session may overlap).
        conn.execute("select pg_advisory_lock(hashtext('nexk.migrate'))")
        todo = _plan(conn, migrations, policies)
        if dry_run:
            return todo
        ensure_compat(conn, authenticator_password)
        with conn.transaction():
            conn.execute(BOOKKEEPING)
        for file in todo.pending_migrations:

            def apply_migration(file: MigrationFile = file) -> None:
                _record(conn, file, _execute_file(conn, file))

            if file.transactional:
                _apply_with_retries(conn, file, timeouts, sleep, apply_migration)
                continue
            statements = _apply_outside_transaction(conn, file, timeouts, sleep)
            with conn.transaction():
                _record(conn, file, statements)
        for file in todo.changed_policies:

            def apply_policies(file: PolicyFile = file) -> None:
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

            _apply_with_retries(conn, file, timeouts, sleep, apply_policies)
        for name in todo.removed_policies:
            with conn.transaction():
                row = conn.execute(
                    "delete from supabase_migrations.nexk_policy_files where name = %s returning tables",
                    (name,),
                ).fetchone()
                for table in row[0] if row else []:
                    _drop_policies(conn, table)
        conn.execute("select pg_advisory_unlock(hashtext('nexk.migrate'))")
        return todo
