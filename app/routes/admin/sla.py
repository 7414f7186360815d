"""SLA plans (targets per priority) and business calendars (weekly hours, extra closing days)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from psycopg import Connection
from starlette.responses import Response

from app import flash
from app.confirmation import ask_first, is_confirmed
from app.form_errors import FieldError, FormRefused, database_error, refuse
from app.i18n import N_, _
from app.queries import admin as q
from app.queries.tickets import PRIORITIES
from app.routes.admin.common import admin_transaction, parse_date, parse_minutes, parse_time, parse_uuid
from app.web import render

router = APIRouter()


def _sla_context(conn: Connection[Any], viewer: Any, **extra: Any) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "plans": q.sla_plans(conn),
        "calendars": q.calendars(conn),
        "priorities": PRIORITIES,
        "weekdays": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "refused": None,
        **extra,
    }


@router.get("/admin/sla")
def sla_page(request: Request) -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        context = _sla_context(conn, viewer)
    return render(request, "admin/sla.html", context)


def _write(
    request: Request,
    form_id: str,
    form: dict[str, str],
    flash_key: str,
    write: Callable[[Connection[Any]], None],
) -> Response:
    """Run one SLA page form's write in a savepoint; a refused value re-renders the page (422) with that form's
    values and messages (`refused`, matched by the form's id), anything else goes back to the page."""
    with admin_transaction(request) as (conn, viewer):
        try:
            with conn.transaction():
                write(conn)
        except FormRefused as exc:
            errors = exc.errors
        except (psycopg.errors.CheckViolation, psycopg.errors.UniqueViolation) as exc:
            errors = [database_error(exc)]
        else:
            errors = []
        if errors:
            refused = {"form": form_id, "kept": form, "errors": errors}
            return render(
                request, "admin/sla.html", _sla_context(conn, viewer, refused=refused), status_code=422
            )
    response = RedirectResponse("/admin/sla", status_code=303)
    flash.confirm(request, response, flash_key)
    return response


@router.post("/admin/sla/policies")
def save_policy(
    request: Request,
    plan_id: Annotated[str, Form(max_length=36)] = "",
    priority: Annotated[str, Form(max_length=10)] = "",
    first_response_minutes: Annotated[str, Form(max_length=20)] = "",
    next_response_minutes: Annotated[str, Form(max_length=20)] = "",
    resolution_minutes: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {
        "first_response_minutes": first_response_minutes,
        "next_response_minutes": next_response_minutes,
        "resolution_minutes": resolution_minutes,
    }

    def write(conn: Connection[Any]) -> None:
        if priority not in PRIORITIES:
            raise refuse("priority", N_("Priority: choose a priority from the list."))
        plan = parse_uuid(plan_id, "plan_id")
        minutes, errors = {}, []
        for field, value in form.items():
            try:
                minutes[field] = parse_minutes(value, field)
            except FormRefused as exc:
                errors += exc.errors
        if errors:
            raise FormRefused(errors)
        q.save_policy(
            conn,
            plan,
            priority,
            first_response=minutes["first_response_minutes"],
            next_response=minutes["next_response_minutes"],
            resolution=minutes["resolution_minutes"],
        )

    return _write(request, f"policy-{plan_id}-{priority}", form, "sla_policy_saved", write)


@router.post("/admin/sla/hours")
def add_hours(
    request: Request,
    calendar_id: Annotated[str, Form(max_length=36)] = "",
    day_of_week: Annotated[str, Form(max_length=2)] = "",
    opens_at: Annotated[str, Form(max_length=8)] = "",
    closes_at: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    form = {"day_of_week": day_of_week, "opens_at": opens_at, "closes_at": closes_at}

    def write(conn: Connection[Any]) -> None:
        if day_of_week not in {str(d) for d in range(1, 8)}:
            raise refuse("day_of_week", N_("Day: choose a day of the week from the list."))
        errors = []
        times = {}
        for field in ("opens_at", "closes_at"):
            try:
                times[field] = parse_time(form[field], field)
            except FormRefused as exc:
                errors += exc.errors
        if errors:
            raise FormRefused(errors)
        q.add_hours(
            conn,
            parse_uuid(calendar_id, "calendar_id"),
            int(day_of_week),
            times["opens_at"],
            times["closes_at"],
        )

    return _write(request, f"hours-{calendar_id}", form, "hours_added", write)


CLOCKS_CHANGE = N_(
    "The SLA clocks of the tickets on this calendar are counted with the new hours from now on."
)


def _remove_after_confirmation(
    request: Request,
    confirmed: str,
    *,
    question: str,
    button: str,
    remove: Callable[[Connection[Any]], None],
    done: str,
) -> Response:
    """Remove a calendar entry on the second, confirmed step (it changes running SLA clocks); flash `done`."""
    with admin_transaction(request) as (conn, viewer):
        if not is_confirmed(confirmed):
            return ask_first(
                request,
                viewer,
                question=question,
                consequence=_(CLOCKS_CHANGE),
                button=button,
                back="/admin/sla",
            )
        remove(conn)
    response = RedirectResponse("/admin/sla", status_code=303)
    flash.confirm(request, response, done)
    return response


@router.post("/admin/sla/hours/{hours_id}/delete")
def delete_hours(
    request: Request, hours_id: uuid.UUID, confirmed: Annotated[str, Form(max_length=3)] = ""
) -> Response:
    return _remove_after_confirmation(
        request,
        confirmed,
        question=_("Remove these opening hours?"),
        button=_("Remove the opening hours"),
        remove=lambda conn: q.delete_hours(conn, hours_id),
        done="hours_removed",
    )


@router.post("/admin/sla/holidays")
def add_holiday(
    request: Request,
    calendar_id: Annotated[str, Form(max_length=36)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {"day": day, "name": name}

    def write(conn: Connection[Any]) -> None:
        errors = []
        when = None
        try:
            when = parse_date(day, "day")
        except FormRefused as exc:
            errors += exc.errors
        if when is None and not errors:
            errors.append(FieldError("day", _("Day: write the closing day as YYYY-MM-DD.")))
        if not 1 <= len(name.strip()) <= 100:
            errors.append(FieldError("name", _("Name: write between 1 and 100 characters.")))
        if errors or when is None:  # a missing day is among the errors
            raise FormRefused(errors)
        q.add_holiday(conn, parse_uuid(calendar_id, "calendar_id"), when, name.strip())

    return _write(request, f"holiday-{calendar_id}", form, "holiday_added", write)


@router.post("/admin/sla/holidays/{holiday_id}/delete")
def delete_holiday(
    request: Request, holiday_id: uuid.UUID, confirmed: Annotated[str, Form(max_length=3)] = ""
) -> Response:
    return _remove_after_confirmation(
        request,
        confirmed,
        question=_("Remove this closing day?"),
        button=_("Remove the closing day"),
        remove=lambda conn: q.delete_holiday(conn, holiday_id),
        done="holiday_removed",
    )
