"""SLA plans (targets per priority) and business calendars (weekly hours, extra closing days)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.confirmation import ask_first, is_confirmed
from app.i18n import N_, _
from app.queries import admin as q
from app.queries.tickets import PRIORITIES
from app.routes.admin.common import admin_transaction, parse_date, parse_time, parse_uuid
from app.web import render

router = APIRouter()


@router.get("/admin/sla")
def sla_page(request: Request) -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        context = {
            "viewer": viewer,
            "plans": q.sla_plans(conn),
            "calendars": q.calendars(conn),
            "priorities": PRIORITIES,
        }
    return render(request, "admin/sla.html", context)


@router.post("/admin/sla/policies")
def save_policy(
    request: Request,
    plan_id: Annotated[str, Form(max_length=36)],
    priority: Annotated[str, Form(max_length=10)],
    first_response_minutes: Annotated[int, Form(gt=0, le=525600)],
    next_response_minutes: Annotated[int, Form(gt=0, le=525600)],
    resolution_minutes: Annotated[int, Form(gt=0, le=525600)],
) -> Response:
    if priority not in PRIORITIES:
        raise HTTPException(422, "Priority: choose a priority from the list.")
    with admin_transaction(request) as (conn, _):
        q.save_policy(
            conn,
            parse_uuid(plan_id, "Plan"),
            priority,
            first_response=first_response_minutes,
            next_response=next_response_minutes,
            resolution=resolution_minutes,
        )
    return RedirectResponse("/admin/sla", status_code=303)


@router.post("/admin/sla/hours")
def add_hours(
    request: Request,
    calendar_id: Annotated[str, Form(max_length=36)],
    day_of_week: Annotated[int, Form(ge=1, le=7)],
    opens_at: Annotated[str, Form(max_length=8)],
    closes_at: Annotated[str, Form(max_length=8)],
) -> Response:
    opens, closes = parse_time(opens_at, "Opens at"), parse_time(closes_at, "Closes at")
    with admin_transaction(request) as (conn, _):
        q.add_hours(conn, parse_uuid(calendar_id, "Calendar"), day_of_week, opens, closes)
    return RedirectResponse("/admin/sla", status_code=303)


CLOCKS_CHANGE = N_(
    "The SLA clocks of the tickets on this calendar are counted with the new hours from now on."
)


@router.post("/admin/sla/hours/{hours_id}/delete")
def delete_hours(
    request: Request, hours_id: uuid.UUID, confirmed: Annotated[str, Form(max_length=3)] = ""
) -> Response:
    with admin_transaction(request) as (conn, viewer):
        if not is_confirmed(confirmed):
            return ask_first(
                request,
                viewer,
                question=_("Remove these opening hours?"),
                consequence=_(CLOCKS_CHANGE),
                button=_("Remove the opening hours"),
                back="/admin/sla",
            )
        q.delete_hours(conn, hours_id)
    return RedirectResponse("/admin/sla", status_code=303)


@router.post("/admin/sla/holidays")
def add_holiday(
    request: Request,
    calendar_id: Annotated[str, Form(max_length=36)],
    day: Annotated[str, Form(max_length=10)],
    name: Annotated[str, Form(max_length=100)],
) -> Response:
    when = parse_date(day, "Day")
    if when is None:
        raise HTTPException(422, "Day: write the closing day as YYYY-MM-DD.")
    with admin_transaction(request) as (conn, _):
        q.add_holiday(conn, parse_uuid(calendar_id, "Calendar"), when, name.strip())
    return RedirectResponse("/admin/sla", status_code=303)


@router.post("/admin/sla/holidays/{holiday_id}/delete")
def delete_holiday(
    request: Request, holiday_id: uuid.UUID, confirmed: Annotated[str, Form(max_length=3)] = ""
) -> Response:
    with admin_transaction(request) as (conn, viewer):
        if not is_confirmed(confirmed):
            return ask_first(
                request,
                viewer,
                question=_("Remove this closing day?"),
                consequence=_(CLOCKS_CHANGE),
                button=_("Remove the closing day"),
                back="/admin/sla",
            )
        q.delete_holiday(conn, holiday_id)
    return RedirectResponse("/admin/sla", status_code=303)
