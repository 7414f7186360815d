"""The JSON API for tickets and messages (OpenAPI at /api/openapi.json).

Same RLS path as the pages: the bearer token (a Supabase access token) is verified, then every call is one
transaction as that user. Cookies are ignored here, so the API needs no CSRF token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import Connection
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.auth.tokens import InvalidToken
from app.domain.ticket_text import (
    BLANK_PATTERN,
    NUL_PATTERN,
    SUBJECT_MAX,
    TEXT_MAX,
    TextRefused,
    stored_text,
)
from app.queries import audit
from app.queries import tickets as q
from app.web import SignInRequired, Viewer, claims_transaction

bearer = HTTPBearer(auto_error=False, description="A Supabase access token (staff: from an aal2 session).")


def _text_rule(max_length: int) -> AfterValidator:
    """The rule of app.domain.ticket_text, with a message that says what to fix; the value kept is trimmed."""

    def checked(value: str) -> str:
        try:
            return stored_text(value, max_length=max_length)
        except TextRefused as exc:
            raise PydanticCustomError("text_refused", str(exc)) from None

    return AfterValidator(checked)


def _text_field(max_length: int, description: str) -> Any:
    """The same rule as the document states it, on what the client sends: `maxLength`, and what is refused."""
    return Field(
        description=f"{description} Not blank, no NUL character, at most {max_length} characters; stored "
        "without surrounding whitespace.",
        json_schema_extra={
            "minLength": 1,
            "maxLength": max_length,
            "not": {"anyOf": [{"pattern": NUL_PATTERN}, {"pattern": BLANK_PATTERN}]},
        },
    )


Subject = Annotated[str, _text_rule(SUBJECT_MAX), _text_field(SUBJECT_MAX, "A short summary.")]
Description = Annotated[
    str, _text_rule(TEXT_MAX), _text_field(TEXT_MAX, "What happened, and what is needed.")
]
Body = Annotated[str, _text_rule(TEXT_MAX), _text_field(TEXT_MAX, "The reply, or the internal note.")]
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
    subject: Subject
    description: Description
    priority: Priority = "normal"


def _no_default(schema: JsonDict) -> None:
    # No `default` in the document: an omitted field is left unchanged (it defaults to nothing).
    schema.pop("default", None)


def _omittable() -> Any:
    """A field that may be left out but not sent as null (null is not one of its values)."""
    return Field(None, json_schema_extra=_no_default)


class TicketUpdate(BaseModel):
    """Clients may only resolve or reopen; staff may change status, priority and assignee."""

    # Omit a field to leave it as it is; only the assignee can be null (unassigned). At least one field.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    status: Status = _omittable()
    priority: Priority = _omittable()
    assignee_id: uuid.UUID | None = Field(
        None, description="null unassigns the ticket.", json_schema_extra=_no_default
    )


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
    body: Body
    internal: bool = Field(False, description="An internal note (staff only; clients never see it).")


class FieldError(BaseModel):
    field: str = Field(
        description="The field to fix (`a.b` inside objects), or `request` for the whole body."
    )
    message: str


class Problem(BaseModel):
    """Every error of the API has this shape (app/errors.py writes it, also for undocumented paths and
    methods)."""

    detail: str = Field(description="What was wrong and what to do, in a sentence.")
    errors: list[FieldError] | None = Field(
        None, max_length=100, description="On 422 from validation: one entry per field to fix."
    )


def _problem(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": Problem, "description": description, **extra}


# The answers every operation can give besides its own: the token is checked before anything else (so an
# anonymous call gets 401 whatever it sends), then the body and parameters, then the access rules.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed input: a body that is not JSON in UTF-8, or a value the database cannot read"),
    401: _problem(
        "Missing or invalid bearer token",
        headers={"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    ),
    403: _problem("Refused by the access rules, or a staff token without MFA (aal2)"),
    404: _problem("Not found, or not visible to the caller"),
    422: _problem("A field needs fixing: `errors` says which"),
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _problem("The ticket's state does not allow it (a client cannot reply to a closed ticket)")
}
ASSIGNEE_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _problem(
        "The ticket's state does not allow it, or `assignee_id` is neither a NexK admin nor an agent"
        " assigned to the ticket's organization"
    )
}
WITH_BODY: dict[int | str, dict[str, Any]] = {
    415: _problem("The body is not sent as JSON (Content-Type: application/json)")
}
BUSY: dict[int | str, dict[str, Any]] = {503: _problem("The search took too long: narrow the filters")}
NOT_FOUND = "This ticket does not exist, or you do not have access to it."
ASSIGNEE_REFUSED = (
    "assignee_id: not a NexK admin, nor an agent assigned to this ticket's organization; "
    "choose someone who is."
)
AFTER_NOT_FOUND = "after: no message of this conversation has this id; pass the next_after of a page."


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus a global `security` requirement: every operation needs the bearer token (the
    per-operation entries already say so; the global one states it for tools that read only the top level),
    and the error shape of answers no operation can document (unknown paths, methods)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        document["security"] = [{"HTTPBearer": []}]
        document["info"]["description"] += (
            " Every error answers with a `Problem` body (`detail`, plus `errors` on a 422 from validation),"
            " also 404 for an unknown path and 405 for a method a path does not offer (its `Allow` header"
            " lists those it does)."
        )
        app.openapi_schema = document
    return app.openapi_schema


def _claims(request: Request, credentials: HTTPAuthorizationCredentials | None) -> tuple[dict[str, Any], str]:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise SignInRequired
    try:
        return request.app.state.verifier.verify(credentials.credentials), credentials.credentials
    except InvalidToken:
        raise SignInRequired from None


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class TokenFirstRoute(APIRoute):
    """An API route that checks the bearer token before anything else: FastAPI reads and parses the body
    before it solves dependencies, so without this an anonymous caller learns whether a body is well formed
    (400/422) before being told to sign in. Every operation answers 401 to a missing or invalid token; then
    an operation with a body refuses any but JSON (415)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def token_first(request: Request) -> Response:
            credentials = await bearer(request)
            request.state.api_token = await run_in_threadpool(_claims, request, credentials)
            if self.body_field is not None and not _is_json(request.headers.get("content-type", "")):
                # Not 422 "not an object": the body was never read as JSON (RFC 9110 §15.5.16).
                raise HTTPException(415, "Send the body as JSON, with Content-Type: application/json.")
            return await handler(request)

        return token_first


router = APIRouter(prefix="/api", tags=["tickets"], route_class=TokenFirstRoute)


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
    # TokenFirstRoute verified the token already; `bearer` stays a dependency so the document declares it.
    claims, token = request.state.api_token
    return Caller(request, claims, token)


CallerDep = Annotated[Caller, Depends(caller)]


@router.get(
    "/tickets", response_model=TicketPage, responses=ERRORS | BUSY, summary="List the tickets you can see"
)
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


@router.post(
    "/tickets",
    response_model=TicketOut,
    status_code=201,
    responses=ERRORS | WITH_BODY,
    summary="Open a ticket",
)
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
    responses=ERRORS | ASSIGNEE_CONFLICT | WITH_BODY,
    summary="Change status, priority or assignee",
)
def update_ticket(who: CallerDep, ticket_id: uuid.UUID, payload: TicketUpdate) -> TicketOut:
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(422, "Send at least one of status, priority, assignee_id.")
    with who.transaction() as (conn, viewer):
        if not viewer.is_staff and set(changes) - {"status"}:
            raise HTTPException(403, "Clients may only change the status (resolve or reopen).")
        try:
            row = q.update_ticket(conn, ticket_id, changes)
        except psycopg.errors.IntegrityError as exc:
            # The database's rule (db/schema/0007_tickets.sql): an admin, or an agent assigned to the ticket's
            # organization. A well-formed id that names nobody suitable conflicts with the staffing, it is not
            # a malformed field (422): the same answer whether the person exists or not.
            if "assignee_id" not in changes:
                raise
            raise HTTPException(409, ASSIGNEE_REFUSED) from exc
        if row is None:
            raise HTTPException(404, NOT_FOUND)
    return TicketOut.model_validate(row)


@router.get(
    "/tickets/{ticket_id}/messages",
    response_model=MessagePage,
    responses=ERRORS
    | {
        404: _problem(
            "The ticket, or the message named by `after`, does not exist or is not visible to the caller"
        )
    },
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
        # Not found rather than 422: the request is well formed, the message it names is not there (or is an
        # internal note a client does not see: the same answer, so it says nothing about the note).
        raise HTTPException(404, AFTER_NOT_FOUND)
    rows, more = page
    return MessagePage(
        items=[MessageOut.model_validate(r | {"ticket_id": ticket_id}) for r in rows],
        next_after=str(rows[-1]["id"]) if more else None,
    )


@router.post(
    "/tickets/{ticket_id}/messages",
    response_model=MessageOut,
    status_code=201,
    responses=ERRORS | CONFLICT | WITH_BODY,
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
