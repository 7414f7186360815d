"""The caller's own data-subject rights (GDPR Art. 15-21), through the argument-free definer functions of
db/schema/0210: they act for auth.uid() only, so nothing here can name another person."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection

from app.queries.rows import one

# Rights a person files for an admin to handle (access and portability are the export, answered at once).
REQUEST_TYPES = ("rectification", "erasure", "restriction", "objection")


def my_requests(conn: Connection[Any]) -> list[dict[str, Any]]:
    """The caller's requests, newest first (the dsr_requests policy shows a person their own rows)."""
    return conn.execute(
        """select r.id, r.type, r.status, r.received_at, r.due_at, r.completed_at
           from public.dsr_requests as r
           where r.subject_id = (select auth.uid())
           order by r.received_at desc, r.id"""
    ).fetchall()


def export(conn: Connection[Any]) -> dict[str, Any]:
    """Art. 15/20: the caller's data as private.dsr_export builds it (audited and journalled there)."""
    row = conn.execute("select private.my_dsr_export() as export").fetchone()
    return row["export"] if row else {}


def request(conn: Connection[Any], request_type: str, details: str) -> uuid.UUID:
    """File a request about oneself; the database computes its due dates. Raises UniqueViolation when one of
    the same type is still open."""
    return one(
        conn.execute("select private.request_my_dsr(%s, %s) as id", (request_type, details)).fetchone()
    )["id"]
