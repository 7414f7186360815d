"""Tickets opened by NexK staff on a client's behalf (a phone call): whom they may open one for.

The tickets INSERT policy decides (db/policies/README.md §3: an agent, for an active person of an organization
assigned to them; an admin, anyone); these queries only offer the choice. The profiles an agent can read are
already those of their assigned organizations (and staff), so nothing here filters for security.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection

_REQUESTERS = """
    select p.id, p.first_name || ' ' || p.surname as name, p.email::text as email, p.role,
           o.id as organization_id, o.name as organization_name
    from public.profiles as p
    inner join public.organizations as o on p.organization_id = o.id
    where p.role in ('client_member', 'client_admin') and p.deactivated_at is null and p.erased_at is null
"""


def requesters(conn: Connection[Any]) -> list[dict[str, Any]]:
    """The active client people the caller may open a ticket for, by organization then name."""
    return conn.execute(_REQUESTERS + " order by o.name, p.surname, p.first_name").fetchall()


def requester(conn: Connection[Any], person_id: uuid.UUID) -> dict[str, Any] | None:
    """One of `requesters()`, or None."""
    return conn.execute(_REQUESTERS + " and p.id = %s", (person_id,)).fetchone()
