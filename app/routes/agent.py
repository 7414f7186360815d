"""Agent screens: the queue of the assigned organizations' tickets, and the staff-only ticket actions.

Which tickets an agent sees is the tickets policy (assigned organizations); the filters here only narrow.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.queries import tickets as q
from app.routes.tickets import NOT_FOUND, Priority, SortKey, Status, list_context
from app.web import is_htmx, render, viewer_transaction

router = APIRouter()

STAFF_ONLY = "Only NexK agents and administrators can do this."


@router.get("/agent/queue")
def queue(
    request: Request,
    status: Annotated[list[Status] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    q_: Annotated[str, Query(alias="q", max_length=200)] = "",
    organization: uuid.UUID | None = None,
    mine: bool = False,
    sort: SortKey = "priority",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    statuses = tuple(status) if status else q.OPEN_STATUSES
    f = q.TicketFilter(statuses, tuple(priority or ()), q_.strip(), sort, page, organization, mine)
    with viewer_transaction(request, read_only=True) as (conn, viewer):
        if not viewer.is_staff:
            raise HTTPException(403, STAFF_ONLY)
        context = list_context(conn, f, viewer.role, with_orgs=True)
        context["all_orgs"] = q.organization_names(conn)
    template = "tickets/_rows.html" if is_htmx(request) else "agent/queue.html"
    return render(request, template, {"viewer": viewer, "base_path": "/agent/queue", **context})


@router.post("/tickets/{ticket_id}/assign")
def assign(
    request: Request, ticket_id: uuid.UUID, assignee_id: Annotated[str, Form(max_length=36)] = ""
) -> Response:
    try:
        assignee = uuid.UUID(assignee_id) if assignee_id else None
    except ValueError:
        raise HTTPException(422, "Choose the assignee from the list.") from None
    with viewer_transaction(request) as (conn, viewer):
        if not viewer.is_staff:
            raise HTTPException(403, STAFF_ONLY)
        if q.update_ticket(conn, ticket_id, {"assignee_id": assignee}) is None:
            raise HTTPException(404, NOT_FOUND)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/priority")
def change_priority(
    request: Request, ticket_id: uuid.UUID, priority: Annotated[Priority, Form()]
) -> Response:
    with viewer_transaction(request) as (conn, viewer):
        if not viewer.is_staff:
            raise HTTPException(403, STAFF_ONLY)
        if q.update_ticket(conn, ticket_id, {"priority": priority}) is None:
            raise HTTPException(404, NOT_FOUND)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
