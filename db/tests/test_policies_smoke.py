"""Per-role spot checks of the access rules in db/policies/README.md, run as PostgREST would run them.

The exhaustive, property-based comparison with a model of the README table lives elsewhere; these tests are
a handful of concrete, readable cases straight from that table, one behaviour each.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import errors

from db import testing_world as make
from db.testing import impersonate, jwt_claims


@dataclass(frozen=True)
class World:
    org_a: uuid.UUID  # shared_tickets = false
    org_b: uuid.UUID  # shared_tickets = true
    member_a1: uuid.UUID
    member_a2: uuid.UUID
    admin_a: uuid.UUID
    member_b1: uuid.UUID
    member_b2: uuid.UUID
    agent_a: uuid.UUID  # assigned to org_a only
    admin: uuid.UUID
    stranger: uuid.UUID  # an auth user without a profile
    ticket_a1: uuid.UUID  # requested by member_a1
    ticket_a2: uuid.UUID  # requested by member_a2
    ticket_b1: uuid.UUID  # requested by member_b1
    public_message_a1: uuid.UUID
    internal_note_a1: uuid.UUID
    attachment_a1: uuid.UUID
    internal_attachment_a1: uuid.UUID
    attachment_b1: uuid.UUID


@pytest.fixture
def world(db: psycopg.Connection) -> World:
    plan = make.sla_plan(db, make.calendar(db, "Brussels"), code="std", name="Std")
    org_a = make.organization(db, "Alpha", plan, contract_start="2026-01-01", shared_tickets=False)
    org_b = make.organization(db, "Beta", plan, contract_start="2026-01-01", shared_tickets=True)
    people = {
        "member_a1": make.person(db, "m1@alpha.be", "client_member", org_a),
        "member_a2": make.person(db, "m2@alpha.be", "client_member", org_a),
        "admin_a": make.person(db, "boss@alpha.be", "client_admin", org_a),
        "member_b1": make.person(db, "m1@beta.be", "client_member", org_b),
        "member_b2": make.person(db, "m2@beta.be", "client_member", org_b),
        "agent_a": make.person(db, "agent@nexk-it.com", "agent"),
        "admin": make.person(db, "admin@nexk-it.com", "admin"),
        "stranger": make.person(db, "nobody@example.com", None),
    }
    make.assign(db, people["agent_a"], org_a)
    ticket_a1 = make.ticket(db, org_a, people["member_a1"])
    ticket_a2 = make.ticket(db, org_a, people["member_a2"])
    ticket_b1 = make.ticket(db, org_b, people["member_b1"])
    public_message = make.message(db, ticket_a1, people["member_a1"], "Help")
    internal_note = make.message(db, ticket_a1, people["agent_a"], "Customer is difficult", internal=True)

    def uploaded(ticket: uuid.UUID, org: uuid.UUID, by: uuid.UUID, **kw: Any) -> uuid.UUID:
        attachment, path = make.attachment(db, ticket, org, by, **kw)
        make.stored_object(db, path)
        return attachment

    return World(
        org_a=org_a,
        org_b=org_b,
        ticket_a1=ticket_a1,
        ticket_a2=ticket_a2,
        ticket_b1=ticket_b1,
        public_message_a1=public_message,
        internal_note_a1=internal_note,
        attachment_a1=uploaded(ticket_a1, org_a, people["member_a1"], message_id=public_message),
        internal_attachment_a1=uploaded(
            ticket_a1, org_a, people["agent_a"], message_id=internal_note, internal=True
        ),
        attachment_b1=uploaded(ticket_b1, org_b, people["member_b1"]),
        **people,
    )


def ids(conn: psycopg.Connection, query: str, params: tuple = ()) -> set[uuid.UUID]:
    return {row[0] for row in conn.execute(query, params)}


PUBLIC_TABLES = [
    "organizations",
    "profiles",
    "agent_assignments",
    "tickets",
    "ticket_messages",
    "attachments",
    "business_calendars",
    "business_hours",
    "holidays",
    "sla_plans",
    "sla_policies",
    "audit_log",
    "dsr_requests",
]


@pytest.mark.parametrize("table", PUBLIC_TABLES)
def test_anon_is_refused_every_public_table(db: psycopg.Connection, world: World, table: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, None) as conn:
        conn.execute(f"select count(*) from public.{table}")  # noqa: S608 (fixed list of names)


def test_anon_lists_no_storage_object(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, None) as conn:
        assert ids(conn, "select id from storage.objects") == set()


def test_user_without_profile_sees_nothing(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.stranger)) as conn:
        for table in PUBLIC_TABLES:
            assert ids(conn, f"select 1 from public.{table}") == set(), table  # noqa: S608
        assert ids(conn, "select id from storage.objects") == set()


def test_client_cannot_read_other_org_ticket_by_id(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        assert ids(conn, "select id from public.tickets where id = %s", (world.ticket_b1,)) == set()
        assert ids(conn, "select id from public.organizations") == {world.org_a}


def test_member_of_unshared_org_sees_only_own_tickets(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        assert ids(conn, "select id from public.tickets") == {world.ticket_a1}


def test_member_of_shared_org_sees_colleagues_tickets(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_b2)) as conn:
        assert ids(conn, "select id from public.tickets") == {world.ticket_b1}


def test_client_admin_sees_every_ticket_of_the_organization(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.admin_a)) as conn:
        assert ids(conn, "select id from public.tickets") == {world.ticket_a1, world.ticket_a2}


def test_client_never_sees_internal_notes_or_their_files(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        assert ids(conn, "select id from public.ticket_messages") == {world.public_message_a1}
        assert ids(conn, "select id from public.attachments") == {world.attachment_a1}
        names = ids(conn, "select name from storage.objects")
        assert names == {f"{world.org_a}/{world.ticket_a1}/{world.attachment_a1}"}


def test_member_reads_only_their_own_profile_row(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        assert ids(conn, "select id from public.profiles") == {world.member_a1}


def test_client_admin_reads_their_members_but_no_staff_or_other_org(
    db: psycopg.Connection, world: World
) -> None:
    with impersonate(db, jwt_claims(world.admin_a)) as conn:
        assert ids(conn, "select id from public.profiles") == {
            world.member_a1,
            world.member_a2,
            world.admin_a,
        }


@pytest.mark.parametrize("who", ["agent_a", "admin"])
def test_staff_at_aal1_sees_nothing(db: psycopg.Connection, world: World, who: str) -> None:
    with impersonate(db, jwt_claims(getattr(world, who), aal="aal1")) as conn:
        for table in PUBLIC_TABLES:
            assert ids(conn, f"select 1 from public.{table}") == set(), table  # noqa: S608
        assert ids(conn, "select id from storage.objects") == set()


def test_staff_at_aal1_cannot_write(db: psycopg.Connection, world: World) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        impersonate(db, jwt_claims(world.admin, aal="aal1")) as conn,
    ):
        conn.execute(
            "insert into public.tickets (organization_id, requester_id, subject, description)"
            " values (%s, %s, 's', 'd')",
            (world.org_a, world.member_a1),
        )


def test_agent_sees_assigned_organization_only_with_internal_notes(
    db: psycopg.Connection, world: World
) -> None:
    with impersonate(db, jwt_claims(world.agent_a, aal="aal2")) as conn:
        assert ids(conn, "select id from public.tickets") == {world.ticket_a1, world.ticket_a2}
        assert ids(conn, "select id from public.ticket_messages") == {
            world.public_message_a1,
            world.internal_note_a1,
        }
        assert ids(conn, "select id from public.organizations") == {world.org_a}
        assert world.member_b1 not in ids(conn, "select id from public.profiles")
        assert len(ids(conn, "select id from storage.objects")) == 2


def test_admin_with_mfa_sees_everything(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.admin, aal="aal2")) as conn:
        assert ids(conn, "select id from public.tickets") == {
            world.ticket_a1,
            world.ticket_a2,
            world.ticket_b1,
        }
        assert len(ids(conn, "select id from storage.objects")) == 3


def test_client_creates_ticket_and_reads_it_back(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        row = conn.execute(
            "insert into public.tickets (organization_id, requester_id, subject, description, priority)"
            " values (%s, %s, 'VPN', 'Down', 'high') returning status, assignee_id",
            (world.org_a, world.member_a1),
        ).fetchone()
    assert row == ("new", None)


@pytest.mark.parametrize("target", ["other_org", "other_requester"])
def test_client_cannot_create_ticket_outside_own_org_or_for_someone_else(
    db: psycopg.Connection, world: World, target: str
) -> None:
    org, requester = (
        (world.org_b, world.member_a1) if target == "other_org" else (world.org_a, world.member_a2)
    )
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute(
            "insert into public.tickets (organization_id, requester_id, subject, description) values (%s, %s, 's', 'd')",
            (org, requester),
        )


def test_client_can_resolve_but_not_reprioritise_a_ticket(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        row = conn.execute(
            "update public.tickets set status = 'resolved' where id = %s returning resolved_at is not null",
            (world.ticket_a1,),
        ).fetchone()
        assert row == (True,)
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute("update public.tickets set priority = 'urgent' where id = %s", (world.ticket_a1,))
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute("update public.tickets set archived_at = now() where id = %s", (world.ticket_a1,))


def test_client_update_of_invisible_ticket_changes_nothing(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        cur = conn.execute("update public.tickets set status = 'resolved' where id = %s", (world.ticket_b1,))
        assert cur.rowcount == 0
    assert db.execute("select status from public.tickets where id = %s", (world.ticket_b1,)).fetchone() == (
        "new",
    )


def test_client_cannot_write_an_internal_note(db: psycopg.Connection, world: World) -> None:
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute(
            "insert into public.ticket_messages (ticket_id, body, internal) values (%s, 'psst', true)",
            (world.ticket_a1,),
        )


def test_agent_replies_and_stamps_first_response(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.agent_a, aal="aal2")) as conn:
        conn.execute(
            "insert into public.ticket_messages (ticket_id, body) values (%s, 'On it')", (world.ticket_a2,)
        )
        row = conn.execute(
            "select first_response_at is not null from public.tickets where id = %s", (world.ticket_a2,)
        ).fetchone()
        assert row == (True,)


def test_client_cannot_make_themselves_admin(db: psycopg.Connection, world: World) -> None:
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute("update public.profiles set role = 'admin' where id = %s", (world.member_a1,))
    assert db.execute("select role from public.profiles where id = %s", (world.member_a1,)).fetchone() == (
        "client_member",
    )


def test_client_updates_own_name_and_preferences(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        cur = conn.execute(
            "update public.profiles set first_name = 'Anne', language = 'nl', theme = 'dark' where id = %s",
            (world.member_a1,),
        )
        assert cur.rowcount == 1


def test_member_cannot_edit_a_colleague(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        cur = conn.execute("update public.profiles set first_name = 'X' where id = %s", (world.member_a2,))
        assert cur.rowcount == 0


def test_client_admin_promotes_a_member_to_client_admin(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.admin_a)) as conn:
        cur = conn.execute(
            "update public.profiles set role = 'client_admin' where id = %s", (world.member_a2,)
        )
        assert cur.rowcount == 1


PROFILE_ESCALATIONS = {
    "staff_role_agent": "update public.profiles set role = 'agent' where id = %(member)s",
    "staff_role_admin": "update public.profiles set role = 'admin' where id = %(member)s",
    "other_organization": "update public.profiles set organization_id = %(org_b)s where id = %(member)s",
    "email": "update public.profiles set email = 'evil@example.com' where id = %(member)s",
}


@pytest.mark.parametrize("escalation", sorted(PROFILE_ESCALATIONS))
def test_client_admin_cannot_grant_staff_role_move_a_member_or_change_email(
    db: psycopg.Connection, world: World, escalation: str
) -> None:
    params = {"member": world.member_a2, "org_b": world.org_b}
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.admin_a)) as conn:
        conn.execute(PROFILE_ESCALATIONS[escalation], params)


def test_messages_cannot_be_changed_or_deleted_through_the_api(db: psycopg.Connection, world: World) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        impersonate(db, jwt_claims(world.admin, aal="aal2")) as conn,
    ):
        conn.execute(
            "update public.ticket_messages set body = 'edited' where id = %s", (world.public_message_a1,)
        )
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute("delete from public.ticket_messages where id = %s", (world.public_message_a1,))


def test_client_reads_only_own_audit_entries_and_cannot_write_any(
    db: psycopg.Connection, world: World
) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute("update public.profiles set first_name = 'Anne' where id = %s", (world.member_a1,))
        actors = {row[0] for row in conn.execute("select actor_id from public.audit_log")}
        assert actors == {world.member_a1}
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute("insert into public.audit_log (action, object_table) values ('read', 'tickets')")


def test_client_cannot_upload_into_another_organizations_prefix(db: psycopg.Connection, world: World) -> None:
    with pytest.raises(errors.InsufficientPrivilege), impersonate(db, jwt_claims(world.member_a1)) as conn:
        conn.execute(
            "insert into storage.objects (bucket_id, name) values ('attachments', %s)",
            (f"{world.org_b}/{world.ticket_b1}/{uuid.uuid4()}",),
        )


def test_client_uploads_the_file_of_their_own_attachment(db: psycopg.Connection, world: World) -> None:
    with impersonate(db, jwt_claims(world.member_a1)) as conn:
        path = conn.execute(
            "insert into public.attachments (ticket_id, organization_id, file_name, content_type, size_bytes, sha256)"
            " values (%s, %s, 'a.pdf', 'application/pdf', 5, repeat('b', 64)) returning storage_path",
            (world.ticket_a1, world.org_a),
        ).fetchone()
        assert path is not None
        conn.execute("insert into storage.objects (bucket_id, name) values ('attachments', %s)", (path[0],))
