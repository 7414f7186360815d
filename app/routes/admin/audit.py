"""The audit log with filters (actor, action, table, date range), newest first, 50 a page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from app.i18n import N_
from app.queries import admin_audit as q
from app.routes.admin.common import admin_transaction, parse_date
from app.web import render

router = APIRouter()


@router.get("/admin/audit")
def audit_log(
    request: Request,
    actor: Annotated[str, Query(max_length=254)] = "",
    action: Annotated[str, Query(max_length=10)] = "",
    table: Annotated[str, Query(max_length=63)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    if action and action not in q.ACTIONS:
        raise HTTPException(422, N_("Action: choose an action from the list."))
    f = q.AuditFilter(
        actor.strip(), action, table.strip(), parse_date(since, "since"), parse_date(until, "until"), page
    )
    with admin_transaction(request, read_only=True) as (conn, viewer):
        rows, has_next = q.entries(conn, f)
        tables = q.tables(conn)
    params = {"actor": f.actor, "action": f.action, "table": f.table, "since": since, "until": until}

    def page_link(number: int) -> str:
        return "/admin/audit?" + urlencode({**{k: v for k, v in params.items() if v}, "page": number})

    context = {
        "viewer": viewer,
        "entries": rows,
        "has_next": has_next,
        "filter": f,
        "params": params,
        "actions": q.ACTIONS,
        "tables": tables,
        "page_link": page_link,
    }
    return render(request, "admin/audit.html", context)
