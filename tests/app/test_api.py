"""The JSON API: bearer tokens only, the same RLS path as the pages, and messages that say what to fix."""

from __future__ import annotations

import re
import uuid

import psycopg
from fastapi.testclient import TestClient
from portal_testkit import World, bearer, csrf_of, sign_in


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
    assert {r.status_code for r in answers} == {404}
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
    assert response.status_code == 409
    assert response.json()["detail"].startswith("assignee_id: ")


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


# What the contract says and what the API does agree (disagreements schemathesis found).


def test_api_errors_on_the_message_field_body_name_the_field_body(portal: TestClient, world: World) -> None:
    response = portal.post(
        f"/api/tickets/{world.tickets['a1']}/messages",
        json={"body": "   "},
        headers=bearer(world.people["member_a"]),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body", "message": "must not be blank"}]


def test_api_malformed_json_is_400_with_what_to_send(portal: TestClient, world: World) -> None:
    response = portal.post(
        "/api/tickets",
        content=b'{"subject": ',
        headers=bearer(world.people["member_a"]) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["detail"]


def test_api_refuses_null_status_and_priority_by_field_and_accepts_a_null_assignee(
    portal: TestClient, world: World
) -> None:
    url, headers = f"/api/tickets/{world.tickets['a1']}", bearer(world.people["agent"], "aal2")
    for field in ("status", "priority"):
        response = portal.patch(url, json={field: None}, headers=headers)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]
    unassigned = portal.patch(url, json={"assignee_id": None}, headers=headers)
    assert unassigned.status_code == 200 and unassigned.json()["assignee_id"] is None


def test_api_text_limits_count_what_is_sent_and_the_stored_text_is_trimmed(
    portal: TestClient, world: World
) -> None:
    headers = bearer(world.people["member_a"])
    too_long = portal.post(
        "/api/tickets", json={"subject": " " + "s" * 200, "description": "d"}, headers=headers
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [{"field": "subject", "message": "must be at most 200 characters"}]
    created = portal.post(
        "/api/tickets", json={"subject": " " + "s" * 199, "description": "\n d \n"}, headers=headers
    )
    assert created.status_code == 201
    assert created.json()["subject"] == "s" * 199 and created.json()["description"] == "d"


def test_api_refuses_nul_and_blank_text_as_its_document_says(portal: TestClient, world: World) -> None:
    document = portal.get("/api/openapi.json").json()
    body = document["components"]["schemas"]["MessageCreate"]["properties"]["body"]
    refused = [re.compile(p["pattern"]) for p in body["not"]["anyOf"]]
    url = f"/api/tickets/{world.tickets['a1']}/messages"
    for text, reason in (("a\x00b", "NUL"), ("\u3000\t ", "blank"), ("", "blank")):
        assert any(p.search(text) for p in refused)
        response = portal.post(url, json={"body": text}, headers=bearer(world.people["member_a"]))
        assert response.status_code == 422
        assert reason in response.json()["errors"][0]["message"]
    assert body["maxLength"] == 20000 and not any(p.search(" ok ") for p in refused)


def test_api_405_lists_every_method_of_the_address(portal: TestClient, world: World) -> None:
    headers = bearer(world.people["member_a"])
    for url, allowed in (
        ("/api/tickets", "GET, HEAD, POST"),
        (f"/api/tickets/{world.tickets['a1']}", "GET, HEAD, PATCH"),
        (f"/api/tickets/{world.tickets['a1']}/messages", "GET, HEAD, POST"),
    ):
        response = portal.delete(url, headers=headers)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed
        assert response.json()["detail"] == f"DELETE is not available at this address; use {allowed}."


def test_api_checks_the_token_before_reading_the_body(portal: TestClient, world: World) -> None:
    for content in (b"\xff\xfe not utf-8", b"{not json", b'{"subject": null}'):
        response = portal.post("/api/tickets", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 401
        assert response.json() == {"detail": "Send a valid access token: Authorization: Bearer <token>."}


def test_openapi_document_describes_the_error_body_of_every_error_an_operation_gives(
    portal: TestClient,
) -> None:
    document = portal.get("/api/openapi.json").json()
    problem = document["components"]["schemas"]["Problem"]
    assert problem["required"] == ["detail"] and "errors" in problem["properties"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "422"} <= codes, (method, path)
            for code in codes - {"200", "201"}:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, code)
    for path, method in (("/api/tickets", "post"), ("/api/tickets/{ticket_id}", "patch")):
        assert "415" in document["paths"][path][method]["responses"]
    assert "415" in document["paths"]["/api/tickets/{ticket_id}/messages"]["post"]["responses"]
    assert "409" in document["paths"]["/api/tickets/{ticket_id}"]["patch"]["responses"]
    assert "409" in document["paths"]["/api/tickets/{ticket_id}/messages"]["post"]["responses"]


def test_the_portal_form_and_the_api_accept_the_same_replies_and_store_them_alike(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    """One rule (app.domain.ticket_text) for both doors: the same texts refused, the same text stored."""
    ticket, member = world.tickets["a1"], world.people["member_a"]
    url = f"/api/tickets/{ticket}/messages"
    texts = ["  kept  ", "", " \u3000 ", "nul\x00inside", " " + "x" * 20000, "\n" + "y" * 19999]
    api = [portal.post(url, json={"body": text}, headers=bearer(member)).status_code for text in texts]
    sign_in(portal, member)
    csrf = csrf_of(portal)
    form = [
        portal.post(
            f"/tickets/{ticket}/messages",
            data={"body": text, "intent": "public", "csrf_token": csrf},
            follow_redirects=False,
        ).status_code
        for text in texts
    ]
    assert api == [201, 422, 422, 422, 422, 201]
    assert form == [303, 422, 422, 422, 422, 303]
    stored = db.execute(
        "select body from public.ticket_messages where ticket_id = %s and body in ('kept', %s)",
        (ticket, "y" * 19999),
    ).fetchall()
    assert sorted(len(row[0]) for row in stored) == [4, 4, 19999, 19999]


def test_api_refuses_a_body_that_is_not_sent_as_json_with_415(portal: TestClient, world: World) -> None:
    headers = bearer(world.people["member_a"])
    body = b'{"subject": "Laptop", "description": "Will not boot"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = portal.post("/api/tickets", content=body, headers=headers | {"Content-Type": content_type})
        assert response.status_code == 415
        assert "Content-Type: application/json" in response.json()["detail"]
    as_json = headers | {"Content-Type": "application/json; charset=utf-8"}
    assert portal.post("/api/tickets", content=body, headers=as_json).status_code == 201
