"""Retention in the database (db/schema/0100_retention.sql), proven with time travel: rows are created with
old timestamps through the owner connection and `private.run_retention(now => ...)` is run as of a later day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from typer.testing import CliRunner

from compliance import retention, retention_cli
from db import testing_world as make
from db.testing import impersonate, jwt_claims

NOW = datetime(2026, 11, 26, 3, 17, tzinfo=UTC)


class World:
    """A small portal built with the owner connection: organizations, people, tickets, files, logs."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.plan = make.sla_plan(conn, make.calendar(conn, "Brussels"), code="std", name="Standard")

    def scalar(self, query: str, params: tuple = ()) -> object:
        row = self.conn.execute(query, params).fetchone()
        return row[0] if row else None

    def org(self, name: str, contract_end: date | None = None) -> uuid.UUID:
        return make.organization(
            self.conn, name, self.plan, contract_start=date(2015, 1, 1), contract_end=contract_end
        )

    def person(
        self, first: str, surname: str, role: str, org: uuid.UUID | None = None, **extra: str
    ) -> uuid.UUID:
        email = extra.get("email", f"{first}.{surname}@example.test".lower())
        phone = extra.get("phone")
        names = {"first_name": first, "surname": surname, "metadata": {"full_name": f"{first} {surname}"}}
        return make.person(self.conn, email, role, org, phone=phone, account_phone=phone, **names)

    def assign(self, agent: uuid.UUID, org: uuid.UUID) -> None:
        make.assign(self.conn, agent, org)

    def ticket(
        self,
        org: uuid.UUID,
        requester: uuid.UUID,
        subject: str = "Printer offline",
        description: str = "The printer on floor 2 is offline.",
        resolved_at: datetime | None = None,
    ) -> uuid.UUID:
        tid = make.ticket(self.conn, org, requester, subject=subject, description=description)
        if resolved_at is not None:
            self.conn.execute("update public.tickets set status = 'resolved' where id = %s", (tid,))
            self.conn.execute(
                "update public.tickets set created_at = %s, resolved_at = %s where id = %s",
                (resolved_at - timedelta(days=2), resolved_at, tid),
            )
        return tid

    def message(self, ticket: uuid.UUID, author: uuid.UUID, body: str, internal: bool = False) -> uuid.UUID:
        return make.message(self.conn, ticket, author, body, internal=internal)

    def attachment(self, ticket: uuid.UUID, org: uuid.UUID, uploader: uuid.UUID, file_name: str) -> str:
        _, path = make.attachment(
            self.conn,
            ticket,
            org,
            uploader,
            file_name=file_name,
            content_type="image/png",
            data=file_name.encode(),
        )
        make.stored_object(self.conn, path, owner=uploader, metadata={"mimetype": "image/png"})
        return path

    def log(self, actor: uuid.UUID | None, at: datetime, user_agent: str = "Mozilla/5.0") -> None:
        make.audit_entry(self.conn, actor, created_at=at, ip="192.0.2.7", user_agent=user_agent)

    def count(self, query: str, params: tuple = ()) -> int:
        return int(self.scalar(query, params))


def run(conn: psycopg.Connection, now: datetime, dry_run: bool = False) -> dict[str, int]:
    rows = conn.execute("select step, affected from private.run_retention(%s, %s)", (now, dry_run)).fetchall()
    return dict(rows)


def snapshot(conn: psycopg.Connection) -> list[tuple]:
    """Everything retention may touch, in a comparable form."""
    queries = [
        "select id, created_at from public.audit_log order by id",
        "select id, subject, description, archived_at from public.tickets order by id",
        "select id, body from public.ticket_messages order by id",
        "select id from public.attachments order by id",
        "select name from storage.objects order by name",
        "select id, first_name, email, erased_at from public.profiles order by id",
        "select id, email from auth.users order by id",
        "select id, personal_data_erased_at from public.organizations order by id",
        "select id from auth.sessions order by id",
    ]
    return [conn.execute(q).fetchall() for q in queries]


@pytest.fixture
def world(db: psycopg.Connection) -> World:
    return World(db)


def test_the_retention_periods_live_in_one_table_the_purge_reads(db):
    periods = dict(db.execute("select name, period::text from private.retention_policy").fetchall())
    assert periods["technical_logs"] == "90 days"
    assert periods["contract_data_after_contract_end"] == "5 years"
    assert periods["resolved_ticket_archive_after"] == "30 days"
    db.execute("update private.retention_policy set period = '10 days' where name = 'technical_logs'")
    world = World(db)
    world.log(None, NOW - timedelta(days=11))
    assert run(db, NOW)["technical_logs: public.audit_log"] >= 1


def test_the_migration_schedules_the_nightly_purge_in_pg_cron_even_without_the_real_extension(db):
    # Locally the compatibility layer emulates pg_cron's catalogue; 0377 schedules into it (db/tests/test_cron.py).
    assert db.execute(
        "select schedule, command, active from cron.job where jobname = 'nexk-retention'"
    ).fetchone() == ("17 3 * * *", "select private.run_retention()", True)


def test_audit_rows_older_than_90_days_are_deleted_and_younger_ones_kept(world, db):
    person = world.person("Ada", "Lovelace", "client_member", world.org("Acme"))
    world.log(person, NOW - timedelta(days=91))
    world.log(person, NOW - timedelta(days=89))
    counts = run(db, NOW)
    assert counts["technical_logs: public.audit_log"] >= 1
    remaining = [
        r[0] for r in db.execute("select created_at from public.audit_log where actor_id = %s", (person,))
    ]
    assert remaining == [NOW - timedelta(days=89)]


def test_auth_sessions_unused_for_90_days_are_deleted(world, db):
    person = world.person("Ada", "Lovelace", "client_member", world.org("Acme"))
    old, fresh = uuid.uuid4(), uuid.uuid4()
    for sid, at in ((old, NOW - timedelta(days=100)), (fresh, NOW - timedelta(days=3))):
        db.execute(
            "insert into auth.sessions (id, user_id, created_at, updated_at, ip, user_agent)"
            " values (%s, %s, %s, %s, '192.0.2.1', 'UA')",
            (sid, person, at, at),
        )
    assert run(db, NOW)["technical_logs: auth.sessions"] == 1
    assert [r[0] for r in db.execute("select id from auth.sessions")] == [fresh]


def test_tickets_resolved_longer_than_the_archive_delay_are_archived_and_stay_readable_for_the_client(
    world, db
):
    org = world.org("Acme")
    client = world.person("Ada", "Lovelace", "client_member", org)
    old = world.ticket(org, client, resolved_at=NOW - timedelta(days=31))
    recent = world.ticket(org, client, resolved_at=NOW - timedelta(days=29))
    still_open = world.ticket(org, client)

    assert run(db, NOW)["archive: tickets archived"] == 1

    archived = dict(db.execute("select id, archived_at from public.tickets").fetchall())
    assert archived[old] == NOW
    assert archived[recent] is None and archived[still_open] is None
    with impersonate(db, jwt_claims(client)) as conn:
        visible = {r[0] for r in conn.execute("select id from public.tickets")}
    assert visible == {old, recent, still_open}


def test_a_dry_run_changes_nothing_and_reports_the_counts_of_the_real_run(world, db):
    ended = world.org("Gone Ltd", contract_end=date(2020, 6, 30))
    client = world.person("Ada", "Lovelace", "client_member", ended)
    ticket = world.ticket(ended, client, resolved_at=datetime(2020, 6, 1, tzinfo=UTC))
    world.message(ticket, client, "Thanks, Ada")
    world.attachment(ticket, ended, client, "screenshot.png")
    world.log(client, NOW - timedelta(days=200))

    before = snapshot(db)
    dry = run(db, NOW, dry_run=True)
    assert snapshot(db) == before
    real = run(db, NOW)
    assert dry == real
    assert real["contract_end: people anonymised"] == 1
    assert real["archive: tickets archived"] == 1


def test_an_organization_is_erased_five_years_after_its_contract_ended_and_not_a_day_before(world, db):
    ended = world.org("Gone Ltd", contract_end=date(2021, 11, 26))
    client = world.person("Grace", "Hopper", "client_admin", ended, phone="+32 470 11 22 33")
    agent = world.person("Alan", "Turing", "agent")
    world.assign(agent, ended)
    ticket = world.ticket(
        ended, client, subject="Grace's laptop", description="Call Grace on +32 470 11 22 33"
    )
    world.message(ticket, client, "Any news?")
    world.message(ticket, agent, "Internal: Grace is impatient", internal=True)
    path = world.attachment(ticket, ended, client, "grace.png")

    assert run(db, datetime(2026, 11, 24, 12, tzinfo=UTC))["contract_end: organizations erased"] == 0

    counts = run(db, datetime(2026, 11, 26, 12, tzinfo=UTC))
    assert counts["contract_end: organizations erased"] == 1
    assert counts["contract_end: people anonymised"] == 1
    assert counts["contract_end: messages deleted"] == 2
    assert counts["contract_end: attachments deleted"] == 1
    assert counts["contract_end: storage objects queued for deletion"] == 1

    org = db.execute(
        "select name, enterprise_number, contract_start, contract_end, personal_data_erased_at"
        " from public.organizations where id = %s",
        (ended,),
    ).fetchone()
    assert org[0] == "Gone Ltd" and org[3] == date(2021, 11, 26) and org[4] is not None
    kept = db.execute(
        "select subject, description, status, created_at from public.tickets where id = %s", (ticket,)
    ).fetchone()
    assert kept[0] == kept[1] == "[erased: retention period ended]"
    # The person's profile and auth user are deleted (0240); the ticket belongs to the "Erased person".
    assert db.execute("select count(*) from public.profiles where id = %s", (client,)).fetchone()[0] == 0
    assert db.execute("select count(*) from auth.users where id = %s", (client,)).fetchone()[0] == 0
    assert db.execute(
        "select p.first_name, p.surname, p.erased_at is not null, p.deactivated_at is not null"
        " from public.tickets as t inner join public.profiles as p on t.requester_id = p.id where t.id = %s",
        (ticket,),
    ).fetchone() == ("Erased", "person", True, True)
    # The file's bytes go through the Storage API: the object waits for the storage sweeper (0270), and with
    # its attachment row gone nobody but the sweeper can see it.
    assert db.execute("select reason from private.storage_deletions where name = %s", (path,)).fetchone() == (
        "retention: contract end",
    )
    assert db.execute("select count(*) from public.agent_assignments").fetchone()[0] == 0
    # The agent (NexK staff, not the client's people) is untouched.
    assert (
        db.execute("select first_name from public.profiles where id = %s", (agent,)).fetchone()[0] == "Alan"
    )
    # A second run finds nothing left to do.
    again = run(db, datetime(2026, 11, 27, tzinfo=UTC))
    assert again["contract_end: organizations erased"] == 0 and again["contract_end: people anonymised"] == 0


def test_a_restricted_person_of_an_expired_organization_is_kept_and_reported(world, db):
    ended = world.org("Gone Ltd", contract_end=date(2019, 1, 31))
    kept = world.person("Hedy", "Lamarr", "client_member", ended)
    gone = world.person("Ada", "Lovelace", "client_member", ended)
    kept_ticket = world.ticket(
        ended, kept, subject="Hedy's claim", resolved_at=datetime(2019, 1, 2, tzinfo=UTC)
    )
    db.execute("update public.profiles set restricted_at = %s where id = %s", (NOW - timedelta(days=5), kept))

    counts = run(db, NOW)
    assert counts["contract_end: people kept (restricted)"] == 1
    assert counts["contract_end: people anonymised"] == 1
    assert counts["archive: skipped (requester restricted)"] == 1
    assert db.execute("select first_name from public.profiles where id = %s", (kept,)).fetchone()[0] == "Hedy"
    assert db.execute("select count(*) from public.profiles where id = %s", (gone,)).fetchone()[0] == 0
    assert (
        db.execute("select subject from public.tickets where id = %s", (kept_ticket,)).fetchone()[0]
        == "Hedy's claim"
    )
    # The organization is retried on the next run, once the restriction is lifted.
    assert (
        db.execute(
            "select personal_data_erased_at from public.organizations where id = %s", (ended,)
        ).fetchone()[0]
        is None
    )


def test_the_python_runner_reports_counts_and_honours_dry_run(world, db, database):
    world.log(None, NOW - timedelta(days=365))
    dry = retention.run(database, now=NOW, dry_run=True)
    assert dry.counts["technical_logs: public.audit_log"] >= 1 and dry.dry_run
    real = retention.run(database, now=NOW)
    assert real.counts == dry.counts
    assert retention.run(database, now=NOW).counts["technical_logs: public.audit_log"] == 0


def test_the_cli_prints_the_counts_of_a_dry_run_as_a_table(world, database, monkeypatch):
    monkeypatch.setenv("NEXK_DATABASE_URL", database)
    world.log(None, NOW - timedelta(days=365))
    result = CliRunner().invoke(retention_cli.app, ["run", "--dry-run", "--now", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "technical_logs: public.audit_log" in result.output
    assert (
        world.count(
            "select count(*) from public.audit_log where created_at < %s", (NOW - timedelta(days=90),)
        )
        == 1
    )
