"""Bulk-load a synthetic world with COPY, in one transaction, and prove its integrity before committing.

Small tables (reference data, organizations, users, profiles, agent assignments) are copied with every
trigger on: their audit entries are written and agent assignments are checked row by row.

Tickets and messages are copied with `session_replication_role = replica`, which switches off their row
triggers *and* the foreign-key triggers: per row, the audit trigger writes a log row, check_ticket_people
runs two lookups and stamp_first_response another, which made the million-ticket world far too slow
(figures in bench/results/seed.md). In exchange `verify_integrity` re-proves, set-based and in the same
transaction, every foreign key touching these tables and each invariant those triggers enforce; a
violation rolls everything back. CHECK, NOT NULL and UNIQUE constraints are never switched off. Two trigger
effects are deliberately not reproduced: seeded rows are not written to the audit log (seeding is not an
access to personal data), and resolved_at keeps its generated historical value instead of the load time.

When tickets, messages and attachments are empty (a fresh database), they are truncated in the
transaction and copied WITH (FREEZE): no second pass over 4 million rows later to set hint bits.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from db.rows import one
from db.seed.world import (
    COLUMNS,
    ID_RANGE,
    SLA_PLANS,
    TEXT_COLUMNS,
    World,
    WorldSpec,
    build_world,
    reference_id,
)
from nexk.errors import NexkError

BIG_TABLES = ("public.tickets", "public.ticket_messages", "public.attachments")


class SeedError(NexkError):
    """The synthetic world could not be loaded; nothing was changed."""


@dataclass
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, in order
    frozen: bool = False

    @property
    def total(self) -> float:
        return sum(self.phases.values())


class _Phases:
    def __init__(self, report: LoadReport, progress: Callable[[str], None] | None) -> None:
        self.report, self.progress, self.started = report, progress, time.perf_counter()

    def done(self, name: str, quiet: bool = False) -> None:
        """Add the time since the last phase ended to `name` (phases repeated per chunk accumulate)."""
        now = time.perf_counter()
        self.report.phases[name] = self.report.phases.get(name, 0.0) + now - self.started
        self.started = now
        if self.progress and not quiet:
            self.progress(f"{name}: {self.report.phases[name]:.1f}s")


def escape(value: str) -> str:
    """COPY text-format escaping (backslash first)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def render(table: str, rows: Iterable[tuple]) -> str:
    """Rows as COPY text: NULL is \\N, free-text columns are escaped."""
    columns = COLUMNS[table]
    texts = TEXT_COLUMNS.get(table, frozenset())
    escaped = [i for i, name in enumerate(columns) if name in texts]
    lines = []
    for row in rows:
        values = list(row)
        for i in escaped:
            if values[i] is not None:
                values[i] = escape(values[i])
        lines.append("\t".join("\\N" if v is None else v for v in values))
    return "\n".join(lines) + "\n" if lines else ""


def _render_tickets(rows: list[tuple]) -> str:
    n = "\\N"
    return "".join(
        f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3] or n}\t{escape(r[4])}\t{escape(r[5])}\t{r[6]}\t{r[7]}\t{r[8]}\t{r[9]}"
        f"\t{r[10] or n}\t{r[11] or n}\t{r[12] or n}\n"
        for r in rows
    )


def _render_messages(rows: list[tuple]) -> str:
    return "".join(f"{r[0]}\t{r[1]}\t{r[2]}\t{escape(r[3])}\t{r[4]}\t{r[5]}\n" for r in rows)


def _copy_statement(table: str, freeze: bool = False) -> sql.Composed:
    schema, name = table.split(".")
    return sql.SQL("copy {}.{} ({}) from stdin{}").format(
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table])),
        sql.SQL(" with (freeze)" if freeze else ""),
    )


_RANGE = {"lo": ID_RANGE[0], "hi": ID_RANGE[1]}


def synthetic_rows_exist(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select exists (select from public.organizations as o where o.id between %(lo)s and %(hi)s)"
        " or exists (select from auth.users as u where u.id between %(lo)s and %(hi)s)",
        _RANGE,
    ).fetchone()
    return bool(row and row[0])


def _truncate_ticket_tables(conn: psycopg.Connection) -> None:
    tables = [*BIG_TABLES, *_dependents(conn, BIG_TABLES)]
    conn.execute(sql.SQL("truncate {}").format(sql.SQL(", ").join(sql.SQL(t) for t in tables)))


def _big_tables_hold_only_synthetic_rows(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select not exists (select from public.tickets as t where t.id < %(lo)s or t.id > %(hi)s)"
        " and not exists (select from public.ticket_messages as m where m.id < %(lo)s or m.id > %(hi)s)"
        " and not exists (select from public.attachments as a)",
        _RANGE,
    ).fetchone()
    return bool(row and row[0])


# Synthetic rows and whatever points at one, children first (the cascades, spelled out).
_WIPE_TICKETS = (
    """delete from public.attachments as a where a.ticket_id between %(lo)s and %(hi)s
        or a.organization_id between %(lo)s and %(hi)s or a.uploaded_by between %(lo)s and %(hi)s""",
    """delete from public.ticket_messages as m where m.id between %(lo)s and %(hi)s
        or m.ticket_id between %(lo)s and %(hi)s or m.author_id between %(lo)s and %(hi)s""",
    """delete from public.ticket_messages as m using public.tickets as t where m.ticket_id = t.id
        and (t.organization_id between %(lo)s and %(hi)s or t.requester_id between %(lo)s and %(hi)s
        or t.assignee_id between %(lo)s and %(hi)s)""",
    """delete from public.tickets as t where t.id between %(lo)s and %(hi)s
        or t.organization_id between %(lo)s and %(hi)s or t.requester_id between %(lo)s and %(hi)s
        or t.assignee_id between %(lo)s and %(hi)s""",
)
_WIPE_PEOPLE = (
    """delete from public.dsr_requests as d where d.subject_id between %(lo)s and %(hi)s
        or d.handled_by between %(lo)s and %(hi)s""",
    """delete from public.agent_assignments as a where a.id between %(lo)s and %(hi)s
        or a.agent_id between %(lo)s and %(hi)s or a.organization_id between %(lo)s and %(hi)s""",
    """delete from auth.mfa_challenges as c using auth.mfa_factors as f
        where c.factor_id = f.id and f.user_id between %(lo)s and %(hi)s""",
    "delete from auth.mfa_factors as f where f.user_id between %(lo)s and %(hi)s",
    "delete from auth.sessions as s where s.user_id between %(lo)s and %(hi)s",
    """delete from public.profiles as p where p.id between %(lo)s and %(hi)s
        or p.organization_id between %(lo)s and %(hi)s""",
    "delete from auth.users as u where u.id between %(lo)s and %(hi)s",
    "delete from public.organizations as o where o.id between %(lo)s and %(hi)s",
)


# The tables the statements above clean up; rows of any other table pointing at them go generically.
_WIPED = (
    "public.attachments",
    "public.ticket_messages",
    "public.tickets",
    "public.dsr_requests",
    "public.agent_assignments",
    "auth.mfa_challenges",
    "auth.mfa_factors",
    "auth.sessions",
    "public.profiles",
    "auth.users",
    "public.organizations",
)


def _dependents(conn: psycopg.Connection, tables: Iterable[str]) -> list[str]:
    """Every table that references `tables` through foreign keys, transitively (outside `tables`)."""
    rows = conn.execute(
        """with recursive dep (rel) as (
            select c.conrelid from pg_catalog.pg_constraint as c
            where c.contype = 'f' and c.confrelid = any(%(t)s::regclass[])
            union
            select c.conrelid from pg_catalog.pg_constraint as c inner join dep on c.confrelid = dep.rel
            where c.contype = 'f'
        )
        select distinct format('%%I.%%I', n.nspname, r.relname) from dep
        join pg_catalog.pg_class as r on r.oid = dep.rel join pg_catalog.pg_namespace as n on n.oid = r.relnamespace
        where dep.rel <> all(%(t)s::regclass[]) order by 1""",
        {"t": list(tables)},
    ).fetchall()
    return [name for (name,) in rows]


def _wipe_other_dependents(conn: psycopg.Connection) -> None:
    """Rows of tables this module does not know (notifications, SLA clocks...) that point at synthetic rows."""
    for _name, child, columns, parent, parent_columns in _foreign_keys(conn, _WIPED):
        if child in _WIPED or parent not in _WIPED or len(columns) != 1:
            continue
        conn.execute(
            sql.SQL(
                "delete from {} as c using {} as p where c.{} = p.{} and p.id between %(lo)s and %(hi)s"
            ).format(
                sql.SQL(child), sql.SQL(parent), sql.Identifier(columns[0]), sql.Identifier(parent_columns[0])
            ),
            _RANGE,
        )


def wipe_synthetic(conn: psycopg.Connection) -> None:
    """Delete every synthetic row and whatever points at one (inside the caller's transaction).

    Runs with triggers off (hence the explicit cascades); the load's verify_integrity re-proves the keys.
    """
    conn.execute("set local session_replication_role = replica")
    _wipe_other_dependents(conn)
    if _big_tables_hold_only_synthetic_rows(conn):
        _truncate_ticket_tables(conn)
    else:
        for statement in _WIPE_TICKETS:
            conn.execute(statement, _RANGE)
    for statement in _WIPE_PEOPLE:
        conn.execute(statement, _RANGE)
    conn.execute("set local session_replication_role = origin")


def _foreign_keys(
    conn: psycopg.Connection, tables: Iterable[str]
) -> list[tuple[str, str, list[str], str, list[str]]]:
    """(constraint, child table, child columns, parent table, parent columns) of every FK touching `tables`."""
    return [
        tuple(row)
        for row in conn.execute(
            """
            select c.conname, (select format('%%I.%%I', n.nspname, r.relname) from pg_catalog.pg_class as r
                    join pg_catalog.pg_namespace as n on n.oid = r.relnamespace where r.oid = c.conrelid),
                array(select a.attname from unnest(c.conkey) with ordinality as k (n, i)
                    join pg_catalog.pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i),
                (select format('%%I.%%I', n.nspname, r.relname) from pg_catalog.pg_class as r
                    join pg_catalog.pg_namespace as n on n.oid = r.relnamespace where r.oid = c.confrelid),
                array(select a.attname from unnest(c.confkey) with ordinality as k (n, i)
                    join pg_catalog.pg_attribute as a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)
            from pg_catalog.pg_constraint as c
            where c.contype = 'f' and (c.conrelid = any(%(t)s::regclass[]) or c.confrelid = any(%(t)s::regclass[]))
            order by 1
            """,
            {"t": list(tables)},
        )
    ]


# Each query counts violations of one rule that a switched-off trigger enforces row by row.
TRIGGER_RULES: dict[str, str] = {
    "tickets_check_people: the requester is a client of the ticket's organization": """
        select count(*) from public.tickets as t
        left join public.profiles as p on t.requester_id = p.id
        where p.organization_id is distinct from t.organization_id""",
    "tickets_check_people: the assignee is an active admin, or an active agent assigned to the organization": """
        select count(*) from public.tickets as t
        where t.assignee_id is not null and not exists (
            select from public.profiles as p
            where p.id = t.assignee_id and p.deactivated_at is null and (
                p.role = 'admin' or (p.role = 'agent' and exists (
                    select from public.agent_assignments as a
                    where a.agent_id = p.id and a.organization_id = t.organization_id))))""",
    "ticket_messages_stamp_first_response: first_response_at is the first public staff reply": """
        select count(*) from public.tickets as t
        left join (
            select m.ticket_id, min(m.created_at) as first_reply
            from public.ticket_messages as m
            inner join public.profiles as p on m.author_id = p.id
            where not m.internal and p.role in ('agent', 'admin')
            group by m.ticket_id
        ) as f on t.id = f.ticket_id
        where f.first_reply is distinct from t.first_response_at and t.id between %(lo)s and %(hi)s""",
    "restriction guards: no seeded ticket or message involves a restricted (GDPR Art. 18) person": """
        select count(*) from public.tickets as t
        inner join public.profiles as p on p.id in (t.requester_id, t.assignee_id)
        where p.restricted_at is not null and t.id between %(lo)s and %(hi)s""",
    "tickets_lifecycle: resolved_at is set exactly when resolved or closed, after creation": """
        select count(*) from public.tickets as t
        where (t.resolved_at is not null) <> (t.status in ('resolved', 'closed')) or t.resolved_at < t.created_at""",
}


# What tickets_track_sla_pause and ticket_messages_track_awaiting_reply would have written, set-based and with
# the rule of the backfill in db/schema/0201: a ticket not running is paused since its last change; the
# oldest client message after the last public staff reply awaits an answer.
SLA_CLOCKS_BACKFILL = """
    insert into private.ticket_sla_clocks (ticket_id, paused_periods, awaiting_reply_since)
    select
        t.id,
        case
            when t.status in ('new', 'open') then '{}'::tstzmultirange
            else tstzmultirange(tstzrange(coalesce(t.resolved_at, t.updated_at), null))
        end,
        w.awaiting
    from public.tickets as t
    left join (
        select m.ticket_id, min(m.created_at) filter (where m.client and m.created_at > m.last_staff) as awaiting
        from (
            select
                pm.ticket_id,
                pm.created_at,
                p.role in ('client_member', 'client_admin') as client,
                coalesce(
                    max(pm.created_at) filter (where p.role in ('agent', 'admin')) over (partition by pm.ticket_id),
                    '-infinity'
                ) as last_staff
            from public.ticket_messages as pm
            inner join public.profiles as p on pm.author_id = p.id
            where not pm.internal and pm.ticket_id between %(lo)s and %(hi)s
        ) as m
        group by m.ticket_id
    ) as w on t.id = w.ticket_id
    where t.id between %(lo)s and %(hi)s
"""


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return one(conn.execute("select to_regclass(%s) is not null", (table,)).fetchone())[0]


def verify_integrity(conn: psycopg.Connection, tables: Iterable[str] = BIG_TABLES) -> dict[str, int]:
    """Every FK touching `tables` and every rule in TRIGGER_RULES; raises SeedError naming each violation."""
    violations: dict[str, int] = {}
    for name, child, columns, parent, parent_columns in _foreign_keys(conn, tables):
        child_cols = [sql.SQL("c.{}").format(sql.Identifier(c)) for c in columns]
        query = sql.SQL(
            "select count(*) from {child} as c where {not_null} and not exists"
            " (select from {parent} as p where {match})"
        ).format(
            child=sql.SQL(child),
            parent=sql.SQL(parent),
            not_null=sql.SQL(" and ").join(sql.SQL("{} is not null").format(c) for c in child_cols),
            match=sql.SQL(" and ").join(
                sql.SQL("p.{} = {}").format(sql.Identifier(pc), cc)
                for pc, cc in zip(parent_columns, child_cols, strict=True)
            ),
        )
        violations[f"foreign key {name} ({child} -> {parent})"] = one(conn.execute(query).fetchone())[0]
    for rule, rule_query in TRIGGER_RULES.items():
        violations[rule] = one(conn.execute(rule_query, _RANGE).fetchone())[0]
    broken = {rule: n for rule, n in violations.items() if n}
    if broken:
        details = "; ".join(f"{rule}: {n} row(s)" for rule, n in broken.items())
        raise SeedError(f"The synthetic world breaks the schema's rules, so nothing was loaded: {details}")
    return violations


def _insert_reference(conn: psycopg.Connection, world: World) -> dict[str, str]:
    """Reference rows only where missing; returns {generated plan id: plan id in this database}."""
    for table, rows in world.reference.items():
        if not rows:
            continue
        columns = COLUMNS[table]
        schema, name = table.split(".")
        statement = sql.SQL("insert into {}.{} ({}) values ({}) on conflict do nothing").format(
            sql.Identifier(schema),
            sql.Identifier(name),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        with conn.cursor() as cur:
            cur.executemany(statement, rows)
    found: dict[str, str] = dict(conn.execute("select code, id::text from public.sla_plans").fetchall())
    return {reference_id("plan", code): found[code] for code in SLA_PLANS}


def _copy_text(
    conn: psycopg.Connection, table: str, text_chunks: Iterable[str], freeze: bool = False
) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(_copy_statement(table, freeze), writer=QueuedLibpqWriter(cur)) as copy,
    ):
        for chunk in text_chunks:
            copy.write(chunk)


def load_world(
    url: str,
    spec: WorldSpec,
    *,
    replace: bool = False,
    defer_indexes: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Generate the world of `spec` and load it into `url` (owner DSN) in one transaction."""
    report = LoadReport()
    phases = _Phases(report, progress)
    problems = spec.problems()
    if problems:
        raise SeedError(f"Cannot build that world: {'; '.join(problems)}.")
    producer = _Producer(spec)
    try:
        return _load(url, spec, replace, defer_indexes, report, phases, producer)
    finally:
        producer.close()


def _load(
    url: str,
    spec: WorldSpec,
    replace: bool,
    defer_indexes: bool,
    report: LoadReport,
    phases: _Phases,
    producer: _Producer,
) -> LoadReport:
    world = build_world(spec)
    phases.done("generate small tables")
    with psycopg.connect(url) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('nexk.seed'))")
        conn.execute("set local maintenance_work_mem = '512MB'")
        conn.execute("set local work_mem = '64MB'")
        if synthetic_rows_exist(conn):
            if not replace:
                raise SeedError(
                    "This database already holds synthetic (seeded) rows. Run the command again with --replace "
                    "to delete them first, or `nexk db reset` to start from an empty database."
                )
            wipe_synthetic(conn)
            phases.done("wipe previous synthetic rows")
        plan_ids = _insert_reference(conn, world)
        organizations = [(*row[:5], plan_ids.get(row[5], row[5]), *row[6:]) for row in world.organizations]
        small = {**world.small_tables(), "public.organizations": organizations}
        for table, rows in small.items():
            if table in world.reference:
                continue
            _copy_text(conn, table, [render(table, rows)])
            report.counts[table] = len(rows)
        for table, rows in world.reference.items():
            report.counts[table] = len(rows)
        phases.done("copy small tables (triggers on)")

        report.frozen = _empty(conn, [*BIG_TABLES, *_dependents(conn, BIG_TABLES)])
        conn.execute("set local session_replication_role = replica")
        deferred: list[str] = []
        if report.frozen:
            _truncate_ticket_tables(conn)
            if defer_indexes:
                deferred = _drop_secondary_indexes(conn, BIG_TABLES[:2])
                phases.done("drop secondary indexes")
        counts = {"public.tickets": 0, "public.ticket_messages": 0}
        # A second process generates and renders chunk k+1 while the server ingests chunk k: on two cores,
        # Python and PostgreSQL then work at the same time. Chunks alternate between the two tables.
        for tickets_text, messages_text, n_tickets, n_messages in producer.chunks(phases):
            _copy_text(conn, "public.tickets", [tickets_text], freeze=report.frozen)
            phases.done("copy tickets", quiet=True)
            _copy_text(conn, "public.ticket_messages", [messages_text], freeze=report.frozen)
            phases.done("copy ticket_messages", quiet=True)
            counts["public.tickets"] += n_tickets
            counts["public.ticket_messages"] += n_messages
        report.counts.update(counts)
        for name in ("wait for the generator process", "copy tickets", "copy ticket_messages"):
            if name in report.phases and phases.progress:
                phases.progress(f"{name}: {report.phases[name]:.1f}s")
        for definition in deferred:
            conn.execute(definition)
        if deferred:
            phases.done("build secondary indexes")
        if _exists(conn, "private.ticket_sla_clocks"):
            # Still under replica: its foreign key is re-proved by verify_integrity like the others.
            conn.execute(SLA_CLOCKS_BACKFILL, _RANGE)
            phases.done("derive private.ticket_sla_clocks (set-based)")
        conn.execute("set local session_replication_role = origin")
        verify_integrity(conn)
        phases.done("verify integrity (set-based)")
        conn.commit()
        phases.done("commit")
    with psycopg.connect(url, autocommit=True) as conn:
        for table in (
            "public.organizations",
            "public.profiles",
            "public.agent_assignments",
            "auth.users",
            *BIG_TABLES[:2],
        ):
            conn.execute(sql.SQL("analyze {}").format(sql.SQL(table)))
    phases.done("analyze")
    return report


def _drop_secondary_indexes(conn: psycopg.Connection, tables: Iterable[str]) -> list[str]:
    """Drop the indexes of `tables` that back no constraint; returns the statements that recreate them.

    Building an index once over sorted data beats maintaining it row by row during COPY. Only done on
    tables truncated in this transaction, and the same transaction recreates them from pg_get_indexdef,
    so the schema is identical afterwards and nobody ever sees the tables without them.
    """
    rows = conn.execute(
        """select i.indexrelid::regclass::text, pg_catalog.pg_get_indexdef(i.indexrelid)
        from pg_catalog.pg_index as i
        where i.indrelid = any(%s::regclass[])
            and not exists (select from pg_catalog.pg_constraint as c where c.conindid = i.indexrelid)
        order by 1""",
        (list(tables),),
    ).fetchall()
    for name, _definition in rows:
        conn.execute(sql.SQL("drop index {}").format(sql.SQL(name)))
    return [definition for _name, definition in rows]


def _produce(spec: WorldSpec, queue: multiprocessing.Queue, chunk_tickets: int) -> None:
    """Child process: render the world's tickets and messages as COPY text, chunk by chunk."""
    try:
        world = build_world(spec)
        for tickets, messages in world.ticket_chunks(chunk_tickets):
            queue.put((_render_tickets(tickets), _render_messages(messages), len(tickets), len(messages)))
        queue.put(None)
    except BaseException:
        queue.put(("error", traceback.format_exc()))
        raise


class _Producer:
    """The generator process, started early so its world build overlaps the small-table load."""

    def __init__(self, spec: WorldSpec, chunk_tickets: int = 25_000) -> None:
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue(maxsize=3)
        self.process = context.Process(target=_produce, args=(spec, self.queue, chunk_tickets), daemon=True)
        self.enabled = spec.tickets > 0
        if self.enabled:
            self.process.start()

    def chunks(self, phases: _Phases) -> Iterator[tuple]:
        while self.enabled:
            item = self.queue.get()
            phases.done("wait for the generator process", quiet=True)
            if item is None:
                return
            if item[0] == "error":
                raise SeedError(f"Generating the tickets failed:\n{item[1]}")
            yield item

    def close(self) -> None:
        if self.enabled:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join()


def _empty(conn: psycopg.Connection, tables: Iterable[str]) -> bool:
    return all(
        one(conn.execute(sql.SQL("select not exists (select from {})").format(sql.SQL(t))).fetchone())[0]
        for t in tables
    )
