"""A client admin's own company (the "My company" page): its members, their invitations, roles and access,
and whether members share tickets. Everything runs in the client admin's RLS transaction; the profiles and
invitations policies limit them to their own organization (db/policies/README.md §3), and the two things
those rules do not cover go through narrow definer functions (db/schema/0343)."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection


def organization(conn: Connection[Any]) -> dict[str, Any] | None:
    """The caller's own organization (the only one a client reads)."""
    return conn.execute(
        """select o.id, o.name, o.shared_tickets from public.organizations as o
           where o.id = (select private.current_org_id())"""
    ).fetchone()


def acceptance(conn: Connection[Any], person_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """{person id: {accepted, link_sent_at}} for members of the caller's organization, in one query."""
    if not person_ids:
        return {}
    rows = conn.execute(
        "select s.id, s.accepted, s.link_sent_at from private.my_organization_invitation_status(%s::uuid[]) as s",
        (person_ids,),
    ).fetchall()
    return {r["id"]: r for r in rows}


def set_sharing(conn: Connection[Any], shared: bool) -> None:
    conn.execute("select private.set_my_organization_sharing(%s)", (shared,))


def member(conn: Connection[Any], person_id: uuid.UUID) -> dict[str, Any] | None:
    """A colleague the caller manages (same organization, not erased), or None."""
    return conn.execute(
        """select p.id, p.first_name, p.surname, p.email::text as email, p.role, p.deactivated_at
           from public.profiles as p
           where p.id = %s and p.erased_at is null and p.organization_id = (select private.current_org_id())""",
        (person_id,),
    ).fetchone()


def set_role(conn: Connection[Any], person_id: uuid.UUID, role: str) -> bool:
    """Make a colleague a member or an admin (the profiles policy and guard keep it to client roles)."""
    row = conn.execute(
        "update public.profiles as p set role = %s where p.id = %s returning p.id", (role, person_id)
    ).fetchone()
    return row is not None
