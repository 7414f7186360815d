"""The DSR queue for admins: the requests (read through RLS) and the actions that fulfil them.

The actions call the narrow `private.admin_dsr_*` wrappers (db/schema/0220_admin_dsr.sql): they check that the
caller is an admin at aal2 and act only on one open request of the matching type. The owner-only
private.dsr_* functions stay out of reach of `authenticated`.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from app.queries.rows import one

# Which actions fulfil which request type (the wrappers enforce the same mapping).
ACTIONS = {
    "access": ("export",),
    "portability": ("export",),
    "rectification": ("rectify",),
    "erasure": ("erase",),
    "restriction": ("restrict", "lift"),
    "objection": ("object", "restrict", "lift"),
}
RECTIFIABLE = ("first_name", "surname", "position", "email", "phone")
PURPOSES = ("security_logging", "audience_measurement", "direct_marketing")


def subprocessors() -> list[dict[str, str]]:
    """The Art. 19 subprocessor recipients from the register (compliance/subprocessors.yaml), one list only."""
    from nexk.subprocessors import art19_recipients

    return art19_recipients()


def queue(conn: Connection[Any], *, include_closed: bool = False) -> list[dict[str, Any]]:
    """Open requests, the earliest due first (closed ones after them when asked)."""
    return conn.execute(
        """select r.id, r.subject_id, r.subject_email::text as subject_email, r.type, r.status, r.received_at,
                  r.due_at, r.completed_at, r.notes, p.first_name || ' ' || p.surname as subject_name,
                  p.erased_at, p.restricted_at
           from public.dsr_requests as r
           left join public.profiles as p on r.subject_id = p.id
           where %s or r.completed_at is null
           order by r.completed_at is not null, r.due_at, r.received_at
           limit 500""",
        (include_closed,),
    ).fetchall()


def request(conn: Connection[Any], request_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        """select r.id, r.subject_id, r.subject_email::text as subject_email, r.type, r.status, r.due_at,
                  r.completed_at
           from public.dsr_requests as r where r.id = %s""",
        (request_id,),
    ).fetchone()


def record(conn: Connection[Any], email: str, request_type: str, notes: str | None) -> uuid.UUID:
    """Record a new request (the admins' INSERT policy); the database sets the due dates (0101)."""
    subject = conn.execute(
        "select p.id from public.profiles as p where p.email = %s::extensions.citext", (email,)
    ).fetchone()
    return one(
        conn.execute(
            """insert into public.dsr_requests (subject_id, subject_email, type, notes, handled_by)
           values (%s, %s, %s, %s, (select auth.uid())) returning id""",
            (subject["id"] if subject else None, email, request_type, notes or None),
        ).fetchone()
    )["id"]


def export(conn: Connection[Any], request_id: uuid.UUID) -> dict[str, Any]:
    return one(conn.execute("select private.admin_dsr_export(%s) as result", (request_id,)).fetchone())[
        "result"
    ]


def rectify(conn: Connection[Any], request_id: uuid.UUID, changes: dict[str, str | None]) -> dict[str, Any]:
    return one(
        conn.execute(
            "select private.admin_dsr_rectify(%s, %s) as result", (request_id, Jsonb(changes))
        ).fetchone()
    )["result"]


def erase(conn: Connection[Any], request_id: uuid.UUID) -> dict[str, Any]:
    return one(
        conn.execute(
            "select private.admin_dsr_erase(%s, %s) as result", (request_id, Jsonb(subprocessors()))
        ).fetchone()
    )["result"]


def restrict(conn: Connection[Any], request_id: uuid.UUID, restricted: bool) -> dict[str, Any]:
    return one(
        conn.execute(
            "select private.admin_dsr_restrict(%s, %s, %s) as result",
            (request_id, restricted, Jsonb(subprocessors())),
        ).fetchone()
    )["result"]


def object_to(conn: Connection[Any], request_id: uuid.UUID, purpose: str, reason: str | None) -> str:
    return one(
        conn.execute(
            "select private.admin_dsr_object(%s, %s, %s) as result", (request_id, purpose, reason)
        ).fetchone()
    )["result"]


def complete(conn: Connection[Any], request_id: uuid.UUID, status: str) -> dict[str, Any]:
    return one(
        conn.execute(
            "select private.admin_dsr_complete(%s, %s, %s) as result",
            (request_id, status, Jsonb(subprocessors())),
        ).fetchone()
    )["result"]
