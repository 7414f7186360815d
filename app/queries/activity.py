"""A ticket's activity timeline and who its people are, for the thread page.

The events come from the access log through `private.ticket_activity(ticket)` (db/schema/0342): the database
answers only about a ticket the caller sees, never a client the file of an internal note, and never the IP
or user agent of the log. Which of the page's people are NexK staff comes from `private.staff_among(ids)`
(db/schema/0341), which answers only about people the caller may name.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection


def ticket_activity(conn: Connection[Any], ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    """Oldest first: {at, actor_id, kind ('opened' | 'changed' | 'attachment'), changes, file_name}."""
    events = conn.execute(
        """select a.at, a.actor_id, a.kind, a.changes, a.attachment_id, a.file_name
           from private.ticket_activity(%s) as a""",
        (ticket_id,),
    ).fetchall()
    for e in events:
        e["changes"] = e["changes"] or {}
        assignee = e["changes"].get("assignee_id")
        e["changes"]["assignee_uuid"] = uuid.UUID(assignee) if assignee else None
    return events


def staff_among(conn: Connection[Any], ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `ids` that are NexK staff the caller may name (one call per page)."""
    if not ids:
        return set()
    rows = conn.execute("select s as id from private.staff_among(%s::uuid[]) as s", (list(ids),)).fetchall()
    return {r["id"] for r in rows}


def people_of(events: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Everyone an activity list mentions: the actors and the assignees it names."""
    ids: set[uuid.UUID] = {e["actor_id"] for e in events if e["actor_id"]}
    return ids | {e["changes"]["assignee_uuid"] for e in events if e["changes"].get("assignee_uuid")}
