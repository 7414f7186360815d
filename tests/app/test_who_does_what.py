"""Who does what is visible: staff replies carry the agent's first name and a "NexK support"
badge, the assignee reads the same everywhere, the NX- reference is on the list, the title and the thread and
finds its ticket, and the activity timeline shows each role only what the access rules let it read."""

from __future__ import annotations

import re

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from app.domain.ticket_refs import reference_range, ticket_ref
from db import testing_world as make


@pytest.fixture
def worked(world: World, db: psycopg.Connection) -> World:
    """The agent ("Agent Tester") takes a1, sets it pending and high; an internal file goes on the internal note."""
    a1 = world.tickets["a1"]
    agent = world.people["agent"]
    claims = f'{{"sub": "{agent.id}", "role": "authenticated", "aal": "aal2"}}'
    with db.transaction():
        db.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
        db.execute(
            "update public.tickets set assignee_id = %s, status = 'pending', priority = 'high' where id = %s",
            (agent.id, a1),
        )
        note = db.execute(
            "select id from public.ticket_messages where ticket_id = %s and internal", (a1,)
        ).fetchone()[0]
        make.attachment(
            db, a1, world.orgs["a"], agent.id, message_id=note, internal=True, file_name="toner-quote.pdf",
            content_type="application/pdf",
        )  # fmt: skip
    return world


def test_a_client_sees_the_agents_first_name_a_support_badge_and_a_styled_staff_reply(
    portal: TestClient, worked: World
) -> None:
    sign_in(portal, worked.people["member_a"])
    thread = portal.get(f"/tickets/{worked.tickets['a1']}").text
    reply = re.search(r'<li id="message-[^"]+" class="message from-staff">(.*?)</li>', thread, re.S)
    assert reply is not None, "the agent's reply is styled as a staff message"
    assert (
        "Agent" in reply.group(1) and "NexK support" in reply.group(1) and "We are on it." in reply.group(1)
    )
    assert "Someone" not in thread and "Agent Tester" not in thread  # first name only for clients
    assert "Internal: check the toner supplier" not in thread


def test_the_assignee_reads_the_same_on_the_list_and_the_thread(portal: TestClient, worked: World) -> None:
    sign_in(portal, worked.people["admin_a"])
    listing = portal.get("/tickets").text
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r"(VPN is slow|Printer on fire).*?<span class=\"assignee[^\"]*\">([^<]+)</span>", listing, re.S
        )
    }
    assert rows == {"Printer on fire": "Agent", "VPN is slow": "Not assigned"}
    assert "—" not in listing
    assert '<span class="assignee">Agent</span>' in portal.get(f"/tickets/{worked.tickets['a1']}").text
    unassigned = portal.get(f"/tickets/{worked.tickets['a2']}").text
    assert '<span class="assignee unassigned">Not assigned</span>' in unassigned


def test_the_reference_is_on_the_list_the_title_and_the_thread_and_finds_the_ticket(
    portal: TestClient, worked: World
) -> None:
    a1, a2 = worked.tickets["a1"], worked.tickets["a2"]
    ref = ticket_ref(a1)
    assert re.fullmatch(r"NX-[0-9A-F]{8}", ref)
    sign_in(portal, worked.people["admin_a"])
    assert ref in portal.get("/tickets").text
    thread = portal.get(f"/tickets/{a1}").text
    assert f"<title>{ref} · Printer on fire · myNexK</title>" in thread
    assert f'<span class="ref">{ref}</span> Printer on fire' in thread
    for query in (ref, ref.lower(), ref[:6], "nx" + ref[3:]):
        found = portal.get("/tickets", params={"q": query}).text
        assert "Printer on fire" in found, query
        if ticket_ref(a2)[:6] != ref[:6]:
            assert "VPN is slow" not in found, query
    # The agent's queue finds it too; another organization's ticket is never found by its reference.
    sign_in(portal, worked.people["agent"])
    assert "Printer on fire" in portal.get("/agent/queue", params={"q": ref}).text
    sign_in(portal, worked.people["member_b"])
    assert "Printer on fire" not in portal.get("/tickets", params={"q": ref}).text


def test_a_reference_is_parsed_as_an_index_range_of_ids() -> None:
    low, high = reference_range(" nx-1a2B ")
    assert str(low) == "1a2b0000-0000-0000-0000-000000000000"
    assert str(high) == "1a2bffff-ffff-ffff-ffff-ffffffffffff"
    assert reference_range("printer") is None and reference_range("NX-123456789") is None


def test_the_timeline_shows_changes_to_the_client_and_internal_files_only_to_staff(
    portal: TestClient, worked: World
) -> None:
    sign_in(portal, worked.people["member_a"])
    client = portal.get(f"/tickets/{worked.tickets['a1']}").text
    timeline = client.split('id="activity-title"')[1].split("</section>")[0]
    assert "Pending" in timeline and "High" in timeline and '<span class="assignee">Agent</span>' in timeline
    assert "toner-quote.pdf" not in client
    sign_in(portal, worked.people["agent"])
    staff = portal.get(f"/tickets/{worked.tickets['a1']}").text
    staff_timeline = staff.split('id="activity-title"')[1].split("</section>")[0]
    assert "added the file toner-quote.pdf" in staff_timeline and "Agent Tester" in staff_timeline


def test_staff_open_a_ticket_on_a_clients_behalf_and_the_client_sees_who_did(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    agent, member = world.people["agent"], world.people["member_a"]
    sign_in(portal, agent)
    form = portal.get("/tickets/new")
    assert form.status_code == 200
    assert str(member.id) in form.text and str(world.people["member_b"].id) not in form.text  # B is not his
    created = portal.post(
        "/tickets",
        data={
            "csrf_token": csrf_of(portal),
            "subject": "Phoned: screen flickers",
            "description": "Called at 9:05, flicker since this morning.",
            "priority": "high",
            "requester_id": str(member.id),
            "assign_to_me": "true",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    ticket = db.execute(
        "select id, organization_id, requester_id, status, assignee_id from public.tickets"
        " where subject = 'Phoned: screen flickers'"
    ).fetchone()
    assert ticket[1:] == (world.orgs["a"], member.id, "new", agent.id)
    sign_in(portal, member)
    thread = portal.get(f"/tickets/{ticket[0]}").text
    assert "opened this ticket on behalf of Member Tester" in thread


@pytest.mark.parametrize("requester", ["member_b", "deactivated", "", "not-a-uuid"])
def test_an_agent_cannot_open_a_ticket_for_someone_outside_his_organizations(
    portal: TestClient, world: World, db: psycopg.Connection, requester: str
) -> None:
    if requester == "deactivated":
        gone = world.person("gone_a", "client_member", "a")
        db.execute("update public.profiles set deactivated_at = now() where id = %s", (gone.id,))
        requester_id = str(gone.id)
    else:
        requester_id = str(world.people[requester].id) if requester in world.people else requester
    sign_in(portal, world.people["agent"])
    refused = portal.post(
        "/tickets",
        data={
            "csrf_token": csrf_of(portal),
            "subject": "S",
            "description": "D",
            "requester_id": requester_id,
        },
    )
    assert refused.status_code == 422
    assert "Requester: choose the person the ticket is for from the list." in refused.text
    assert db.execute("select count(*) from public.tickets where subject = 'S'").fetchone()[0] == 0


def test_a_client_still_opens_tickets_only_for_themselves(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    assert 'name="requester_id"' not in portal.get("/tickets/new").text
    created = portal.post(
        "/tickets",
        data={
            "csrf_token": csrf_of(portal),
            "subject": "For my colleague",
            "description": "D",
            "requester_id": str(world.people["admin_a"].id),  # ignored: clients open for themselves
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    requester = db.execute("select requester_id from public.tickets where subject = 'For my colleague'")
    assert requester.fetchone()[0] == member.id


def test_an_admin_opens_a_ticket_on_behalf_of_any_organizations_client(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    boss, member_b = world.person("boss", "admin", totp=True), world.people["member_b"]
    sign_in(portal, boss)
    form = portal.get("/tickets/new").text
    assert str(member_b.id) in form and str(world.people["member_a"].id) in form
    assert 'optgroup label="Org a"' in form and 'optgroup label="Org b"' in form
    created = portal.post(
        "/tickets",
        data={
            "csrf_token": csrf_of(portal),
            "subject": "Phoned B",
            "description": "D",
            "requester_id": str(member_b.id),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    row = db.execute(
        "select organization_id, requester_id from public.tickets where subject = 'Phoned B'"
    ).fetchone()
    assert row == (world.orgs["b"], member_b.id)
