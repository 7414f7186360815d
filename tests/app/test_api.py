"""The JSON API: bearer tokens only, the same RLS path as the pages, and messages that say what to fix."""

from __future__ import annotations

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
    assert [m["internal"] for m in client_view] == [False]
    assert sorted(m["internal"] for m in agent_view) == [False, True]


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
