"""The SLA read path on a real database: clock triggers, RLS-scoped reads, and the worker's SLA scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from portal_testkit import World

from app.domain.sla import SlaState
from app.domain.sla_repository import agent_queue, load_calendar, ticket_slas
from app.notifications.worker import open_ticket_slas, sla_scan
from db.testing import impersonate

# priority: (first response, next response, resolution) in business minutes; next response is its own value.
TARGETS = {"urgent": (60, 30, 480), "normal": (240, 120, 2400)}


@pytest.fixture
def sla_world(db: psycopg.Connection, world: World) -> World:
    calendar = db.execute(
        "select calendar_id from public.sla_plans where id = %s", (world.plan_id,)
    ).fetchone()[0]
    for day in range(1, 6):
        db.execute(
            "insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at) values (%s, %s, '08:00', '17:00')",
            (calendar, day),
        )
    for priority, (first, next_response, resolution) in TARGETS.items():
        db.execute(
            "insert into public.sla_policies (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes) values (%s, %s, %s, %s, %s)",
            (world.plan_id, priority, first, next_response, resolution),
        )
    world.person("boss", "admin", totp=True)
    # Three weeks old, never answered: every target of a2 is breached by now.
    db.execute(
        "update public.tickets set created_at = now() - interval '21 days' where id = %s",
        (world.tickets["a2"],),
    )
    return world


def test_pending_periods_are_recorded_and_a_customer_reply_starts_the_next_response_clock(
    db: psycopg.Connection, sla_world: World
) -> None:
    ticket = sla_world.tickets["a1"]
    db.execute("update public.tickets set status = 'pending' where id = %s", (ticket,))
    db.execute("update public.tickets set status = 'open' where id = %s", (ticket,))
    periods, awaiting = db.execute(
        "select paused_periods, awaiting_reply_since from private.ticket_sla_clocks where ticket_id = %s",
        (ticket,),
    ).fetchone()
    [period] = list(periods)
    assert period.lower is not None and period.upper is not None
    assert awaiting is None
    sla_world.message("a1", "member_a", "Still broken")
    report = ticket_slas(db, datetime.now(UTC) + timedelta(minutes=1), [ticket])[ticket].report
    assert report.first_response.state is SlaState.MET
    assert report.next_response is not None


def test_the_next_response_clock_runs_on_the_policys_own_target_for_the_portal_and_the_worker(
    db: psycopg.Connection, sla_world: World
) -> None:
    ticket = sla_world.tickets["a1"]  # urgent, already answered by an agent
    sla_world.message("a1", "member_a", "Still broken")
    awaiting, calendar_id = db.execute(
        """select c.awaiting_reply_since, p.calendar_id from private.ticket_sla_clocks as c
           join public.sla_plans as p on p.id = %s where c.ticket_id = %s""",
        (sla_world.plan_id, ticket),
    ).fetchone()
    calendar = load_calendar(db, calendar_id)
    first, next_response, _ = TARGETS["urgent"]
    expected = calendar.add_business_minutes(awaiting, next_response)
    assert expected != calendar.add_business_minutes(awaiting, first)
    now = datetime.now(UTC) + timedelta(minutes=1)
    with impersonate(db, sla_world.people["member_a"].claims()) as conn:
        portal = ticket_slas(conn, now, [ticket])[ticket].report.next_response
    worker = open_ticket_slas(db, now)[0][ticket].report.next_response
    assert portal is not None and worker is not None
    assert portal.due_at == worker.due_at == expected


def test_clients_get_the_sla_of_their_own_tickets_only_and_the_queue_puts_breaches_first(
    db: psycopg.Connection, sla_world: World
) -> None:
    now = datetime.now(UTC)
    with impersonate(db, sla_world.people["member_a"].claims()) as conn:
        seen = ticket_slas(conn, now)
    assert set(seen) == {sla_world.tickets["a1"]}  # member_a's own ticket; a2 is admin_a's, b1 is B's
    with impersonate(db, sla_world.people["agent"].claims("aal2")) as conn:
        queue = agent_queue(conn, now)
    assert [t.ticket_id for t in queue] == [sla_world.tickets["a2"], sla_world.tickets["a1"]]
    assert queue[0].report.state is SlaState.BREACHED


def test_the_sla_scan_alerts_the_organizations_agents_and_admins_once(
    db: psycopg.Connection, sla_world: World
) -> None:
    now = datetime.now(UTC)
    first = sla_scan(db, now)
    recipients = db.execute(
        """select distinct p.email::text from private.notifications as n join public.profiles as p on p.id = n.recipient_id
           where n.kind = 'sla_breach'"""
    ).fetchall()
    assert {r[0] for r in recipients} == {"agent@example.test", "boss@example.test"}
    assert first.alerts >= 2
    assert sla_scan(db, now + timedelta(minutes=1)).alerts == 0
    params = db.execute(
        "select params from private.notifications where kind = 'sla_breach' limit 1"
    ).fetchone()[0]
    assert {"ticket_id", "due_at", "priority", "first_name"} <= params.keys()
