"""What every admin screen shares: the admin-only RLS transaction and small form parsers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from typing import Any

from fastapi import HTTPException, Request
from psycopg import Connection

from app import i18n
from app.form_errors import FIELD_LABELS, refuse
from app.i18n import N_
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
        return uuid.UUID(value.strip())
    except ValueError:
        raise refuse(field, N_("{field}: choose a value from the list."), field=_label(field)) from None


def parse_date(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise refuse(field, N_("{field}: write a date as YYYY-MM-DD."), field=_label(field)) from None


def parse_time(value: str, field: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise refuse(field, N_("{field}: write a time as HH:MM."), field=_label(field)) from None


def parse_minutes(value: str, field: str) -> int:
    """A whole number of business minutes, 1 to 525,600 (a year): the SLA targets' range."""
    try:
        minutes = int(value.strip())
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 525600:
        raise refuse(
            field,
            N_("{field}: write a whole number of business minutes from 1 to 525,600."),
            field=_label(field),
        )
    return minutes


def _label(field: str) -> str:
    """A form field's name as people read it, in the viewer's language."""
    return i18n.gettext(FIELD_LABELS.get(field, field))
