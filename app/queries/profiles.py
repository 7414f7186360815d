"""The caller's own profile: who they are (for navigation and authorization hints) and what they may edit."""

from __future__ import annotations

from typing import Any

from psycopg import Connection

# The columns a person may change on their own row (db/policies/README.md §4).
EDITABLE = ("first_name", "surname", "position", "phone", "language", "theme")
NOTIFY = ("notify_ticket_replies", "notify_status_changes", "notify_sla_alerts")


def me(conn: Connection[Any]) -> dict[str, Any]:
    """The caller's role (answered by a definer helper even for staff at aal1) and, when visible, profile."""
    row = conn.execute(
        """select (select private.current_app_role()) as app_role, p.id, p.organization_id, p.first_name,
                  p.surname, p.position, p.email::text as email, p.phone, p.language, p.theme,
                  p.notify_ticket_replies, p.notify_status_changes, p.notify_sla_alerts,
                  o.name as organization_name
           from (select 1) as one
           left join public.profiles as p on p.id = (select auth.uid())
           left join public.organizations as o on o.id = p.organization_id"""
    ).fetchone()
    return row or {"app_role": None}


def update_me(conn: Connection[Any], changes: dict[str, Any]) -> dict[str, Any] | None:
    columns = [c for c in (*EDITABLE, *NOTIFY) if c in changes]
    if not columns:
        return None
    assignments = ", ".join(f"{c} = %s" for c in columns)  # names come from the fixed tuples above
    return conn.execute(
        f"update public.profiles as p set {assignments} where p.id = (select auth.uid()) returning p.id",  # noqa: S608
        [changes[c] for c in columns],
    ).fetchone()
