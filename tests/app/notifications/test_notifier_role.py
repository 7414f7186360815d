"""Agents hear of new tickets, breaches have their own template, and the worker runs as `nexk_notifier`: a role
that bypasses no RLS, reads no API table and that the portal's request role can not switch to."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from portal_testkit import World

from app.notifications.connection import NotifierConfigError
from app.notifications.cron import CronAuthError, run_cron
from app.notifications.sink import SinkClient, list_sent
from app.notifications.templates import KIND_TEMPLATE, LANGUAGES, template_name
from app.notifications.webhook import handle
from app.notifications.worker import run_once, sla_scan

SECRET = "c" * 48


def as_notifier(database: str) -> Callable[..., psycopg.Connection]:
    """Connections that behave like NEXK_WORKER_DATABASE_URL: the owner DSN switched to nexk_notifier."""

    def connect(_dsn: str | None = None) -> psycopg.Connection:
        conn = psycopg.connect(database, autocommit=True)
        conn.execute("set role nexk_notifier")
        return conn

    return connect


@pytest.fixture
def sla_world(db: psycopg.Connection, world: World) -> World:
    """The shared world plus business hours, SLA policies, an admin and a three-week-old unanswered ticket."""
    calendar = db.execute(
        "select calendar_id from public.sla_plans where id = %s", (world.plan_id,)
    ).fetchone()[0]
    for day in range(1, 6):
        db.execute(
            "insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at)"
            " values (%s, %s, '08:00', '17:00')",
            (calendar, day),
        )
    db.execute(
        "insert into public.holidays (calendar_id, day, name) values (%s, '2026-12-25', 'Christmas')",
        (calendar,),
    )
    for priority, first, next_response, resolution in (("urgent", 60, 30, 480), ("normal", 240, 120, 2400)):
        db.execute(
            "insert into public.sla_policies"
            " (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)"
            " values (%s, %s, %s, %s, %s)",
            (world.plan_id, priority, first, next_response, resolution),
        )
    world.person("boss", "admin", totp=True)
    db.execute(
        "update public.tickets set created_at = now() - interval '21 days' where id = %s",
        (world.tickets["a2"],),
    )
    return world


def agent_rows(db: psycopg.Connection) -> list[tuple]:
    return db.execute(
        """select p.email::text, n.kind, n.template_key, n.status, n.params
           from private.notifications as n join public.profiles as p on p.id = n.recipient_id
           where n.template_key = 'ticket_created_agent' order by p.email"""
    ).fetchall()


def test_a_new_ticket_notifies_the_agents_who_serve_its_organization_and_nobody_else(
    db: psycopg.Connection, world: World
) -> None:
    world.person("agent_c", "agent", totp=True)
    world.assign("agent_c", "a")
    db.execute("update public.profiles set language = 'fr' where id = %s", (world.people["agent_c"].id,))
    ticket = world.ticket("a3", "member_a", subject="Mail is down", priority="high")
    rows = [r for r in agent_rows(db) if r[4]["ticket_id"] == str(ticket)]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("agent@example.test", "ticket_created_agent", "queued"),
        ("agent_c@example.test", "ticket_created_agent", "queued"),
    ]  # agent_b serves organization B only
    assert {"subject", "priority", "organization", "first_name"} <= rows[0][4].keys()
    assert (rows[0][4]["subject"], rows[0][4]["priority"]) == ("Mail is down", "high")
    acknowledgement = db.execute(
        "select count(*) from private.notifications where ticket_id = %s and template_key = 'ticket_created'",
        (ticket,),
    ).fetchone()[0]
    assert acknowledgement == 1  # the requester's acknowledgement is unchanged


def test_new_ticket_alerts_honour_the_agents_preference_and_restriction(
    db: psycopg.Connection, world: World
) -> None:
    world.person("agent_c", "agent", totp=True)
    world.assign("agent_c", "a")
    db.execute(
        "update public.profiles set notify_status_changes = false where id = %s", (world.people["agent"].id,)
    )
    db.execute(
        "update public.profiles set restricted_at = now() where id = %s", (world.people["agent_c"].id,)
    )
    ticket = world.ticket("a3", "member_a")
    rows = [r for r in agent_rows(db) if r[3] == "suppressed" or r[4].get("ticket_id") == str(ticket)]
    assert [(r[0], r[3], r[4]) for r in rows] == [("agent_c@example.test", "suppressed", {})]


def test_the_sla_scan_as_the_notifier_role_sends_breaches_with_the_breach_template(
    database: str, db: psycopg.Connection, sla_world: World
) -> None:
    with as_notifier(database)() as conn:
        result = sla_scan(conn, datetime.now(UTC))
    assert result.alerts >= 2
    rows = db.execute(
        "select distinct kind, template_key from private.notifications where kind like 'sla_%'"
    ).fetchall()
    assert ("sla_breach", "sla_breach") in rows
    assert ("sla_breach", "sla_at_risk") not in rows
    assert all(template == "sla_at_risk" for kind, template in rows if kind == "sla_warning")


def test_the_notifier_role_reads_no_api_table_bypasses_no_rls_and_is_out_of_the_portals_reach(
    database: str, db: psycopg.Connection, world: World
) -> None:
    super_, bypass, login = db.execute(
        "select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'nexk_notifier'"
    ).fetchone()
    assert (super_, bypass, login) == (False, False, True)
    for role in ("authenticator", "nexk_portal", "authenticated", "anon", "service_role"):
        assert db.execute("select pg_has_role(%s, 'nexk_notifier', 'member')", (role,)).fetchone() == (False,)
    for table in ("public.tickets", "public.profiles", "public.organizations", "private.ticket_sla_clocks"):
        with as_notifier(database)() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select 1 from {table} limit 1")  # noqa: S608 (fixed table names)
    with as_notifier(database)() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "insert into private.notifications (event_key, kind, template_key, recipient_id, language)"
            " values ('x', 'agent_reply', 'agent_reply', gen_random_uuid(), 'en')"
        )


def test_the_worker_pass_and_the_webhook_work_as_the_notifier_role(
    database: str, db: psycopg.Connection, world: World, tmp_path: Path
) -> None:
    queued = db.execute("select count(*) from private.notifications where status = 'queued'").fetchone()[0]
    assert queued > 0
    stats = run_once(
        as_notifier(database),
        SinkClient(tmp_path),
        datetime.now(UTC),
        template_ids={},
        portal_url="https://my.nexk-it.com",
        require_template_ids=False,
    )
    assert stats.sent == queued
    notification = db.execute(
        "select id from private.notifications where status = 'sent' limit 1"
    ).fetchone()[0]
    body = {
        "event": "delivered",
        "X-Mailin-custom": f"nexk-notification:{notification}",
        "ts_event": 1_790_000_000,
    }
    with as_notifier(database)() as conn:
        assert handle(conn, "Bearer " + SECRET, body, SECRET) == 1
    assert db.execute(
        "select status from private.notifications where id = %s", (notification,)
    ).fetchone() == ("delivered",)


def test_the_cron_entry_point_needs_the_cron_secret_and_its_variables_then_scans_and_sends(
    database: str, db: psycopg.Connection, sla_world: World, tmp_path: Path
) -> None:
    env = {
        "CRON_SECRET": SECRET,
        "NEXK_WORKER_DATABASE_URL": "postgresql://nexk_notifier.ref@pooler.test:6543/postgres",
        "BREVO_TEMPLATE_IDS": "{}",
        "NEXK_PORTAL_URL": "https://my.nexk-it.com",
    }
    for header in (None, "", SECRET, f"Bearer {SECRET}x", f"Basic {SECRET}"):
        with pytest.raises(CronAuthError):
            run_cron(header, environ=env, client=SinkClient(tmp_path), connect=as_notifier(database))
    with pytest.raises(CronAuthError, match="CRON_SECRET is not configured"):
        run_cron(f"Bearer {SECRET}", environ={**env, "CRON_SECRET": ""}, connect=as_notifier(database))
    with pytest.raises(NotifierConfigError, match="BREVO_API_KEY"):
        run_cron(f"Bearer {SECRET}", environ=env, connect=as_notifier(database))
    now = datetime.now(UTC) + timedelta(minutes=1)
    sink = SinkClient(tmp_path)
    # Production requires a Brevo template id for every template (as `pulumi up` sets BREVO_TEMPLATE_IDS).
    ids = {template_name(t, lang): 1 for t in set(KIND_TEMPLATE.values()) for lang in LANGUAGES}
    result = run_cron(
        f"Bearer {SECRET}",
        environ={**env, "BREVO_TEMPLATE_IDS": json.dumps(ids)},
        now=now,
        client=sink,
        connect=as_notifier(database),
    )
    assert result.scan.alerts >= 2
    assert result.outbox.sent == result.outbox.claimed > 0
    assert {"mynexk.sla_breach.en"} <= {email.template for email in list_sent(tmp_path)}
    assert result.as_dict()["outbox"]["sent"] == result.outbox.sent
