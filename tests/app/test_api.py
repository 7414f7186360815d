"""The JSON API: bearer tokens only, the same RLS path as the pages, and messages that say what to fix."""

from __future__ import annotations

import uuid

import psycopg
from fastapi.testclient import TestClient
from portal_testkit import World, bearer


def test_api_without_a_token_answers_401(portal: TestClient) -> None:
    response = portal.get("/api/tickets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_with_a_forged_token_answers_401(portal: TestClient, world: World) -> None:
    token = bearer(world.people["member_a"])["Authorization"][:-4] + "AAAA"
    assert portal.get("/api/tickets", headers={"Authorization": token}).status_code == 401


def test_api_lists_only_visible_tickets(portal: TestClient, world: World) -> None:
    body = portal.get("/api/tickets", headers=bearer(world.people["member_a"])).json()
    assert [t["subject"] for t in body["items"]] == ["Printer on fire"]
    assert body["has_next"] is False


def test_api_gives_404_for_another_organizations_ticket(portal: TestClient, world: World) -> None:
    response = portal.get(f"/api/tickets/{world.tickets['b1']}", headers=bearer(world.people["member_a"]))
    assert response.status_code == 404
    assert response.json() == {"detail": "This ticket does not exist, or you do not have access to it."}


def test_api_messages_hide_internal_notes_from_clients(portal: TestClient, world: World) -> None:
    ticket = world.tickets["a1"]
    client_view = portal.get(
        f"/api/tickets/{ticket}/messages", headers=bearer(world.people["member_a"])
    ).json()
    agent_view = portal.get(
        f"/api/tickets/{ticket}/messages", headers=bearer(world.people["agent"], "aal2")
    ).json()
    assert [m["internal"] for m in client_view["items"]] == [False]
    assert sorted(m["internal"] for m in agent_view["items"]) == [False, True]
    assert client_view["next_after"] is None and agent_view["next_after"] is None


def _long_thread(world: World, ticket: str, count: int) -> None:
    """`count` messages written in one statement (so they share created_at: the id breaks the tie), every
    third one an internal note."""
    world.db.execute(
        """insert into public.ticket_messages (ticket_id, author_id, body, internal)
           select %s, %s, 'Message ' || n, n %% 3 = 0 from generate_series(1, %s) as n""",
        (world.tickets[ticket], world.people["agent"].id, count),
    )


def _all_pages(portal: TestClient, url: str, headers: dict[str, str], limit: int) -> list[list[dict]]:
    pages, after = [], None
    while True:
        params = {"limit": limit} | ({"after": after} if after else {})
        response = portal.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        after = response.json()["next_after"]
        if after is None:
            return pages


def test_api_messages_page_through_the_whole_thread_in_order_without_gaps_or_repeats(
    portal: TestClient, world: World
) -> None:
    _long_thread(world, "a2", 10)
    url = f"/api/tickets/{world.tickets['a2']}/messages"
    headers = bearer(world.people["agent"], "aal2")
    whole = portal.get(url, headers=headers).json()
    pages = _all_pages(portal, url, headers, limit=3)
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    paged = [m["id"] for page in pages for m in page]
    assert paged == [m["id"] for m in whole["items"]] and len(set(paged)) == 10
    keys = [(m["created_at"], m["id"]) for m in whole["items"]]
    assert keys == sorted(keys)


def test_api_message_pages_for_a_client_skip_internal_notes_and_end_with_no_cursor(
    portal: TestClient, world: World
) -> None:
    _long_thread(world, "a2", 10)
    url = f"/api/tickets/{world.tickets['a2']}/messages"
    pages = _all_pages(portal, url, bearer(world.people["admin_a"]), limit=4)
    bodies = [m["body"] for page in pages for m in page]
    assert [len(page) for page in pages] == [4, 3]
    assert sorted(bodies) == sorted(f"Message {n}" for n in range(1, 11) if n % 3)


def test_api_message_page_size_defaults_to_100_and_is_capped_at_500(portal: TestClient, world: World) -> None:
    _long_thread(world, "a2", 101)
    url = f"/api/tickets/{world.tickets['a2']}/messages"
    headers = bearer(world.people["agent"], "aal2")
    first = portal.get(url, headers=headers).json()
    assert len(first["items"]) == 100 and first["next_after"] == first["items"][-1]["id"]
    rest = portal.get(url, params={"after": first["next_after"]}, headers=headers).json()
    assert len(rest["items"]) == 1 and rest["next_after"] is None
    assert len(portal.get(url, params={"limit": 500}, headers=headers).json()["items"]) == 101
    for bad in (0, 501):
        response = portal.get(url, params={"limit": bad}, headers=headers)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["limit"]


def test_api_message_cursor_naming_an_internal_note_is_refused_to_a_client_like_an_unknown_id(
    portal: TestClient, world: World
) -> None:
    ticket = world.tickets["a1"]
    note = world.db.execute(
        "select id from public.ticket_messages where ticket_id = %s and internal", (ticket,)
    ).fetchone()[0]
    other_ticket_message = world.message("a2", "agent", "Elsewhere")
    url = f"/api/tickets/{ticket}/messages"
    answers = [
        portal.get(url, params={"after": str(cursor)}, headers=bearer(world.people["member_a"]))
        for cursor in (note, other_ticket_message, uuid.uuid4())
    ]
    assert {r.status_code for r in answers} == {422}
    assert len({r.json()["detail"] for r in answers}) == 1
    assert "after" in answers[0].json()["detail"]
    as_agent = portal.get(url, params={"after": str(note)}, headers=bearer(world.people["agent"], "aal2"))
    assert as_agent.status_code == 200


def test_api_message_pages_of_another_organizations_ticket_are_404(portal: TestClient, world: World) -> None:
    response = portal.get(
        f"/api/tickets/{world.tickets['b1']}/messages",
        params={"limit": 1},
        headers=bearer(world.people["member_a"]),
    )
    assert response.status_code == 404


def test_api_refuses_staff_tokens_without_mfa(portal: TestClient, world: World) -> None:
    response = portal.get("/api/tickets", headers=bearer(world.people["agent"], "aal1"))
    assert response.status_code == 403
    assert "aal2" in response.json()["detail"]


def test_api_creates_a_ticket_for_the_callers_organization(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    response = portal.post(
        "/api/tickets",
        json={"subject": "Laptop", "description": "Will not boot", "priority": "high"},
        headers=bearer(member),
    )
    assert response.status_code == 201
    created = response.json()
    assert created["organization_id"] == str(member.organization_id) and created["status"] == "new"
    assert (
        db.execute("select requester_id from public.tickets where id = %s", (created["id"],)).fetchone()[0]
        == member.id
    )


def test_api_validation_errors_name_the_field(portal: TestClient, world: World) -> None:
    response = portal.post(
        "/api/tickets",
        json={"subject": "", "description": "x", "priority": "asap"},
        headers=bearer(world.people["member_a"]),
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"subject", "priority"} <= fields


def test_api_client_cannot_write_an_internal_note(portal: TestClient, world: World) -> None:
    response = portal.post(
        f"/api/tickets/{world.tickets['a1']}/messages",
        json={"body": "sneaky", "internal": True},
        headers=bearer(world.people["member_a"]),
    )
    assert response.status_code == 403


def test_api_agent_replies_and_sets_the_first_response_time(portal: TestClient, world: World) -> None:
    ticket = world.tickets["a2"]
    headers = bearer(world.people["agent"], "aal2")
    assert (
        portal.post(f"/api/tickets/{ticket}/messages", json={"body": "Hello"}, headers=headers).status_code
        == 201
    )
    assert portal.get(f"/api/tickets/{ticket}", headers=headers).json()["first_response_at"] is not None


def test_api_client_cannot_change_priority(portal: TestClient, world: World) -> None:
    response = portal.patch(
        f"/api/tickets/{world.tickets['a1']}",
        json={"priority": "low"},
        headers=bearer(world.people["member_a"]),
    )
    assert response.status_code == 403


def test_api_agent_cannot_assign_someone_outside_the_organization(portal: TestClient, world: World) -> None:
    response = portal.patch(
        f"/api/tickets/{world.tickets['a1']}",
        json={"assignee_id": str(world.people["agent_b"].id)},
        headers=bearer(world.people["agent"], "aal2"),
    )
    assert response.status_code == 422
    assert "assignee" in response.json()["detail"]


def test_openapi_document_describes_tickets_and_messages(portal: TestClient) -> None:
    paths = portal.get("/api/openapi.json").json()["paths"]
    assert set(paths) == {"/api/tickets", "/api/tickets/{ticket_id}", "/api/tickets/{ticket_id}/messages"}


def test_openapi_document_bounds_every_list_in_a_response(portal: TestClient) -> None:
    schemas = portal.get("/api/openapi.json").json()["components"]["schemas"]
    assert schemas["MessagePage"]["properties"]["items"]["maxItems"] == 500
    assert schemas["MessagePage"]["required"] == ["items", "next_after"]
    assert schemas["TicketPage"]["properties"]["items"]["maxItems"] == 25
    unbounded = [
        (name, field)
        for name, schema in schemas.items()
        for field, prop in schema.get("properties", {}).items()
        if prop.get("type") == "array" and "maxItems" not in prop
    ]
    assert unbounded == []
