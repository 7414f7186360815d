"""Access logging for reads. Writes are logged by the database's audit triggers; reads (ticket views,
downloads) and sign-ins are logged here through `private.record_read`, which records the caller, the IP and
the user agent of the current request (from `request.headers`) and nothing the caller could forge beyond that.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection

# Until a dedicated `private.record_sign_in()` exists, a sign-in is logged as a read of the session.
SIGN_IN_TABLE = "auth_sessions"


def record_read(conn: Connection[Any], table: str, object_id: uuid.UUID | str | None) -> None:
    conn.execute("select private.record_read(%s, %s)", (table, object_id))


def record_sign_in(conn: Connection[Any], session_id: str) -> None:
    record_read(conn, SIGN_IN_TABLE, session_id)
