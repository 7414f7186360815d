"""Invitations (private.invitations, db/schema/0280): recorded in the inviter's RLS transaction, consumed by the
database when the invited account is created. The policies (db/policies/invitations.sql) let admins invite
anyone and client admins their own organization's people; everyone else gets nothing here."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from psycopg import Connection

from app.queries.rows import one


def nonce_hash(nonce: str) -> str:
    """What the database stores and the before-user-created hook compares (private.invitation_nonce_hash)."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def add_invitation(
    conn: Connection[Any],
    *,
    email: str,
    organization_id: uuid.UUID | None,
    role: str,
    first_name: str,
    surname: str,
    nonce: str,
) -> uuid.UUID:
    """Record an invitation; its id. Raises 42501 when the caller may not invite that person, 23505 when the
    address has an account (constraint invitations_email_has_account) or a pending invitation
    (invitations_email_key)."""
    return one(
        conn.execute(
            """insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)
           values (%s, %s, %s, %s, %s, %s) returning id""",
            (email, organization_id, role, first_name, surname, nonce_hash(nonce)),
        ).fetchone()
    )["id"]


def pending_invitation(conn: Connection[Any], email: str) -> dict[str, Any] | None:
    """The pending invitation of an address, if the caller may see it."""
    return conn.execute(
        "select i.id, i.created_at, i.expires_at from private.invitations as i where i.email = lower(%s)",
        (email.strip(),),
    ).fetchone()


def invitation_exists(conn: Connection[Any], invitation_id: uuid.UUID) -> bool:
    """False once the account was created from it (the auth.users trigger deletes it) or it was cancelled."""
    row = conn.execute("select 1 from private.invitations as i where i.id = %s", (invitation_id,)).fetchone()
    return row is not None


def cancel_invitation(conn: Connection[Any], invitation_id: uuid.UUID) -> bool:
    return (
        conn.execute(
            "delete from private.invitations as i where i.id = %s returning i.id", (invitation_id,)
        ).fetchone()
        is not None
    )


def invitations(conn: Connection[Any], org_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """Pending invitations of an organization, or of NexK staff when org_id is None (expired ones included,
    until the retention purge deletes them)."""
    return conn.execute(
        """select i.id, i.email, i.first_name, i.surname, i.role, i.created_at, i.expires_at,
                  i.expires_at <= now() as expired
           from private.invitations as i
           where i.organization_id = %s or (%s::uuid is null and i.organization_id is null)
           order by i.created_at desc""",
        (org_id, org_id),
    ).fetchall()


def has_profile(conn: Connection[Any], email: str) -> bool:
    """Whether a profile with this address is visible to the caller (an admin sees every profile)."""
    row = conn.execute(
        "select 1 from public.profiles as p where lower(p.email::text) = lower(%s)", (email.strip(),)
    ).fetchone()
    return row is not None


# After the account exists (db/schema/0320): the admin's transaction cannot read auth.users, so whether a person
# accepted (used the e-mailed link, which confirms the address) comes from admin-only definer wrappers.


def acceptance(conn: Connection[Any], person_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """{person id: {accepted, link_sent_at}} for the given people, in one query (admins at aal2 only)."""
    if not person_ids:
        return {}
    rows = conn.execute(
        """select s.id, s.accepted, s.link_sent_at
           from private.admin_invitation_status(%s::uuid[]) as s""",
        (person_ids,),
    ).fetchall()
    return {r["id"]: r for r in rows}


def invitee(conn: Connection[Any], person_id: uuid.UUID) -> dict[str, Any] | None:
    """The person an invitation would be sent again to, if the caller sees them (erased people are not)."""
    return conn.execute(
        """select p.id, p.email::text as email, p.deactivated_at
           from public.profiles as p where p.id = %s and p.erased_at is null""",
        (person_id,),
    ).fetchone()


def record_resend(conn: Connection[Any], person_id: uuid.UUID) -> str:
    """Audit the resend of a pending person's invitation; the account's address. Raises 55000
    (ObjectNotInPrerequisiteState) when the person has already accepted, P0002 when there is no such person."""
    row = one(conn.execute("select private.admin_resend_invitation(%s) as email", (person_id,)).fetchone())
    return str(row["email"])
