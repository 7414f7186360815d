"""Access logging for reads and sign-ins. Writes are logged by the database's audit triggers; reads (ticket
views, downloads) are logged here through `private.record_read` and sign-ins through `private.record_sign_in`
(db/schema/0210), which record the caller, the IP and the user agent of the current request (from
`request.headers`) and nothing the caller could forge beyond that.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import Connection


def record_read(conn: Connection[Any], table: str, object_id: uuid.UUID | str | None) -> None:
    conn.execute("select private.record_read(%s, %s)", (table, object_id))


def record_sign_in(conn: Connection[Any]) -> None:
    """An audit entry with action 'sign_in' for the caller's session (the session id comes from the JWT)."""
    conn.execute("select private.record_sign_in()")
