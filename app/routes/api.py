"""The JSON API for tickets and messages (OpenAPI at /api/openapi.json).

Same RLS path as the pages: the bearer token (a Supabase access token) is verified, then every call is one
transaction as that user. Cookies are ignored here, so the API needs no CSRF token.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import Connection
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.auth.tokens import InvalidToken
from app.queries import audit
from app.queries import tickets as q
from app.web import SignInRequired, Viewer, claims_transaction

router = APIRouter(prefix="/api", tags=["tickets"])
bearer = HTTPBearer(auto_error=False, description="A Supabase access token (staff: from an aal2 session).")

_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def _clean_text(value: str) -> str:
    if _BAD_TEXT.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Text = Annotated[str, AfterValidator(_clean_text)]
Status = Literal["new", "open", "pending", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]


class TicketOut(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    requester_id: uuid.UUID
    assignee_id: uuid.UUID | None
    subject: str
    description: str
    status: Status
    priority: Priority
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    archived_at: datetime | None


class TicketSummary(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    requester_id: uuid.UUID
    assignee_id: uuid.UUID | None
    subject: str
    status: Status
    priority: Priority
    created_at: datetime
    updated_at: datetime


class TicketPage(BaseModel):
    # One page is at most PAGE_SIZE rows; saying so in the schema (maxItems) lets clients and scanners rely on it.
    items: list[TicketSummary] = Field(max_length=q.PAGE_SIZE)
    page: int
    has_next: bool


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Annotated[Text, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(min_length=1, max_length=20000)]
    priority: Priority = "normal"


class TicketUpdate(BaseModel):
    """Clients may only resolve or reopen; staff may change status, priority and assignee."""

    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    priority: Priority | None = None
    assignee_id: uuid.UUID | None = None


class MessageOut(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author_id: uuid.UUID
    body: str
    internal: bool
    created_at: datetime


class MessagePage(BaseModel):
    # At most MESSAGE_PAGE_MAX messages (maxItems), oldest first; `next_after` leads to the rest.
    items: list[MessageOut] = Field(max_length=q.MESSAGE_PAGE_MAX)
    next_after: str | None = Field(
        description="Pass as `after` to get the next page; null when this page ends the conversation."
    )


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[Text, Field(min_length=1, max_length=20000)]
    internal: bool = Field(False, description="An internal note (staff only; clients never see it).")


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Malformed input"},
    401: {"model": Problem, "description": "Missing or invalid bearer token"},
    403: {"model": Problem, "description": "Refused by the access rules"},
    404: {"model": Problem, "description": "Not found, or not visible to the caller"},
    422: {"model": Problem, "description": "A field needs fixing"},
}
NOT_FOUND = "This ticket does not exist, or you do not have access to it."


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus a global `security` requirement: every operation needs the bearer token (the
    per-operation entries already say so; the global one states it for tools that read only the top level)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        document["security"] = [{"HTTPBearer": []}]
        app.openapi_schema = document
    return app.openapi_schema


def _claims(request: Request, credentials: HTTPAuthorizationCredentials | None) -> tuple[dict[str, Any], str]:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise SignInRequired
    try:
        return request.app.state.verifier.verify(credentials.credentials), credentials.credentials
    except InvalidToken:
        raise SignInRequired from None


class Caller:
    """The verified token of the call; `transaction()` is its RLS-scoped transaction."""

    def __init__(self, request: Request, claims: dict[str, Any], token: str) -> None:
        self.request, self.claims, self.token = request, claims, token

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[tuple[Connection[Any], Viewer]]:
        with claims_transaction(self.request, self.claims, self.token, read_only=read_only) as pair:
            yield pair


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    claims, token = _claims(request, credentials)
    return Caller(request, claims, token)


CallerDep = Annotated[Caller, Depends(caller)]


@router.get("/tickets", response_model=TicketPage, responses=ERRORS, summary="List the tickets you can see")
def list_tickets(
    who: CallerDep,
    # At most one of each value: bounded (maxItems) for clients and for checkov's CKV_OPENAPI_21.
    status: Annotated[list[Status] | None, Query(max_length=len(q.STATUSES))] = None,
    priority: Annotated[list[Priority] | None, Query(max_length=len(q.PRIORITIES))] = None,
    search: Annotated[str, Query(max_length=200, pattern=r"^[^\x00]*$")] = "",
    sort: Literal["updated", "created", "priority"] = "updated",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> TicketPage:
    f = q.TicketFilter(tuple(status or ()), tuple(priority or ()), search.strip(), sort, page)
    with who.transaction(read_only=True) as (conn, viewer):
        rows, has_next = q.list_tickets(conn, f, viewer.role)
    return TicketPage(items=[TicketSummary.model_validate(r) for r in rows], page=page, has_next=has_next)


@router.post("/tickets", response_model=TicketOut, status_code=201, responses=ERRORS, summary="Open a ticket")
def create_ticket(who: CallerDep, payload: TicketCreate) -> TicketOut:
    with who.transaction() as (conn, viewer):
        if viewer.organization_id is None:
            raise HTTPException(403, "Only client staff open tickets; NexK staff answer them.")
        row = q.create_ticket(
            conn,
            organization_id=viewer.organization_id,
            requester_id=viewer.user_id,
            subject=payload.subject,
            description=payload.description,
            priority=payload.priority,
        )
    return TicketOut.model_validate(row)


@router.get("/tickets/{ticket_id}", response_model=TicketOut, responses=ERRORS, summary="One ticket")
def get_ticket(who: CallerDep, ticket_id: uuid.UUID) -> TicketOut:
    with who.transaction() as (conn, _):
        row = q.get_ticket(conn, ticket_id)
        if row is None:
            raise HTTPException(404, NOT_FOUND)
        audit.record_read(conn, "tickets", ticket_id)
    return TicketOut.model_validate(row)


@router.patch(
    "/tickets/{ticket_id}",
    response_model=TicketOut,
    responses=ERRORS,
    summary="Change status, priority or assignee",
)
def update_ticket(who: CallerDep, ticket_id: uuid.UUID, payload: TicketUpdate) -> TicketOut:
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(422, "Send at least one of status, priority, assignee_id.")
    if any(changes.get(k) is None for k in ("status", "priority") if k in changes):
        raise HTTPException(422, "status and priority cannot be null.")
    with who.transaction() as (conn, viewer):
        if not viewer.is_staff and set(changes) - {"status"}:
            raise HTTPException(403, "Clients may only change the status (resolve or reopen).")
        row = q.update_ticket(conn, ticket_id, changes)
        if row is None:
            raise HTTPException(404, NOT_FOUND)
    return TicketOut.model_validate(row)


@router.get(
    "/tickets/{ticket_id}/messages",
    response_model=MessagePage,
    responses=ERRORS,
    summary="The conversation, one page at a time",
)
def list_messages(
    who: CallerDep,
    ticket_id: uuid.UUID,
    limit: Annotated[
        int, Query(ge=1, le=q.MESSAGE_PAGE_MAX, description="How many messages at most.")
    ] = q.MESSAGE_PAGE_DEFAULT,
    after: Annotated[
        uuid.UUID | None,
        Query(description="The `next_after` of the previous page: messages after this one (oldest first)."),
    ] = None,
) -> MessagePage:
    with who.transaction() as (conn, _):
        if q.get_ticket(conn, ticket_id) is None:
            raise HTTPException(404, NOT_FOUND)
        audit.record_read(conn, "tickets", ticket_id)
        page = q.message_page(conn, ticket_id, limit, after)
    if page is None:
        raise HTTPException(422, "after: not a message of this conversation; pass the next_after of a page.")
    rows, more = page
    return MessagePage(
        items=[MessageOut.model_validate(r | {"ticket_id": ticket_id}) for r in rows],
        next_after=str(rows[-1]["id"]) if more else None,
    )


@router.post(
    "/tickets/{ticket_id}/messages",
    response_model=MessageOut,
    status_code=201,
    responses={
        **ERRORS,
        409: {
            "model": Problem,
            "description": "The ticket is closed: a client opens a follow-up ticket instead",
        },
    },
    summary="Reply",
    description="A client's public reply on a pending or resolved ticket reopens it (status open).",
)
def add_message(who: CallerDep, ticket_id: uuid.UUID, payload: MessageCreate) -> MessageOut:
    with who.transaction() as (conn, viewer):
        if q.get_ticket(conn, ticket_id) is None:
            raise HTTPException(404, NOT_FOUND)
        if payload.internal and not viewer.is_staff:
            raise HTTPException(403, "Only NexK staff write internal notes.")
        row = q.add_message(conn, ticket_id, payload.body, payload.internal)
    return MessageOut.model_validate(row)
