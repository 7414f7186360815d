"""Ticket and message queries. Each takes the request's RLS-scoped connection: the policies decide which
rows exist for the caller, so nothing here filters by organization or role for security (only for intent,
such as "my queue"). A ticket the caller may not see is simply not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import Connection, sql

from app.domain.ticket_refs import reference_range
from app.queries.rows import one

STATUSES = ("new", "open", "pending", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
OPEN_STATUSES = ("new", "open", "pending")
PAGE_SIZE = 25
# Messages of one ticket per API page: the default, and the most a caller may ask for (the schema's maxItems).
MESSAGE_PAGE_DEFAULT = 100
MESSAGE_PAGE_MAX = 500

Sort = Literal["updated", "created", "priority"]
_ORDER = {
    "updated": sql.SQL("t.updated_at desc, t.id desc"),
    "created": sql.SQL("t.created_at desc, t.id desc"),
    "priority": sql.SQL(
        "array_position(array['urgent','high','normal','low']::text[], t.priority), t.created_at desc, t.id desc"
    ),
}


@dataclass(frozen=True)
class TicketFilter:
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    search: str = ""
    sort: Sort = "updated"
    page: int = 1
    organization_id: uuid.UUID | None = None
    assigned_to_me: bool = False


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The caller's own slice, restated as a plain predicate. RLS alone would be enough for correctness (and stays
# the gate), but its OR of identity branches hides the organization from the planner, which then scans the
# whole table; with the predicate it uses the organization index. `role` is the caller's app role.
_SCOPE = {
    "client_member": sql.SQL("t.organization_id = (select private.current_org_id())"),
    "client_admin": sql.SQL("t.organization_id = (select private.current_org_id())"),
    "agent": sql.SQL("t.organization_id = any((select private.agent_org_ids()))"),
}


def list_tickets(
    conn: Connection[Any], f: TicketFilter, role: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """One page of the tickets the caller can see, and whether a next page exists."""
    query, params = list_statement(f, role)
    rows = conn.execute(query, params).fetchall()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def list_statement(f: TicketFilter, role: str | None = None) -> tuple[sql.Composed, list[Any]]:
    """The list query and its parameters (bench/portal_wrk.py explains the same statement)."""
    where: list[sql.Composable] = [_SCOPE.get(role or "", sql.SQL("true"))]
    params: list[Any] = []
    if f.statuses:
        where.append(sql.SQL("t.status = any(%s)"))
        params.append(list(f.statuses))
    if f.priorities:
        where.append(sql.SQL("t.priority = any(%s)"))
        params.append(list(f.priorities))
    if f.search:
        # A reference (NX-1A2B...) finds its ticket; the subject is searched either way.
        ref = reference_range(f.search)
        if ref is None:
            where.append(sql.SQL("t.subject ilike %s"))
            params.append(_like(f.search))
        else:
            where.append(sql.SQL("(t.subject ilike %s or t.id between %s and %s)"))
            params += [_like(f.search), *ref]
    if f.organization_id is not None:
        where.append(sql.SQL("t.organization_id = %s"))
        params.append(f.organization_id)
    if f.assigned_to_me:
        where.append(sql.SQL("t.assignee_id = (select auth.uid())"))
    # The page is cut first, then its people are named by private.display_names() (a client member reads no
    # colleague's profile row, db/policies/profiles.sql), called once with the page's ids: one statement.
    query = sql.SQL(
        """with t as (
               select t.id, t.subject, t.status, t.priority, t.created_at, t.updated_at, t.organization_id,
                      t.requester_id, t.assignee_id
               from public.tickets as t
               where {where}
               order by {order}
               limit %s offset %s
           ),
           people as (
               select n.id, n.name
               from private.display_names(
                   array(select t.requester_id from t union select t.assignee_id from t)
               ) as n
           )
           select t.*, r.name as requester_name, a.name as assignee_name
           from t
           left join people as r on r.id = t.requester_id
           left join people as a on a.id = t.assignee_id
           order by {order}"""
    ).format(where=sql.SQL(" and ").join(where), order=_ORDER[f.sort])
    params += [PAGE_SIZE + 1, (f.page - 1) * PAGE_SIZE]
    return query, params


def people_names(conn: Connection[Any], ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of the people among `ids` the caller may name (others stay nameless), in one call of
    private.display_names(): a client member reads no colleague's profile row, only their name."""
    if not ids:
        return {}
    rows = conn.execute(
        "select n.id, n.name from private.display_names(%s::uuid[]) as n", (list(ids),)
    ).fetchall()
    return {r["id"]: r["name"] for r in rows}


def organization_names(conn: Connection[Any], ids: set[uuid.UUID] | None = None) -> dict[uuid.UUID, str]:
    if ids is not None and not ids:
        return {}
    if ids is None:
        rows = conn.execute("select o.id, o.name from public.organizations as o order by o.name").fetchall()
    else:
        rows = conn.execute(
            "select o.id, o.name from public.organizations as o where o.id = any(%s)", (list(ids),)
        ).fetchall()
    return {r["id"]: r["name"] for r in rows}


def get_ticket(conn: Connection[Any], ticket_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        """select t.id, t.organization_id, t.requester_id, t.assignee_id, t.subject, t.description, t.status,
                  t.priority, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, t.archived_at,
                  t.follow_up_of
           from public.tickets as t where t.id = %s""",
        (ticket_id,),
    ).fetchone()


def follow_ups(conn: Connection[Any], ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    """The visible tickets that follow up this one (tickets.follow_up_of), oldest first."""
    return conn.execute(
        """select t.id, t.subject, t.status from public.tickets as t
           where t.follow_up_of = %s order by t.created_at, t.id""",
        (ticket_id,),
    ).fetchall()


def messages(conn: Connection[Any], ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    """The thread; a client's connection never returns internal notes (RLS), so none are filtered here."""
    return conn.execute(
        """select m.id, m.author_id, m.body, m.internal, m.created_at
           from public.ticket_messages as m where m.ticket_id = %s order by m.created_at, m.id""",
        (ticket_id,),
    ).fetchall()


def message_page(
    conn: Connection[Any], ticket_id: uuid.UUID, limit: int, after: uuid.UUID | None = None
) -> tuple[list[dict[str, Any]], bool] | None:
    """Up to `limit` messages of the thread in order, those after message `after` (keyset on created_at, id),
    and whether more follow. None when `after` is not a message of this ticket the caller can see: a client
    naming an internal note gets the same answer as for an id that does not exist (RLS hides both)."""
    where = sql.SQL("m.ticket_id = %s")
    params: list[Any] = [ticket_id]
    if after is not None:
        cursor = conn.execute(
            "select m.created_at, m.id from public.ticket_messages as m where m.id = %s and m.ticket_id = %s",
            (after, ticket_id),
        ).fetchone()
        if cursor is None:
            return None
        where = sql.SQL("m.ticket_id = %s and (m.created_at, m.id) > (%s, %s)")
        params += [cursor["created_at"], cursor["id"]]
    rows = conn.execute(
        sql.SQL(
            """select m.id, m.author_id, m.body, m.internal, m.created_at
               from public.ticket_messages as m where {where} order by m.created_at, m.id limit %s"""
        ).format(where=where),
        [*params, limit + 1],
    ).fetchall()
    return rows[:limit], len(rows) > limit


def attachments(conn: Connection[Any], ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """select a.id, a.message_id, a.file_name, a.content_type, a.size_bytes, a.internal, a.created_at
           from public.attachments as a where a.ticket_id = %s order by a.created_at, a.id""",
        (ticket_id,),
    ).fetchall()


def create_ticket(
    conn: Connection[Any],
    *,
    organization_id: uuid.UUID | None,  # None (a client without organization): the database refuses it
    requester_id: uuid.UUID,
    subject: str,
    description: str,
    priority: str,
    assignee_id: uuid.UUID | None = None,
    follow_up_of: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Open a ticket; `assignee_id` only when staff open it on a client's behalf (the policy allows an agent
    only themselves); `follow_up_of` links it to a closed ticket the caller sees (the database checks it)."""
    return one(
        conn.execute(
            """insert into public.tickets
               (organization_id, requester_id, subject, description, priority, assignee_id, follow_up_of)
           values (%s, %s, %s, %s, %s, %s, %s)
           returning id, organization_id, requester_id, assignee_id, subject, description, status, priority,
                     created_at, updated_at, first_response_at, resolved_at, archived_at, follow_up_of""",
            (organization_id, requester_id, subject, description, priority, assignee_id, follow_up_of),
        ).fetchone()
    )


def add_message(conn: Connection[Any], ticket_id: uuid.UUID, body: str, internal: bool) -> dict[str, Any]:
    return one(
        conn.execute(
            """insert into public.ticket_messages (ticket_id, body, internal) values (%s, %s, %s)
           returning id, ticket_id, author_id, body, internal, created_at""",
            (ticket_id, body, internal),
        ).fetchone()
    )


def update_ticket(
    conn: Connection[Any], ticket_id: uuid.UUID, changes: dict[str, Any]
) -> dict[str, Any] | None:
    """Change status, priority and/or assignee (the only updatable columns); None when not visible."""
    allowed = {"status", "priority", "assignee_id"}
    if not changes or not set(changes) <= allowed:
        raise ValueError(f"only {sorted(allowed)} can change")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = %s").format(sql.Identifier(column)) for column in sorted(changes)
    )
    return conn.execute(
        sql.SQL(
            """update public.tickets as t set {assignments} where t.id = %s
               returning t.id, t.organization_id, t.requester_id, t.assignee_id, t.subject, t.description,
                         t.status, t.priority, t.created_at, t.updated_at, t.first_response_at, t.resolved_at,
                         t.archived_at"""
        ).format(assignments=assignments),
        [*(changes[c] for c in sorted(changes)), ticket_id],
    ).fetchone()


def assignable_staff(conn: Connection[Any]) -> list[dict[str, Any]]:
    """Agents and admins the caller can see; the database still checks the assignment on write."""
    return conn.execute(
        """select p.id, p.first_name || ' ' || p.surname as name, p.role
           from public.profiles as p
           where p.role in ('agent', 'admin') and p.deactivated_at is null
           order by p.first_name, p.surname""",
    ).fetchall()
