"""The outbox is written by the database in the same transaction as the event, per preferences and GDPR state."""

from __future__ import annotations

import psycopg
import pytest
from portal_testkit import World

from db.testing import impersonate


def rows(db: psycopg.Connection, kind: str | None = None) -> list[tuple]:
    return db.execute(
        """select n.kind, n.template_key, p.email::text, n.language, n.status, n.params
           from private.notifications as n join public.profiles as p on p.id = n.recipient_id
           where %(kind)s::text is null or n.kind = %(kind)s order by n.created_at""",
        {"kind": kind},
    ).fetchall()


def test_a_new_ticket_acknowledges_the_requester_in_their_language(
    db: psycopg.Connection, world: World
) -> None:
    db.execute("update public.profiles set language = 'nl' where id = %s", (world.people["member_b"].id,))
    world.ticket("b2", "member_b", subject="Wifi down")
    created = [r for r in rows(db, "ticket_created") if r[2] == "member_b@example.test"]
    assert [(r[1], r[3], r[4], r[5]["subject"]) for r in created][-1] == (
        "ticket_created",
        "nl",
        "queued",
        "Wifi down",
    )
    assert created[-1][5]["first_name"] == "Member"


def test_a_public_staff_reply_notifies_the_requester_but_notes_and_client_messages_do_not(
    db: psycopg.Connection, world: World
) -> None:
    before = len(rows(db, "agent_reply"))  # the world's fixture already has one public agent reply
    assert before == 1
    world.message("a1", "agent", "Internal only", internal=True)
    world.message("a1", "member_a", "Any news?")
    world.message("a1", "agent", "Replaced the toner.")
    replies = rows(db, "agent_reply")
    assert len(replies) == 2
    assert replies[-1][2] == "member_a@example.test"
    assert replies[-1][5]["agent_name"] == "Agent"


def test_status_changes_notify_the_requester_unless_they_made_it_and_resolution_has_its_own_template(
    db: psycopg.Connection, world: World
) -> None:
    agent = world.people["agent"]
    db.execute("update public.tickets set status = 'pending' where id = %s", (world.tickets["a1"],))
    db.execute("update public.tickets set status = 'resolved' where id = %s", (world.tickets["a1"],))
    assert [r[1] for r in rows(db, "status_changed")] == ["status_changed"]
    assert [r[1] for r in rows(db, "ticket_resolved")] == ["ticket_resolved"]
    member = world.people["member_a"]
    with impersonate(db, member.claims()) as conn:
        conn.execute("update public.tickets set status = 'open' where id = %s", (world.tickets["a1"],))
        conn.execute("reset role")
        assert conn.execute(
            "select status from public.tickets where id = %s", (world.tickets["a1"],)
        ).fetchone() == ("open",)
        assert len(rows(conn, "status_changed")) == 1  # the requester reopened it: no e-mail to themselves
    # An agent's change does notify (staff need MFA, so the agent's token is aal2).
    with impersonate(db, agent.claims("aal2")) as conn:
        conn.execute("update public.tickets set status = 'pending' where id = %s", (world.tickets["a1"],))
        conn.execute("reset role")
        assert len(rows(conn, "status_changed")) == 2


def test_opted_out_people_get_nothing_and_restricted_people_a_suppressed_row_without_data(
    db: psycopg.Connection, world: World
) -> None:
    db.execute(
        "update public.profiles set notify_ticket_replies = false where id = %s",
        (world.people["member_a"].id,),
    )
    world.message("a1", "agent", "Second reply")
    assert len(rows(db, "agent_reply")) == 1
    agent = world.people["agent"].id
    db.execute("update public.profiles set restricted_at = now() where id = %s", (agent,))
    added = db.execute(
        "select private.enqueue_notification('sla:x', 'sla_breach', 'sla_at_risk', %s, %s, 'sla_alerts', '{\"a\": 1}')",
        (agent, world.tickets["a1"]),
    ).fetchone()[0]
    assert added is True
    status, email, params, error = db.execute(
        "select status, recipient_email, params, last_error from private.notifications where event_key = 'sla:x'"
    ).fetchone()
    assert (status, email, params) == ("suppressed", None, {})
    assert "Art. 18" in error


def test_the_same_event_is_enqueued_once_and_a_rolled_back_event_leaves_no_notification(
    db: psycopg.Connection, world: World
) -> None:
    args = ("e1", world.people["admin_a"].id, world.tickets["a1"])
    sql = "select private.enqueue_notification(%s, 'agent_reply', 'agent_reply', %s, %s, 'ticket_replies', '{}')"
    assert db.execute(sql, args).fetchone()[0] is True
    assert db.execute(sql, args).fetchone()[0] is False
    count = len(rows(db))
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction():
        world.ticket("bad", "member_a", subject="x" * 201)
    assert len(rows(db)) == count


def test_api_roles_cannot_read_or_write_the_outbox(db: psycopg.Connection, world: World) -> None:
    with (
        impersonate(db, world.people["member_a"].claims()) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select * from private.notifications")
