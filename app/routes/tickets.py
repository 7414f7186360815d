"""Ticket screens shared by clients and staff: list, new ticket, the thread, reply, resolve and reopen.

Staff-only controls on the thread (assign, priority, any status, internal notes) post to app.routes.agent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app import flash, i18n, uploads
from app.domain.calendar import CalendarError
from app.domain.sla_repository import TicketSla, ticket_slas
from app.domain.ticket_text import SUBJECT_MAX, TEXT_MAX, acceptable_text, stored_text
from app.filetypes import ALLOWED_DESCRIPTION, RejectedFile
from app.i18n import N_, lazy_gettext
from app.queries import activity, audit, on_behalf
from app.queries import tickets as q
from app.web import is_htmx, render, viewer_transaction

router = APIRouter()
log = logging.getLogger("nexk.portal")

Status = Literal["new", "open", "pending", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
SortKey = Literal["updated", "created", "priority"]
NOT_FOUND = N_("This ticket does not exist, or you do not have access to it.")
FOLLOW_UP = N_("Follow-up")


def sla_of(conn: Any, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, TicketSla]:
    """The SLA clock of these tickets, read in the request's RLS transaction (only visible tickets count)."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    try:
        return ticket_slas(conn, datetime.now(UTC), ids)
    except CalendarError:
        # A plan whose calendar has no hours is an admin's configuration error: show no clock, keep the page.
        log.exception("SLA clock unavailable for tickets %s", ids)
        return {}


def list_context(conn: Any, f: q.TicketFilter, role: str, *, with_orgs: bool) -> dict[str, Any]:
    rows, has_next = q.list_tickets(conn, f, role)
    slas = sla_of(conn, (r["id"] for r in rows))
    for row in rows:
        row["sla"] = slas[row["id"]].report if row["id"] in slas else None
    orgs = q.organization_names(conn, {r["organization_id"] for r in rows}) if with_orgs else {}
    return {
        "tickets": rows,
        "has_next": has_next,
        "filter": f,
        "orgs": orgs,
        "statuses": q.STATUSES,
        "priorities": q.PRIORITIES,
    }


@router.get("/tickets")
def ticket_list(
    request: Request,
    status: Annotated[list[Status] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    q_: Annotated[str, Query(alias="q", max_length=200)] = "",
    sort: SortKey = "updated",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    f = q.TicketFilter(tuple(status or ()), tuple(priority or ()), q_.strip(), sort, page)
    with viewer_transaction(request, read_only=True) as (conn, viewer):
        if viewer.is_staff:
            return RedirectResponse("/agent/queue", status_code=303)
        context = list_context(conn, f, viewer.role, with_orgs=False)
    template = "tickets/_rows.html" if is_htmx(request) else "tickets/list.html"
    return render(request, template, {"viewer": viewer, "base_path": "/tickets", **context})


@router.get("/tickets/new")
def new_ticket_page(request: Request, follow_up_of: Annotated[str, Query(max_length=36)] = "") -> Response:
    with viewer_transaction(request, read_only=True) as (conn, viewer):
        original = _closed_original(conn, follow_up_of)
        form = _blank_form()
        if original is not None:
            form["subject"] = _follow_up_subject(original["subject"])
        context = _new_context(conn, viewer, form=form, original=original)
    return render(request, "tickets/new.html", context)


def _blank_form() -> dict[str, Any]:
    return {"subject": "", "description": "", "priority": "normal", "requester_id": "", "assign_to_me": True}


def _closed_original(conn: Any, follow_up_of: str) -> dict[str, Any] | None:
    """The closed ticket a follow-up continues, if the caller sees it (RLS) and it is closed; else None (the
    form then opens an ordinary ticket, and the database refuses a forged link anyway)."""
    try:
        ticket_id = uuid.UUID(follow_up_of) if follow_up_of else None
    except ValueError:
        return None
    ticket = q.get_ticket(conn, ticket_id) if ticket_id else None
    return ticket if ticket is not None and ticket["status"] == "closed" else None


def _follow_up_subject(subject: str) -> str:
    return f"{i18n.gettext(FOLLOW_UP)}: {subject}"[:200]


def _new_context(conn: Any, viewer: Any, **extra: Any) -> dict[str, Any]:
    """The new-ticket form; for staff, the on-behalf form (whom the ticket is for: on_behalf.requesters)."""
    return {
        "viewer": viewer,
        "priorities": q.PRIORITIES,
        "allowed": ALLOWED_DESCRIPTION,
        "form": _blank_form(),
        "original": None,
        "requesters": on_behalf.requesters(conn) if viewer.is_staff else [],
        **extra,
    }


@router.post("/tickets")
async def create_ticket(
    request: Request,
    subject: Annotated[str, Form(max_length=1000)],
    description: Annotated[str, Form(max_length=40000)],
    priority: Annotated[Priority, Form()] = "normal",
    follow_up_of: Annotated[str, Form(max_length=36)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
    requester_id: Annotated[str, Form(max_length=36)] = "",
    assign_to_me: Annotated[bool, Form()] = False,
) -> Response:
    settings = request.app.state.settings
    form = {
        "subject": subject,
        "description": description,
        "priority": priority,
        "requester_id": requester_id,
        "assign_to_me": assign_to_me,
    }
    problems = []
    # The API's rule (app.domain.ticket_text): the limit counts what was typed, as the fields' maxlength does.
    if not acceptable_text(subject, max_length=SUBJECT_MAX):
        problems.append(lazy_gettext("Subject: write a short summary of 1 to 200 characters."))
    if not acceptable_text(description, max_length=TEXT_MAX):
        problems.append(lazy_gettext("Description: describe the problem (1 to 20,000 characters)."))
    try:
        checked = await uploads.check_files(files, settings.max_attachment_bytes)
    except RejectedFile as exc:
        problems.append(lazy_gettext("Attachments: {problem}", problem=exc))
        checked = []

    def write() -> Response:
        with viewer_transaction(request) as (conn, viewer):
            # Staff open tickets on a client's behalf (a phone call); clients for themselves.
            requester = _on_behalf_requester(conn, requester_id) if viewer.is_staff else None
            if viewer.is_staff and requester is None:
                problems.append(lazy_gettext("Requester: choose the person the ticket is for from the list."))
            original = _closed_original(conn, follow_up_of)
            if follow_up_of and original is None:
                problems.append(
                    lazy_gettext("Follow-up: the ticket to continue is not a closed ticket you can see.")
                )
            if problems:
                return render(
                    request,
                    "tickets/new.html",
                    _new_context(
                        conn,
                        viewer,
                        form=form,
                        errors=problems,
                        original=original,
                        # The form's page (POST /tickets shares its address with the list).
                        form_page_url="/tickets/new"
                        + (f"?follow_up_of={original['id']}" if original else ""),
                    ),
                    status_code=422,
                )
            ticket = q.create_ticket(
                conn,
                organization_id=requester["organization_id"] if requester else viewer.organization_id,
                requester_id=requester["id"] if requester else viewer.user_id,
                assignee_id=viewer.user_id if requester and assign_to_me else None,
                subject=stored_text(subject, max_length=SUBJECT_MAX),
                description=stored_text(description, max_length=TEXT_MAX),
                priority=priority,
                follow_up_of=original["id"] if original else None,
            )
            rows = uploads.insert_rows(conn, checked, ticket=ticket, message_id=None, internal=False)
        uploads.store_bytes(request.app.state.storage, viewer.claims, viewer.access_token, rows)
        response = RedirectResponse(f"/tickets/{ticket['id']}", status_code=303)
        flash.confirm(request, response, "follow_up_created" if original else "ticket_created")
        return response

    return await run_in_threadpool(write)


def _on_behalf_requester(conn: Any, requester_id: str) -> dict[str, Any] | None:
    """The person a staff member opens a ticket for, if they may (an active client the caller sees)."""
    try:
        return on_behalf.requester(conn, uuid.UUID(requester_id))
    except ValueError:
        return None


def thread_context(conn: Any, viewer: Any, ticket: dict[str, Any]) -> dict[str, Any]:
    messages = q.messages(conn, ticket["id"])
    files = q.attachments(conn, ticket["id"])
    events = activity.ticket_activity(conn, ticket["id"])
    people_ids = {ticket["requester_id"], *(m["author_id"] for m in messages), *activity.people_of(events)}
    if ticket["assignee_id"]:
        people_ids.add(ticket["assignee_id"])
    context: dict[str, Any] = {
        "viewer": viewer,
        "ticket": ticket,
        "messages": messages,
        "ticket_files": [a for a in files if a["message_id"] is None],
        "message_files": {m["id"]: [a for a in files if a["message_id"] == m["id"]] for m in messages},
        "people": q.people_names(conn, people_ids),
        "staff_ids": activity.staff_among(conn, people_ids),
        "events": events,
        "sla": getattr(sla_of(conn, [ticket["id"]]).get(ticket["id"]), "report", None),
        "statuses": q.STATUSES,
        "priorities": q.PRIORITIES,
        "allowed": ALLOWED_DESCRIPTION,
        "organization": q.organization_names(conn, {ticket["organization_id"]}).get(
            ticket["organization_id"], ""
        ),
        "follow_up_of": q.get_ticket(conn, ticket["follow_up_of"]) if ticket["follow_up_of"] else None,
        "follow_ups": q.follow_ups(conn, ticket["id"]),
    }
    if viewer.is_staff:
        context["staff"] = q.assignable_staff(conn)
    return context


@router.get("/tickets/{ticket_id}")
def ticket_thread(request: Request, ticket_id: uuid.UUID) -> Response:
    with viewer_transaction(request) as (conn, viewer):
        ticket = q.get_ticket(conn, ticket_id)
        if ticket is None:
            raise HTTPException(404, NOT_FOUND)
        audit.record_read(conn, "tickets", ticket_id)
        context = thread_context(conn, viewer, ticket)
    return render(request, "tickets/thread.html", context)


# What a message is, said by the person who writes it: the composer's two forms each post their own intent,
# and a submission without one is refused, never published by default.
Intent = Literal["public", "internal"]
INTENT_MISSING = N_(
    "Choose how to send this: as a public reply to the client or as an internal note. Nothing was sent."
)


@router.post("/tickets/{ticket_id}/messages")
async def reply(
    request: Request,
    ticket_id: uuid.UUID,
    body: Annotated[str, Form(max_length=40000)] = "",
    intent: Annotated[str, Form(max_length=20)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """A public reply (`intent=public`) or, for staff, an internal note (`intent=internal`)."""
    settings = request.app.state.settings
    problems = []
    chosen: Intent | None = intent if intent in ("public", "internal") else None  # type: ignore[assignment]
    if chosen is None:
        problems.append(lazy_gettext(INTENT_MISSING))
    if not acceptable_text(body, max_length=TEXT_MAX):
        problems.append(lazy_gettext("Message: write a reply of 1 to 20,000 characters."))
    try:
        checked = await uploads.check_files(files, settings.max_attachment_bytes)
    except RejectedFile as exc:
        problems.append(lazy_gettext("Attachments: {problem}", problem=exc))
        checked = []

    def write() -> Response:
        with viewer_transaction(request) as (conn, viewer):
            ticket = q.get_ticket(conn, ticket_id)
            if ticket is None:
                raise HTTPException(404, NOT_FOUND)
            if chosen == "internal" and not viewer.is_staff:
                raise HTTPException(403, N_("Only NexK staff write internal notes."))
            if ticket["status"] == "closed" and not viewer.is_staff:
                # The database refuses it too (db/schema/0330); the page says what to do instead.
                problems.append(lazy_gettext("This ticket is closed: open a follow-up ticket instead."))
            if problems:
                # The draft goes back into the form it came from; without a stated intent, into the internal
                # note for staff (the side where a mistake stays inside NexK).
                kept: Intent = chosen or ("internal" if viewer.is_staff else "public")
                context = thread_context(conn, viewer, ticket) | {
                    "composer": {"intent": kept, "draft": body, "errors": problems}
                }
                return render(request, "tickets/thread.html", context, status_code=422)
            is_internal = chosen == "internal"
            message = q.add_message(conn, ticket_id, stored_text(body, max_length=TEXT_MAX), is_internal)
            rows = uploads.insert_rows(
                conn, checked, ticket=ticket, message_id=message["id"], internal=is_internal
            )
        uploads.store_bytes(request.app.state.storage, viewer.claims, viewer.access_token, rows)
        response = RedirectResponse(f"/tickets/{ticket_id}#message-{message['id']}", status_code=303)
        flash.confirm(request, response, "note_added" if is_internal else "reply_sent")
        return response

    return await run_in_threadpool(write)


@router.post("/tickets/{ticket_id}/status")
def change_status(request: Request, ticket_id: uuid.UUID, status: Annotated[Status, Form()]) -> Response:
    """Clients resolve or reopen (the database's guard refuses anything else); staff set any status."""
    with viewer_transaction(request) as (conn, _viewer):
        updated = q.update_ticket(conn, ticket_id, {"status": status})
        if updated is None:
            raise HTTPException(404, NOT_FOUND)
    response = RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    flash.confirm(request, response, "status_changed")
    return response
