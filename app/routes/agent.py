"""Agent screens: the queue of the assigned organizations' tickets, and the staff-only ticket actions.

Which tickets an agent sees is the tickets policy (assigned organizations); the filters here only narrow.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app import flash
from app.domain.sla import PRIORITY_RANK, SlaState
from app.i18n import N_
from app.queries import tickets as q
from app.routes.tickets import NOT_FOUND, Priority, Status, list_context, sla_of
from app.web import is_htmx, render, viewer_transaction

router = APIRouter()

STAFF_ONLY = N_("Only NexK agents and administrators can do this.")
QueueSort = Literal["urgency", "updated", "created", "priority"]
# Urgency is computed in Python (app/domain), so the whole filtered queue is read to sort it; past this many
# tickets the queue falls back to priority order rather than read without bound.
URGENCY_LIMIT = 1000
NO_CLOCK_RANK = len(SlaState)


def urgency_context(conn: Any, f: q.TicketFilter, role: str) -> dict[str, Any]:
    """The queue page in SLA urgency order (breached, warning, earliest due, priority), in this transaction."""
    rows: list[dict[str, Any]] = []
    page, has_next = 1, True
    while has_next and len(rows) < URGENCY_LIMIT:
        batch, has_next = q.list_tickets(conn, dataclasses.replace(f, sort="priority", page=page), role)
        rows += batch
        page += 1
    slas = sla_of(conn, (r["id"] for r in rows))

    def key(row: dict[str, Any]) -> tuple[int, float, int, float]:
        sla = slas.get(row["id"])
        # A ticket whose plan has no target for its priority has no clock: after every clocked one.
        return (
            sla.urgency if sla else (NO_CLOCK_RANK, math.inf, PRIORITY_RANK.get(row["priority"], 9), math.inf)
        )

    rows.sort(key=key)
    start = (f.page - 1) * q.PAGE_SIZE
    page_rows = rows[start : start + q.PAGE_SIZE]
    for row in page_rows:
        row["sla"] = slas[row["id"]].report if row["id"] in slas else None
    orgs = q.organization_names(conn, {r["organization_id"] for r in page_rows})
    return {
        "tickets": page_rows,
        "has_next": len(rows) > start + q.PAGE_SIZE,
        "filter": f,
        "orgs": orgs,
        "statuses": q.STATUSES,
        "priorities": q.PRIORITIES,
    }


@router.get("/agent/queue")
def queue(
    request: Request,
    status: Annotated[list[Status] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    q_: Annotated[str, Query(alias="q", max_length=200)] = "",
    organization: Annotated[str, Query(max_length=36)] = "",
    mine: bool = False,
    sort: QueueSort = "urgency",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    statuses = tuple(status) if status else q.OPEN_STATUSES
    # The form's first choice, "All assigned", sends `organization=` (empty): that means every organization.
    try:
        organization_id = uuid.UUID(organization) if organization.strip() else None
    except ValueError:
        raise HTTPException(422, N_("Organization: choose an organization from the list.")) from None
    f = q.TicketFilter(statuses, tuple(priority or ()), q_.strip(), sort, page, organization_id, mine)  # type: ignore[arg-type]
    with viewer_transaction(request, read_only=True) as (conn, viewer):
        if not viewer.is_staff:
            raise HTTPException(403, STAFF_ONLY)
        if sort == "urgency":
            context = urgency_context(conn, f, viewer.role)
        else:
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
        raise HTTPException(422, N_("Choose the assignee from the list.")) from None
    with viewer_transaction(request) as (conn, viewer):
        if not viewer.is_staff:
            raise HTTPException(403, STAFF_ONLY)
        if q.update_ticket(conn, ticket_id, {"assignee_id": assignee}) is None:
            raise HTTPException(404, NOT_FOUND)
    response = RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    flash.confirm(request, response, "assignee_changed")
    return response


@router.post("/tickets/{ticket_id}/priority")
def change_priority(
    request: Request, ticket_id: uuid.UUID, priority: Annotated[Priority, Form()]
) -> Response:
    with viewer_transaction(request) as (conn, viewer):
        if not viewer.is_staff:
            raise HTTPException(403, STAFF_ONLY)
        if q.update_ticket(conn, ticket_id, {"priority": priority}) is None:
            raise HTTPException(404, NOT_FOUND)
    response = RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    flash.confirm(request, response, "priority_changed")
    return response
