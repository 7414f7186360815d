"""The DSR queue: open requests by due date, and the actions that fulfil each one (db/schema/0220 wrappers).

Erasure also removes the person's attachment bytes from the byte store once the database has let go of them.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.confirmation import ask_first, is_confirmed
from app.form_errors import FieldError, database_error
from app.i18n import N_, _
from app.queries import admin_dsr as q
from app.routes.admin.common import admin_transaction
from app.routes.invitation_flow import EMAIL
from app.storage_sweep import sweep_now
from app.web import render

router = APIRouter()
log = logging.getLogger("nexk.portal")
TYPES = ("access", "rectification", "erasure", "restriction", "portability", "objection")
# The confirmation after each action (`?done=<action>` after the redirect).
DONE = {
    "recorded": N_("The request was recorded."),
    "rectify": N_("The person's data was rectified."),
    "erase": N_("The person was erased."),
    "restrict": N_("Processing of the person's data is now restricted."),
    "lift": N_("The restriction was lifted."),
    "object": N_("The objection was recorded."),
    "complete": N_("The request was marked completed."),
    "reject": N_("The request was rejected."),
}


def _queue(conn: psycopg.Connection[Any], viewer: Any, closed: bool = False) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "requests": q.queue(conn, include_closed=closed),
        "actions": q.ACTIONS,
        "types": TYPES,
        "rectifiable": q.RECTIFIABLE,
        "purposes": q.PURPOSES,
        "closed": closed,
    }


def _queue_again(
    request: Request, conn: psycopg.Connection[Any], viewer: Any, errors: list[FieldError], **kept: Any
) -> Response:
    """The queue with a refused form's values kept and what to fix (422), never an error page. `kept`:
    `record_form` (the new request's fields) or `row_form` and `row_id` (an action on one request)."""
    context = _queue(conn, viewer) | {"errors": errors, "form_page_url": "/admin/dsr", **kept}
    return render(request, "admin/dsr.html", context, status_code=422)


@router.get("/admin/dsr")
def dsr_queue(request: Request, closed: bool = False, done: str = "") -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        context = _queue(conn, viewer, closed) | {"done_message": DONE.get(done)}
    return render(request, "admin/dsr.html", context)


def _request_problems(form: dict[str, str]) -> list[FieldError]:
    """What is wrong with a new request's fields, in the admin's language (called in the transaction)."""
    errors = []
    if not EMAIL.fullmatch(form["subject_email"].strip()) or len(form["subject_email"].strip()) > 254:
        errors.append(
            FieldError("subject_email", _("E-mail address: write an address like name@example.be."))
        )
    if form["type"] not in TYPES:
        errors.append(FieldError("type", _("Type: choose the kind of request from the list.")))
    if len(form["notes"].strip()) > 10000:
        errors.append(FieldError("notes", _("Notes: at most 10,000 characters.")))
    return errors


@router.post("/admin/dsr")
def record_request(
    request: Request,
    subject_email: Annotated[str, Form(max_length=1000)] = "",
    type: Annotated[str, Form(max_length=100)] = "",
    notes: Annotated[str, Form(max_length=50000)] = "",
) -> Response:
    form = {"subject_email": subject_email, "type": type, "notes": notes}
    with admin_transaction(request) as (conn, viewer):
        errors = _request_problems(form)
        if not errors:
            try:
                with conn.transaction():  # a savepoint: a refusal leaves the page's transaction usable
                    q.record(conn, subject_email.strip(), type, notes.strip())
            except psycopg.errors.IntegrityError as exc:
                errors = [database_error(exc)]
        if errors:
            return _queue_again(request, conn, viewer, errors, record_form=form)
    return RedirectResponse("/admin/dsr?done=recorded", status_code=303)


def _rectification_problems(changes: dict[str, str]) -> list[FieldError]:
    """What is wrong with a rectification's corrected fields (the database checks the rest, e.g. the phone)."""
    if not changes:
        return [FieldError("", _("Rectification: fill in at least one corrected field."))]
    errors = []
    for field, message in (
        ("first_name", N_("First name: write between 1 and 100 characters.")),
        ("surname", N_("Surname: write between 1 and 100 characters.")),
        ("position", N_("Position: at most 100 characters.")),
    ):
        if len(changes.get(field, "")) > 100:
            errors.append(FieldError(field, _(message)))
    if "email" in changes and (not EMAIL.fullmatch(changes["email"]) or len(changes["email"]) > 254):
        errors.append(FieldError("email", _("E-mail address: write an address like name@example.be.")))
    if len(changes.get("phone", "")) > 25:
        errors.append(
            FieldError(
                "phone",
                _("Phone: digits, spaces and + . / ( ) - only, 6 to 25 characters (e.g. +32 2 123 45 67)."),
            )
        )
    return errors


def _ask_first(request: Request, viewer: Any, conn: Any, request_id: uuid.UUID, action: str) -> Response:
    """The confirmation page of an erasure (irreversible) or a rejection (closes the person's request)."""
    found = q.request(conn, request_id)
    if found is None:
        raise HTTPException(404, N_("This request does not exist."))
    who = found["subject_email"] or ""
    if action == "erase":
        question = _("Erase {email} for good?", email=who)
        consequence = _(
            "Their profile is anonymised, their sign-in account and their attachments are deleted. This cannot "
            "be undone."
        )
        button = _("Erase this person")
    else:
        question = _("Reject the request of {email}?", email=who)
        consequence = _("The request is closed as rejected; the person sees it so in My data.")
        button = _("Reject the request")
    return ask_first(
        request, viewer, question=question, consequence=consequence, button=button, back="/admin/dsr"
    )


@router.post("/admin/dsr/{request_id}/{action}")
def fulfil(
    request: Request,
    request_id: uuid.UUID,
    action: str,
    first_name: Annotated[str, Form(max_length=1000)] = "",
    surname: Annotated[str, Form(max_length=1000)] = "",
    position: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=1000)] = "",
    purpose: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=20000)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    result: Any
    with admin_transaction(request) as (conn, viewer):
        if action in ("erase", "reject") and not is_confirmed(confirmed):
            return _ask_first(request, viewer, conn, request_id, action)
        if action == "export":
            result = q.export(conn, request_id)
        elif action == "rectify":
            fields = {
                "first_name": first_name,
                "surname": surname,
                "position": position,
                "email": email,
                "phone": phone,
            }
            changes = {k: v.strip() for k, v in fields.items() if v.strip()}
            errors = _rectification_problems(changes)
            if not errors:
                try:
                    with conn.transaction():  # a savepoint: a refusal leaves the page's transaction usable
                        result = q.rectify(conn, request_id, dict(changes))
                except psycopg.errors.IntegrityError as exc:
                    errors = [database_error(exc)]
            if errors:
                return _queue_again(request, conn, viewer, errors, row_form=fields, row_id=request_id)
        elif action == "erase":
            result = q.erase(conn, request_id)
        elif action in ("restrict", "lift"):
            result = q.restrict(conn, request_id, action == "restrict")
        elif action == "object":
            errors = []
            if purpose not in q.PURPOSES:
                errors.append(
                    FieldError("purpose", _("Purpose: choose the use the person objects to from the list."))
                )
            if len(reason.strip()) > 2000:
                errors.append(FieldError("reason", _("Reason: at most 2,000 characters.")))
            if errors:
                row_form = {"purpose": purpose, "reason": reason}
                return _queue_again(request, conn, viewer, errors, row_form=row_form, row_id=request_id)
            result = q.object_to(conn, request_id, purpose, reason.strip() or None)
        elif action in ("complete", "reject"):
            result = q.complete(conn, request_id, "completed" if action == "complete" else "rejected")
        else:
            raise HTTPException(404, N_("There is no such DSR action."))
    if action == "export":
        body = json.dumps(result, indent=2, ensure_ascii=False, default=str)
        return Response(
            body,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="dsr-export-{request_id}.json"'},
        )
    if action == "erase":
        # The erased person's files were queued in the same transaction; delete them now rather than at the
        # next hourly cron (a failure is logged and the cron retries).
        sweep_now(request.app.state)
    return RedirectResponse(f"/admin/dsr?done={action}", status_code=303)
