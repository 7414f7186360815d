"""An empty ticket list says why: a new account has no tickets yet (and is offered to open one), while a
list narrowed by filters has no match (and is offered to show all)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from portal_testkit import World, sign_in


def test_a_new_account_without_tickets_is_invited_to_open_one(portal: TestClient, world: World) -> None:
    newcomer = world.person("newcomer_b", "client_member", "b")
    sign_in(portal, newcomer)
    page = portal.get("/tickets").text
    assert "You have no tickets yet." in page
    assert '<a href="/tickets/new">Open a ticket</a>' in page
    assert "No tickets match these filters." not in page


def test_an_empty_filtered_list_says_no_ticket_matches(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    for query in ("status=closed", "priority=low", "q=nothing-like-this", "status=resolved&priority=high"):
        page = portal.get(f"/tickets?{query}").text
        assert "No tickets match these filters." in page, query
        assert "You have no tickets yet." not in page, query


def test_an_empty_htmx_result_says_the_same_as_the_page(portal: TestClient, world: World) -> None:
    sign_in(portal, world.person("newcomer_a", "client_member", "a"))
    fragment = portal.get("/tickets?status=closed", headers={"HX-Request": "true"}).text
    assert "No tickets match these filters." in fragment


def test_an_agent_with_an_empty_default_queue_is_told_there_is_nothing_open(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.person("idle", "agent", totp=True))
    page = portal.get("/agent/queue").text
    assert "No open tickets in your queue." in page
    narrowed = portal.get("/agent/queue?priority=urgent").text
    assert "No tickets match these filters." in narrowed
