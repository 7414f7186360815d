"""SLA in the portal: clients and agents see due times and breaches, and the agent queue sorts by urgency."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from portal_testkit import World, sign_in
from sla_world import age_ticket, give_plan_targets


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
    subjects = [re.search(r'<a href="/tickets/[^"]+">(.*?)</a>', r).group(1) for r in rows]
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
