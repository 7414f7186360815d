"""Attachment rows. The row is written first (RLS decides whether the caller may attach to that ticket);
the storage layer then writes the bytes under the row's generated `storage_path`."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection

from app.queries.rows import one


def insert_attachment(
    conn: Connection[Any],
    *,
    ticket_id: uuid.UUID,
    organization_id: uuid.UUID,
    message_id: uuid.UUID | None,
    internal: bool,
    file_name: str,
    content_type: str,
    size_bytes: int,
    sha256: str,
) -> dict[str, Any]:
    return one(
        conn.execute(
            """insert into public.attachments
               (ticket_id, organization_id, message_id, internal, file_name, content_type, size_bytes, sha256)
           values (%s, %s, %s, %s, %s, %s, %s, %s)
           returning id, storage_path, file_name, content_type, size_bytes, sha256""",
            (ticket_id, organization_id, message_id, internal, file_name, content_type, size_bytes, sha256),
        ).fetchone()
    )


def get_attachment(conn: Connection[Any], attachment_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        """select a.id, a.ticket_id, a.file_name, a.content_type, a.size_bytes, a.sha256, a.storage_path
           from public.attachments as a where a.id = %s""",
        (attachment_id,),
    ).fetchone()
