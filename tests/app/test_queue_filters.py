"""Every combination of the ticket filters answers 200 with exactly the matching tickets,
for the agent's queue and the client's list, as a full page (no JavaScript) and as the htmx fragment."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_testkit import World, sign_in

from app.queries.tickets import OPEN_STATUSES, PAGE_SIZE, PRIORITIES, STATUSES

SEARCHES = ["", "printer", "VPN", "%", "_", "Ticket", "é", "  slow  ", "no such words"]
TICKET_LINK = re.compile(r'href="/tickets/([0-9a-f-]{36})"')


@pytest.fixture
def busy_world(world: World, db: psycopg.Connection) -> World:
    """The shared world plus tickets in every status and priority, some assigned to the agent."""
    agent = world.people["agent"]
    for index, (status, priority) in enumerate(
        [(s, p) for s in STATUSES for p in PRIORITIES if (STATUSES.index(s) + PRIORITIES.index(p)) % 2 == 0]
    ):
        ticket = world.ticket(f"x{index}", "member_a" if index % 2 else "admin_a", priority=priority)
        db.execute(
            "update public.tickets set status = %s, assignee_id = %s where id = %s",
            (status, agent.id if index % 3 == 0 else None, ticket),
        )
    return world


def _tickets(db: psycopg.Connection) -> list[dict[str, Any]]:
    rows = db.execute(
        "select id, organization_id, requester_id, assignee_id, subject, status, priority from public.tickets"
    ).fetchall()
    keys = ("id", "organization_id", "requester_id", "assignee_id", "subject", "status", "priority")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _matches(t: dict[str, Any], statuses: list[str], priorities: list[str], search: str) -> bool:
    return (
        t["status"] in statuses
        and (not priorities or t["priority"] in priorities)
        and (not search.strip() or search.strip().lower() in t["subject"].lower())
    )


def _shown(html: str) -> set[uuid.UUID]:
    results = html[html.index('id="results"') :] if 'id="results"' in html else html
    return {uuid.UUID(match) for match in TICKET_LINK.findall(results)}


filters = st.fixed_dictionaries(
    {
        "status": st.lists(st.sampled_from(STATUSES), unique=True),
        "priority": st.lists(st.sampled_from(PRIORITIES), unique=True),
        "q": st.sampled_from(SEARCHES),
        "page": st.integers(min_value=1, max_value=3),
        "htmx": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    choice=filters,
    organization=st.sampled_from(["", "a", "b", " "]),
    mine=st.booleans(),
    sort=st.sampled_from(["urgency", "updated", "created", "priority"]),
)
def test_every_queue_filter_combination_answers_200_with_exactly_the_matching_tickets(
    portal: TestClient,
    busy_world: World,
    db: psycopg.Connection,
    choice: dict[str, Any],
    organization: str,
    mine: bool,
    sort: str,
) -> None:
    """Invariant: for any values the queue's filter form can send (including "All assigned", an empty
    organization), the answer is 200 and lists exactly the agent's visible tickets that match, paged by 25."""
    agent = busy_world.people["agent"]
    if "nexk_access" not in portal.cookies:
        sign_in(portal, agent)
    params: list[tuple[str, str]] = [("status", s) for s in choice["status"]]
    params += [("priority", p) for p in choice["priority"]]
    org_id = busy_world.orgs.get(organization.strip())
    params += [("q", choice["q"]), ("organization", str(org_id) if org_id else organization), ("sort", sort)]
    if mine:
        params.append(("mine", "true"))
    params.append(("page", str(choice["page"])))
    headers = {"HX-Request": "true"} if choice["htmx"] else {}
    response = portal.get("/agent/queue", params=params, headers=headers)
    assert response.status_code == 200, response.text[:500]

    statuses = choice["status"] or list(OPEN_STATUSES)
    expected = {
        t["id"]
        for t in _tickets(db)
        if t["organization_id"] == busy_world.orgs["a"]  # the agent serves organization a only
        and (org_id is None or t["organization_id"] == org_id)
        and (not mine or t["assignee_id"] == agent.id)
        and _matches(t, statuses, choice["priority"], choice["q"])
    }
    shown = _shown(response.text)
    assert shown <= expected
    start = (choice["page"] - 1) * PAGE_SIZE
    assert len(shown) == max(0, min(PAGE_SIZE, len(expected) - start))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=filters, sort=st.sampled_from(["updated", "created", "priority"]))
def test_every_client_list_filter_combination_answers_200_with_exactly_the_matching_tickets(
    portal: TestClient, busy_world: World, db: psycopg.Connection, choice: dict[str, Any], sort: str
) -> None:
    """Invariant: the client admin's list answers 200 and lists exactly the organization's matching tickets."""
    if "nexk_access" not in portal.cookies:
        sign_in(portal, busy_world.people["admin_a"])
    params: list[tuple[str, str]] = [("status", s) for s in choice["status"]]
    params += [("priority", p) for p in choice["priority"]]
    params += [("q", choice["q"]), ("sort", sort), ("page", str(choice["page"]))]
    headers = {"HX-Request": "true"} if choice["htmx"] else {}
    response = portal.get("/tickets", params=params, headers=headers)
    assert response.status_code == 200, response.text[:500]
    expected = {
        t["id"]
        for t in _tickets(db)
        if t["organization_id"] == busy_world.orgs["a"]
        and _matches(t, choice["status"] or list(STATUSES), choice["priority"], choice["q"])
    }
    shown = _shown(response.text)
    assert shown <= expected
    start = (choice["page"] - 1) * PAGE_SIZE
    assert len(shown) == max(0, min(PAGE_SIZE, len(expected) - start))


def test_all_assigned_is_the_default_and_a_tampered_organization_gets_a_translated_error(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.people["agent"])
    page = portal.get("/agent/queue?organization=&sort=urgency").text
    assert "Printer on fire" in page and "VPN is slow" in page
    refused = portal.get("/agent/queue?organization=not-an-id", headers={"Accept-Language": "fr"})
    assert refused.status_code == 422
    assert "not-an-id" not in refused.text
