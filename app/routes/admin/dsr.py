"""The DSR queue: open requests by due date, and the actions that fulfil each one (db/schema/0220 wrappers).

Erasure also removes the person's attachment bytes from the byte store once the database has let go of them.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.confirmation import ask_first, is_confirmed
from app.i18n import N_, _
from app.queries import admin_dsr as q
from app.routes.admin.common import admin_transaction
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


@router.get("/admin/dsr")
def dsr_queue(request: Request, closed: bool = False, done: str = "") -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        requests = q.queue(conn, include_closed=closed)
    context = {
        "viewer": viewer,
        "requests": requests,
        "actions": q.ACTIONS,
        "types": TYPES,
        "rectifiable": q.RECTIFIABLE,
        "purposes": q.PURPOSES,
        "closed": closed,
        "done_message": DONE.get(done),
    }
    return render(request, "admin/dsr.html", context)


@router.post("/admin/dsr")
def record_request(
    request: Request,
    subject_email: Annotated[str, Form(max_length=254)],
    type: Annotated[str, Form(max_length=20)],
    notes: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    if type not in TYPES:
        raise HTTPException(422, N_("Type: choose the kind of request from the list."))
    with admin_transaction(request) as (conn, _):
        q.record(conn, subject_email.strip(), type, notes.strip())
    return RedirectResponse("/admin/dsr?done=recorded", status_code=303)


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
    first_name: Annotated[str, Form(max_length=100)] = "",
    surname: Annotated[str, Form(max_length=100)] = "",
    position: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=25)] = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
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
            changes: dict[str, str | None] = {k: v.strip() for k, v in fields.items() if v.strip()}
            if not changes:
                raise HTTPException(422, N_("Rectification: fill in at least one corrected field."))
            result = q.rectify(conn, request_id, changes)
        elif action == "erase":
            result = q.erase(conn, request_id)
        elif action in ("restrict", "lift"):
            result = q.restrict(conn, request_id, action == "restrict")
        elif action == "object":
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
