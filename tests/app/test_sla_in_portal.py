"""SLA in the portal: clients and agents see due times and breaches, and the agent queue sorts by urgency."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.testclient import TestClient
from portal_testkit import World, sign_in
from sla_world import PLAN_TARGETS, age_ticket, give_plan_targets

from app.domain.sla_repository import load_calendar


def _rows(page: str) -> list[str]:
    """The ticket rows of a list page (the header row has no ticket link)."""
    return [r for r in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S) if 'href="/tickets/' in r]


def test_client_ticket_list_shows_a_breached_ticket_and_its_due_time(
    portal: TestClient, world: World
) -> None:
    give_plan_targets(world)
    late = world.ticket("late", "member_a", subject="Mail server down since Monday", priority="low")
    age_ticket(world, late, 48)
    sign_in(portal, world.people["member_a"])
    page = portal.get("/tickets").text
    row = next(r for r in _rows(page) if "Mail server down since Monday" in r)
    assert "sla-breached" in row and "Breached" in row
    assert "due " in row


def test_client_thread_shows_the_sla_state_of_a_fresh_ticket_as_on_track(
    portal: TestClient, world: World
) -> None:
    give_plan_targets(world)
    fresh = world.ticket("fresh", "member_a", subject="New laptop request")
    sign_in(portal, world.people["member_a"])
    page = portal.get(f"/tickets/{fresh}").text
    sla = re.search(r'<dd id="ticket-sla">(.*?)</dd>', page, flags=re.S)
    assert sla is not None and "On track" in sla.group(1) and "<time" in sla.group(1)


def test_agent_queue_defaults_to_urgency_so_a_breached_low_ticket_comes_before_an_urgent_one(
    portal: TestClient, world: World
) -> None:
    give_plan_targets(world)
    late = world.ticket("late", "member_a", subject="Backup job failing", priority="low")
    age_ticket(world, late, 48)
    sign_in(portal, world.people["agent"])
    rows = _rows(portal.get("/agent/queue").text)
    subjects = [
        re.search(r'<a href="/tickets/[^"]+">(?:<span class="ref">[^<]*</span> )?(.*?)</a>', r).group(1)
        for r in rows
    ]
    assert subjects[0] == "Backup job failing"
    assert "sla-breached" in rows[0]
    by_priority = _rows(portal.get("/agent/queue?sort=priority").text)
    assert "Printer on fire" in by_priority[0]


def test_agent_ticket_view_shows_the_sla_and_tickets_without_targets_show_none(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.people["agent"])
    page = portal.get(f"/tickets/{world.tickets['a2']}").text
    assert "No SLA" in page


def test_a_client_reply_after_an_answer_shows_the_next_response_due_time_to_client_and_agent(
    portal: TestClient, world: World
) -> None:
    give_plan_targets(world)
    ticket = world.ticket("vpn", "member_a", subject="VPN drops every hour")
    world.message("vpn", "agent", "Which client version do you run?")
    world.message("vpn", "member_a", "Version 5.2, on every laptop.")
    awaiting, calendar_id = world.db.execute(
        """select c.awaiting_reply_since, p.calendar_id from private.ticket_sla_clocks as c
           cross join public.sla_plans as p where c.ticket_id = %s and p.id = %s""",
        (ticket, world.plan_id),
    ).fetchone()
    calendar = load_calendar(world.db, calendar_id)
    first, next_response, _ = PLAN_TARGETS["normal"]
    due = calendar.add_business_minutes(awaiting, next_response)  # before the resolution target
    assert due != calendar.add_business_minutes(awaiting, first)

    def shown_due(html: str) -> datetime:
        found = re.search(r'<time datetime="([^"]+)"', html)
        assert found is not None, html
        return datetime.fromisoformat(found.group(1))

    sign_in(portal, world.people["member_a"])
    sla = re.search(r'<dd id="ticket-sla">(.*?)</dd>', portal.get(f"/tickets/{ticket}").text, flags=re.S)
    assert sla is not None and "On track" in sla.group(1)
    assert shown_due(sla.group(1)) == due
    sign_in(portal, world.people["agent"])
    row = next(r for r in _rows(portal.get("/agent/queue").text) if "VPN drops every hour" in r)
    cell = re.search(r'<td class="sla"[^>]*>(.*?)</td>', row, flags=re.S)
    assert cell is not None
    assert shown_due(cell.group(1)) == due
