"""Replies as a helpdesk treats them: a public reply and an internal note are two
explicit intents the server never swaps; a client's reply reopens a waiting ticket, resumes its SLA clock and
tells the agents; a closed ticket takes a follow-up ticket instead of a reply. Over the real database."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from app.notifications.sink import SinkClient, list_sent
from app.notifications.templates import render_params
from app.notifications.worker import run_once
from db.testing import impersonate, jwt_claims

EXE = b"MZ\x90\x00" + b"\x00" * 64


def _post(portal: TestClient, ticket: object, fields: dict[str, str], files: list | None = None):
    return portal.post(
        f"/tickets/{ticket}/messages",
        data={**fields, "csrf_token": csrf_of(portal)},
        files=files or [],
        follow_redirects=False,
    )


def _messages(db: psycopg.Connection, ticket: object, body: str) -> list[tuple[bool]]:
    return db.execute(
        "select internal from public.ticket_messages where ticket_id = %s and body = %s", (ticket, body)
    ).fetchall()


def _status(db: psycopg.Connection, ticket: object) -> str:
    return db.execute("select status from public.tickets where id = %s", (ticket,)).fetchone()[0]


def _textarea(html: str, element_id: str) -> str:
    match = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea #{element_id}"
    return html_lib.unescape(match.group(1))


# --- Finding 1: the intent travels with the submission -------------------------------------------------------


def test_a_submission_without_an_intent_is_refused_and_never_published(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    """The old form's checkbox (`internal=true`) or nothing at all: no intent, so nothing is stored, and the
    text comes back in the internal-note form, never in the public one."""
    sign_in(portal, world.people["agent"])
    ticket = world.tickets["a1"]
    for fields in (
        {"body": "Toner supplier owes us"},
        {"body": "Toner supplier owes us", "internal": "true"},
    ):
        response = _post(portal, ticket, fields)
        assert response.status_code == 422
        assert "public reply to the client or as an internal note" in response.text
        assert _textarea(response.text, "note-body") == "Toner supplier owes us"
        assert _textarea(response.text, "reply-body") == ""
    assert _messages(db, ticket, "Toner supplier owes us") == []


def test_an_internal_note_refused_for_its_file_comes_back_internal_and_is_stored_internal_on_retry(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    """Finding 1 exactly: note + setup.exe -> 422 with the text kept in the internal form, the error summary
    announced and the page's own address named; Send again -> stored internal; the client never sees it."""
    sign_in(portal, world.people["agent"])
    ticket = world.tickets["a2"]
    note = "Internal: the client's firewall admin is on leave"
    refused = _post(
        portal,
        ticket,
        {"body": note, "intent": "internal"},
        [("files", ("setup.exe", EXE, "application/x-msdownload"))],
    )
    assert refused.status_code == 422
    assert _textarea(refused.text, "note-body") == note
    assert _textarea(refused.text, "reply-body") == ""
    assert 'role="alert"' in refused.text and "data-error-summary" in refused.text
    assert f'<meta name="nexk-page-url" content="/tickets/{ticket}">' in refused.text
    assert _messages(db, ticket, note) == []

    stored = _post(portal, ticket, {"body": note, "intent": "internal"})
    assert stored.status_code == 303
    assert _messages(db, ticket, note) == [(True,)]
    confirmation = portal.get(stored.headers["location"]).text
    assert "Internal note added. The client does not see it." in confirmation

    sign_in(portal, world.people["admin_a"])
    assert note not in portal.get(f"/tickets/{ticket}").text
    assert (
        db.execute(
            "select count(*) from private.notifications where ticket_id = %s and kind = 'agent_reply'",
            (ticket,),
        ).fetchone()[0]
        == 0
    )


def test_a_public_reply_refused_for_its_file_comes_back_in_the_public_form(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["agent"])
    ticket = world.tickets["a1"]
    refused = _post(
        portal,
        ticket,
        {"body": "Here is the tool", "intent": "public"},
        [("files", ("setup.exe", EXE, "x/y"))],
    )
    assert refused.status_code == 422
    assert _textarea(refused.text, "reply-body") == "Here is the tool"
    assert _textarea(refused.text, "note-body") == ""


def test_a_client_cannot_send_an_internal_note(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["member_a"])
    ticket = world.tickets["a1"]
    assert _post(portal, ticket, {"body": "psst", "intent": "internal"}).status_code == 403
    assert _messages(db, ticket, "psst") == []


def test_the_client_composer_has_one_public_form_and_staff_have_two_distinct_forms(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.people["member_a"])
    client_page = portal.get(f"/tickets/{world.tickets['a1']}").text
    assert client_page.count('name="intent"') == 1 and 'value="internal"' not in client_page
    sign_in(portal, world.people["agent"])
    staff_page = portal.get(f"/tickets/{world.tickets['a1']}").text
    assert '<input type="hidden" name="intent" value="public">' in staff_page
    assert '<input type="hidden" name="intent" value="internal">' in staff_page
    assert "Internal note — not visible to the client" in staff_page
    assert 'type="checkbox" name="internal"' not in staff_page


# --- Finding 3: what a client's reply does ------------------------------------------------------------------


def test_a_client_reply_on_a_pending_ticket_reopens_it_and_resumes_the_sla_clock(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'pending' where id = %s", (ticket,))
    paused = db.execute(
        "select upper_inf(paused_periods) from private.ticket_sla_clocks where ticket_id = %s", (ticket,)
    ).fetchone()[0]
    assert paused is True
    sign_in(portal, world.people["member_a"])
    page = portal.get(f"/tickets/{ticket}").text
    assert "Sending a reply reopens this ticket." in page
    assert _post(portal, ticket, {"body": "Here is the serial number", "intent": "public"}).status_code == 303
    assert _status(db, ticket) == "open"
    running = db.execute(
        "select upper_inf(paused_periods), awaiting_reply_since is not null"
        " from private.ticket_sla_clocks where ticket_id = %s",
        (ticket,),
    ).fetchone()
    assert running == (False, True)


def test_a_client_reply_on_a_resolved_ticket_reopens_it(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'resolved' where id = %s", (ticket,))
    sign_in(portal, world.people["member_a"])
    assert _post(portal, ticket, {"body": "It broke again", "intent": "public"}).status_code == 303
    assert db.execute(
        "select status, resolved_at from public.tickets where id = %s", (ticket,)
    ).fetchone() == (
        "open",
        None,
    )


def test_a_staff_reply_or_note_does_not_change_the_status(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'pending' where id = %s", (ticket,))
    sign_in(portal, world.people["agent"])
    _post(portal, ticket, {"body": "Waiting for you", "intent": "public"})
    _post(portal, ticket, {"body": "Chase them Friday", "intent": "internal"})
    assert _status(db, ticket) == "pending"


def test_a_closed_ticket_offers_a_follow_up_instead_of_a_reply_and_refuses_a_reply(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'closed' where id = %s", (ticket,))
    sign_in(portal, world.people["member_a"])
    page = portal.get(f"/tickets/{ticket}").text
    assert f'href="/tickets/new?follow_up_of={ticket}"' in page
    assert 'id="composer-public"' not in page
    refused = _post(portal, ticket, {"body": "Hello?", "intent": "public"})
    assert refused.status_code == 422
    assert "This ticket is closed: open a follow-up ticket instead." in refused.text
    assert _messages(db, ticket, "Hello?") == [] and _status(db, ticket) == "closed"


def test_the_database_refuses_a_client_message_on_a_closed_ticket_for_every_client_path(
    world: World, db: psycopg.Connection
) -> None:
    """The API and any other client of the database get the same rule as the page (55000)."""
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'closed' where id = %s", (ticket,))
    member = world.people["member_a"]
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState), impersonate(db, jwt_claims(member.id)):
        db.execute(
            "insert into public.ticket_messages (ticket_id, author_id, body) values (%s, %s, 'late')",
            (ticket, member.id),
        )
    agent = world.people["agent"]
    with impersonate(db, jwt_claims(agent.id, aal="aal2")):
        db.execute(
            "insert into public.ticket_messages (ticket_id, author_id, body, internal) values (%s, %s, 'n', true)",
            (ticket, agent.id),
        )


def test_a_follow_up_ticket_links_to_the_closed_one_and_both_pages_show_the_link(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    original = world.tickets["a1"]
    db.execute("update public.tickets set status = 'closed' where id = %s", (original,))
    sign_in(portal, world.people["member_a"])
    form = portal.get(f"/tickets/new?follow_up_of={original}").text
    assert f'name="follow_up_of" value="{original}"' in form
    assert 'value="Follow-up: Printer on fire"' in form
    created = portal.post(
        "/tickets",
        data={
            "subject": "Follow-up: Printer on fire",
            "description": "It is smoking again.",
            "priority": "high",
            "follow_up_of": str(original),
            "csrf_token": csrf_of(portal),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    new_id = created.headers["location"].rsplit("/", 1)[1]
    assert (
        db.execute("select follow_up_of from public.tickets where id = %s", (new_id,)).fetchone()[0]
        == original
    )
    new_page = portal.get(created.headers["location"]).text
    assert "Your follow-up ticket was opened and linked to the closed one." in new_page
    assert f'href="/tickets/{original}"' in new_page
    assert f'href="/tickets/{new_id}"' in portal.get(f"/tickets/{original}").text


def test_a_client_cannot_link_a_follow_up_to_a_ticket_they_do_not_see(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    """A colleague's ticket (organization not sharing tickets) and another organization's: refused by the
    database for a direct insert, and by the page with a field error and the form kept."""
    colleague = world.tickets["a2"]  # admin_a's ticket; member_a does not see it
    other_org = world.tickets["b1"]
    db.execute("update public.tickets set status = 'closed' where id = any(%s)", ([colleague, other_org],))
    member = world.people["member_a"]
    for target in (colleague, other_org):
        with pytest.raises(psycopg.errors.IntegrityError), impersonate(db, jwt_claims(member.id)):
            db.execute(
                """insert into public.tickets (organization_id, requester_id, subject, description, follow_up_of)
                   values (%s, %s, 'x', 'y', %s)""",
                (member.organization_id, member.id, target),
            )
    sign_in(portal, member)
    refused = portal.post(
        "/tickets",
        data={
            "subject": "Sneaky",
            "description": "Link me",
            "follow_up_of": str(colleague),
            "csrf_token": csrf_of(portal),
        },
    )
    assert refused.status_code == 422
    assert "not a closed ticket you can see" in refused.text and 'value="Sneaky"' in refused.text
    assert db.execute("select count(*) from public.tickets where subject = 'Sneaky'").fetchone()[0] == 0


def test_a_follow_up_may_only_continue_a_closed_ticket(world: World, db: psycopg.Connection) -> None:
    member = world.people["member_a"]
    with pytest.raises(psycopg.errors.IntegrityError), impersonate(db, jwt_claims(member.id)):
        db.execute(
            """insert into public.tickets (organization_id, requester_id, subject, description, follow_up_of)
               values (%s, %s, 'x', 'y', %s)""",
            (member.organization_id, member.id, world.tickets["a1"]),
        )


# --- Finding 3: who is told ---------------------------------------------------------------------------------


def _client_reply_rows(db: psycopg.Connection, ticket: object) -> list[tuple[str, str]]:
    return db.execute(
        """select p.email::text, n.language from private.notifications as n
           join public.profiles as p on p.id = n.recipient_id
           where n.ticket_id = %s and n.kind = 'client_reply' order by p.email""",
        (ticket,),
    ).fetchall()


def test_a_client_reply_on_an_unassigned_ticket_tells_the_organizations_agents(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    world.person("agent_c", "agent", totp=True)
    world.assign("agent_c", "a")
    db.execute("update public.profiles set language = 'nl' where email = 'agent_c@example.test'")
    ticket = world.tickets["a1"]
    sign_in(portal, world.people["member_a"])
    _post(portal, ticket, {"body": "Any news?", "intent": "public"})
    assert _client_reply_rows(db, ticket) == [("agent@example.test", "en"), ("agent_c@example.test", "nl")]


def test_a_client_reply_on_an_assigned_ticket_tells_the_assignee_only_and_respects_preferences(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    world.person("agent_c", "agent", totp=True)
    world.assign("agent_c", "a")
    ticket = world.tickets["a1"]
    db.execute(
        "update public.tickets set assignee_id = %s where id = %s", (world.people["agent_c"].id, ticket)
    )
    sign_in(portal, world.people["member_a"])
    _post(portal, ticket, {"body": "Any news?", "intent": "public"})
    assert _client_reply_rows(db, ticket) == [("agent_c@example.test", "en")]
    db.execute(
        "update public.profiles set notify_ticket_replies = false where id = %s",
        (world.people["agent_c"].id,),
    )
    _post(portal, ticket, {"body": "Hello??", "intent": "public"})
    assert len(_client_reply_rows(db, ticket)) == 1


def test_the_client_reply_e_mail_renders_in_english_french_and_dutch_and_reaches_the_sink(
    portal: TestClient, world: World, db: psycopg.Connection, database: str, tmp_path: Path
) -> None:
    raw = {
        "ticket_id": str(uuid.uuid4()),
        "subject": "Printer",
        "author_name": "Ann",
        "organization": "Org a",
    }
    for language in ("en", "fr", "nl"):
        params = render_params("client_reply", language, raw | {"first_name": "Bob"}, "https://p.example")
        assert params["author_name"] == "Ann" and params["ticket_ref"].startswith("NX-")
    ticket = world.tickets["a1"]
    sign_in(portal, world.people["member_a"])
    _post(portal, ticket, {"body": "Any news?", "intent": "public"})
    run_once(
        lambda: psycopg.connect(database, autocommit=True),
        SinkClient(tmp_path),
        datetime.now(UTC),
        template_ids={},
        portal_url="https://p.example",
        require_template_ids=False,
    )
    sent = [e for e in list_sent(tmp_path) if e.kind == "client_reply"]
    assert [(e.to_email, e.params["subject"]) for e in sent] == [("agent@example.test", "Printer on fire")]
    assert all("Any news?" not in str(e.params) for e in sent)


def test_the_api_answers_409_to_a_client_message_on_a_closed_ticket_and_reopens_a_pending_one(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    """The JSON API gets the database's rules too: the same semantics as the page."""
    from portal_testkit import bearer

    member = world.people["member_a"]
    ticket = world.tickets["a1"]
    db.execute("update public.tickets set status = 'pending' where id = %s", (ticket,))
    added = portal.post(
        f"/api/tickets/{ticket}/messages", json={"body": "Here you go"}, headers=bearer(member)
    )
    assert added.status_code == 201, added.text
    assert _status(db, ticket) == "open"
    db.execute("update public.tickets set status = 'closed' where id = %s", (ticket,))
    refused = portal.post(f"/api/tickets/{ticket}/messages", json={"body": "Hello?"}, headers=bearer(member))
    assert refused.status_code == 409
    assert "follow-up" in refused.json()["detail"]
