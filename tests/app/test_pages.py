"""The browser screens over the real database: sign-in, lists, thread, replies, status, profile, and the
access rules as a person experiences them (RLS decides; the portal only shows what it is given)."""

from __future__ import annotations

import psycopg
import pyotp
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, World, csrf_of, sign_in


def test_anonymous_visitor_is_sent_to_sign_in(portal: TestClient) -> None:
    response = portal.get("/tickets", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/sign-in?next=")


def test_wrong_password_is_refused_with_a_message(portal: TestClient, world: World) -> None:
    response = portal.post(
        "/auth/sign-in",
        data={"email": world.people["member_a"].email, "password": "nope", "csrf_token": csrf_of(portal)},
    )
    assert response.status_code == 401
    assert "not correct" in response.text


def test_sign_in_without_csrf_token_is_refused(portal: TestClient, world: World) -> None:
    portal.get("/auth/sign-in")
    response = portal.post(
        "/auth/sign-in", data={"email": world.people["member_a"].email, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "reload the page" in response.text


def test_client_sees_own_tickets_but_not_other_organizations(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    page = portal.get("/tickets")
    assert page.status_code == 200
    assert "Printer on fire" in page.text
    assert "Secret project of B" not in page.text


def test_client_member_without_shared_tickets_does_not_see_colleague_ticket(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.people["member_a"])
    assert "VPN is slow" not in portal.get("/tickets").text


def test_client_admin_sees_every_ticket_of_the_organization(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["admin_a"])
    page = portal.get("/tickets").text
    assert "VPN is slow" in page and "Printer on fire" in page


def test_client_gets_404_for_another_organizations_ticket_by_url(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.get(f"/tickets/{world.tickets['b1']}")
    assert response.status_code == 404
    assert "Secret project of B" not in response.text


def test_client_sees_replies_but_never_internal_notes(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    page = portal.get(f"/tickets/{world.tickets['a1']}").text
    assert "We are on it." in page
    assert "toner supplier" not in page


def test_ticket_list_filters_by_status_priority_and_search(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["admin_a"])
    assert "Printer on fire" in portal.get("/tickets?priority=urgent").text
    assert "VPN is slow" not in portal.get("/tickets?priority=urgent").text
    assert "Printer on fire" not in portal.get("/tickets?q=vpn").text
    assert "No tickets match" in portal.get("/tickets?status=closed").text


def test_htmx_filter_request_gets_only_the_results_fragment(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["admin_a"])
    fragment = portal.get("/tickets?q=vpn", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="results"')
    assert "<html" not in fragment


def test_bad_filter_value_gets_a_400_level_answer_that_names_the_field(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.get("/tickets?status=exploded")
    assert response.status_code == 422
    assert "<strong>Status</strong>: Choose one of the offered values." in response.text


def test_client_opens_a_ticket_and_lands_on_its_thread(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.post(
        "/tickets",
        data={
            "subject": "Mail is down",
            "description": "Since 9:00",
            "priority": "high",
            "csrf_token": csrf_of(portal),
        },
    )
    assert response.status_code == 200
    assert "Mail is down" in response.text
    assert "Since 9:00" in response.text


def test_new_ticket_with_blank_subject_says_what_to_fix(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.post(
        "/tickets",
        data={"subject": "  ", "description": "x", "priority": "low", "csrf_token": csrf_of(portal)},
    )
    assert response.status_code == 422
    assert "Subject: write a short summary" in response.text


def test_client_resolves_and_reopens_but_cannot_close(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["member_a"])
    ticket = world.tickets["a1"]
    csrf = csrf_of(portal)
    assert (
        portal.post(f"/tickets/{ticket}/status", data={"status": "resolved", "csrf_token": csrf}).status_code
        == 200
    )
    assert (
        db.execute("select status from public.tickets where id = %s", (ticket,)).fetchone()[0] == "resolved"
    )
    assert (
        portal.post(f"/tickets/{ticket}/status", data={"status": "open", "csrf_token": csrf}).status_code
        == 200
    )
    refused = portal.post(f"/tickets/{ticket}/status", data={"status": "closed", "csrf_token": csrf})
    assert refused.status_code == 403
    assert db.execute("select status from public.tickets where id = %s", (ticket,)).fetchone()[0] == "open"


def test_client_cannot_use_staff_actions(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.post(
        f"/tickets/{world.tickets['a1']}/priority", data={"priority": "low", "csrf_token": csrf_of(portal)}
    )
    assert response.status_code == 403


def test_staff_after_password_only_reach_the_totp_step(portal: TestClient, world: World) -> None:
    agent = world.people["agent"]
    response = portal.post(
        "/auth/sign-in",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/auth/mfa")
    blocked = portal.get("/agent/queue", follow_redirects=False)
    assert blocked.status_code == 303
    assert blocked.headers["location"] == "/auth/mfa"
    assert "Open your authenticator app" in portal.get("/auth/mfa").text


def test_wrong_totp_code_keeps_the_agent_out(portal: TestClient, world: World) -> None:
    agent = world.people["agent"]
    portal.post(
        "/auth/sign-in", data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_of(portal)}
    )
    response = portal.post("/auth/mfa", data={"code": "000000", "csrf_token": csrf_of(portal)})
    assert response.status_code == 401
    assert portal.get("/agent/queue", follow_redirects=False).status_code == 303


def test_a_totp_code_cannot_be_replayed(portal: TestClient, world: World) -> None:
    agent = world.people["agent"]
    code = pyotp.TOTP(agent.totp_secret).now()
    for expected in (303, 401):
        # each sign-in (and sign-out) brings a new CSRF token: csrf_of reads the current one
        portal.post(
            "/auth/sign-in", data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_of(portal)}
        )
        response = portal.post(
            "/auth/mfa", data={"code": code, "csrf_token": csrf_of(portal)}, follow_redirects=False
        )
        assert response.status_code == expected
        portal.post("/auth/sign-out", data={"csrf_token": csrf_of(portal)})
    assert "already used" in response.text


def test_agent_queue_shows_assigned_organizations_only(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["agent"])
    page = portal.get("/agent/queue").text
    assert "Printer on fire" in page and "VPN is slow" in page
    assert "Secret project of B" not in page


def test_agent_sees_internal_notes_and_adds_one(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["agent"])
    ticket = world.tickets["a2"]
    response = portal.post(
        f"/tickets/{ticket}/messages",
        data={"body": "Escalate to networking", "intent": "internal", "csrf_token": csrf_of(portal)},
    )
    assert response.status_code == 200
    assert "Escalate to networking" in response.text and "Internal note" in response.text
    internal = db.execute(
        "select internal from public.ticket_messages where ticket_id = %s", (ticket,)
    ).fetchone()[0]
    assert internal is True


def test_agent_assigns_and_reprioritises(portal: TestClient, world: World, db: psycopg.Connection) -> None:
    agent = world.people["agent"]
    sign_in(portal, agent)
    ticket = world.tickets["a2"]
    csrf = csrf_of(portal)
    portal.post(f"/tickets/{ticket}/assign", data={"assignee_id": str(agent.id), "csrf_token": csrf})
    portal.post(f"/tickets/{ticket}/priority", data={"priority": "high", "csrf_token": csrf})
    row = db.execute("select assignee_id, priority from public.tickets where id = %s", (ticket,)).fetchone()
    assert row == (agent.id, "high")


def test_agent_cannot_open_a_ticket_of_an_unassigned_organization(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["agent"])
    assert portal.get(f"/tickets/{world.tickets['b1']}").status_code == 404


def test_profile_changes_are_saved_and_email_is_not_editable(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    response = portal.post(
        "/profile",
        data={
            "first_name": "Ann",
            "surname": "Peeters",
            "phone": "+32 2 123 45 67",
            "language": "nl",
            "theme": "dark",
            "email": "evil@example.test",
            "csrf_token": csrf_of(portal),
        },
    )
    assert response.status_code == 200
    assert 'data-theme="dark"' in response.text
    row = db.execute(
        "select first_name, language, email::text from public.profiles where id = %s", (member.id,)
    ).fetchone()
    assert row == ("Ann", "nl", member.email)


def test_profile_with_a_bad_phone_number_says_what_to_fix(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.post(
        "/profile",
        data={"first_name": "Ann", "surname": "P", "phone": "call me", "csrf_token": csrf_of(portal)},
    )
    assert response.status_code == 422
    assert "Phone:" in response.text


def test_ticket_views_and_sign_ins_are_in_the_audit_log(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    portal.get(f"/tickets/{world.tickets['a1']}", headers={"User-Agent": "audit-test-agent"})
    rows = db.execute(
        "select action, object_table, object_id, ip::text, user_agent from public.audit_log where actor_id = %s",
        (member.id,),
    ).fetchall()
    reads = [r for r in rows if r[1] == "tickets"]
    assert reads and reads[0][2] == world.tickets["a1"] and reads[0][4] == "audit-test-agent"
    assert any(r[1] == "auth_sessions" for r in rows)


def test_sign_out_ends_the_session(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    portal.post("/auth/sign-out", data={"csrf_token": csrf_of(portal)})
    assert portal.get("/tickets", follow_redirects=False).status_code == 303


def test_sign_in_is_rate_limited_per_account(portal: TestClient, world: World) -> None:
    email = world.people["member_a"].email
    csrf = csrf_of(portal)
    statuses = [
        portal.post("/auth/sign-in", data={"email": email, "password": "bad", "csrf_token": csrf}).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
