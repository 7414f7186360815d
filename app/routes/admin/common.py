"""What every admin screen shares: the admin-only RLS transaction and small form parsers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from typing import Any

from fastapi import HTTPException, Request
from psycopg import Connection

from app.web import Viewer, templates, viewer_transaction

ADMINS_ONLY = "Only NexK administrators can open the administration."

# Until the i18n work installs gettext in the template environment, `_()` renders the English source.
templates.env.globals.setdefault("_", lambda text, **values: text % values if values else text)


@contextmanager
def admin_transaction(
    request: Request, *, read_only: bool = False
) -> Iterator[tuple[Connection[Any], Viewer]]:
    """The request's RLS transaction, for admins only (staff at aal1 are sent to the TOTP step first)."""
    with viewer_transaction(request, read_only=read_only) as (conn, viewer):
        if viewer.role != "admin":
            raise HTTPException(403, ADMINS_ONLY)
        yield conn, viewer


def back_to(back: str, default: str = "/admin/staff") -> str:
    """Where a form posted from an admin page returns: that page, if it is one (same-site admin pages only,
    so the `back` field cannot turn the redirect into an open one), else `default`."""
    return back if back.startswith("/admin/") else default


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HTTPException(422, f"{field}: choose a value from the list.") from None


def parse_date(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(422, f"{field}: write a date as YYYY-MM-DD.") from None


def parse_time(value: str, field: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(422, f"{field}: write a time as HH:MM.") from None
