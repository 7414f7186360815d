"""A client administrator's own company ("My company", `/team`): the members with their role, access and
invitation state; inviting (the same flow as NexK admins, app/routes/invitation_flow.py); making a colleague a
member or an administrator; deactivating (after a confirmation page) and reactivating; and whether members see
each other's tickets. Only a client admin gets here (403 otherwise), and the database's rules keep them to
their own organization (db/policies/README.md §3, §6)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from psycopg import Connection
from starlette.responses import Response

from app import flash
from app.confirmation import ask_first, is_confirmed
from app.form_errors import FieldError
from app.i18n import N_, _
from app.queries import admin as people
from app.queries import company, invitations
from app.routes.invitation_flow import invitation_problems, send_invitation
from app.web import Viewer, render, viewer_transaction

router = APIRouter()
CLIENT_ADMINS_ONLY = N_("Only your company's portal administrators can manage its members.")
NOT_A_COLLEAGUE = N_("This person is not a member of your company.")
ClientRole = Literal["client_member", "client_admin"]
CLIENT_ROLES = ("client_member", "client_admin")


@contextmanager
def company_transaction(
    request: Request, *, read_only: bool = False
) -> Iterator[tuple[Connection[Any], Viewer]]:
    """The request's RLS transaction, for client admins only."""
    with viewer_transaction(request, read_only=read_only) as (conn, viewer):
        if viewer.role != "client_admin":
            raise HTTPException(403, CLIENT_ADMINS_ONLY)
        yield conn, viewer


def _page(conn: Connection[Any], viewer: Viewer) -> dict[str, Any]:
    members = people.members(conn, viewer.organization_id)
    return {
        "viewer": viewer,
        "organization": company.organization(conn),
        "members": members,
        "acceptance": company.acceptance(conn, [m["id"] for m in members]),
        "invitations": invitations.invitations(conn, viewer.organization_id),
        "roles": CLIENT_ROLES,
    }


def _done(request: Request, key: str) -> Response:
    """Back to the page, with the confirmation of what was done (app/flash.py)."""
    response = RedirectResponse("/team", status_code=303)
    flash.confirm(request, response, key)
    return response


@router.get("/team")
def team_page(request: Request) -> Response:
    with company_transaction(request, read_only=True) as (conn, viewer):
        context = _page(conn, viewer)
    return render(request, "team/index.html", context)


def _invite_form_again(
    request: Request, kept: dict[str, str], errors: list[FieldError] | None, status_code: int
) -> Response:
    """The page with the invitation form's values kept and what to fix (messages in the admin's language:
    computed inside the transaction, which knows the profile's language)."""
    with company_transaction(request, read_only=True) as (conn, viewer):
        errors = errors if errors is not None else invitation_problems(kept)
        context = _page(conn, viewer) | {
            "invite_form": kept,
            "invite_errors": errors,
            "form_page_url": "/team",
        }
    return render(request, "team/index.html", context, status_code=status_code)


@router.post("/team/invite")
def invite(
    request: Request,
    email: Annotated[str, Form(max_length=1000)] = "",
    first_name: Annotated[str, Form(max_length=1000)] = "",
    surname: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[ClientRole, Form()] = "client_member",
) -> Response:
    kept = {"email": email, "first_name": first_name, "surname": surname, "role": role}
    with company_transaction(request, read_only=True) as (_conn, viewer):
        org_id = viewer.organization_id
        problems = invitation_problems(kept)
    if problems:
        return _invite_form_again(request, kept, None, 422)
    try:
        send_invitation(
            request,
            company_transaction,
            email=email,
            organization_id=org_id,
            role=role,
            first_name=first_name,
            surname=surname,
        )
    except HTTPException as exc:
        if exc.status_code != 409:  # already invited or has an account: said above the kept form
            raise
        return _invite_form_again(request, kept, [FieldError("email", str(exc.detail))], 409)
    return _done(request, "invitation_sent")


@router.post("/team/invitations/{invitation_id}/cancel")
def cancel_invitation(
    request: Request, invitation_id: uuid.UUID, confirmed: Annotated[str, Form(max_length=3)] = ""
) -> Response:
    with company_transaction(request) as (conn, viewer):
        if not is_confirmed(confirmed):  # the link already sent stops working: a second, explicit step
            return ask_first(
                request,
                viewer,
                question=_("Cancel this invitation?"),
                consequence=_("The link already sent stops working. You can invite the person again later."),
                button=_("Cancel the invitation"),
                back="/team",
            )
        if not invitations.cancel_invitation(conn, invitation_id):
            raise HTTPException(404, N_("This invitation does not exist any more."))
    return _done(request, "invitation_cancelled")


@router.post("/team/people/{person_id}/role")
def change_role(request: Request, person_id: uuid.UUID, role: Annotated[ClientRole, Form()]) -> Response:
    with company_transaction(request) as (conn, viewer):
        if person_id == viewer.user_id:
            raise HTTPException(
                409, N_("You cannot change your own role: ask another administrator of your company.")
            )
        if company.member(conn, person_id) is None or not company.set_role(conn, person_id, role):
            raise HTTPException(404, NOT_A_COLLEAGUE)
    return _done(request, "role_changed")


@router.get("/team/people/{person_id}/deactivate")
def confirm_deactivation(request: Request, person_id: uuid.UUID) -> Response:
    """Deactivation takes a second, explicit step: this page says what it does and asks to confirm."""
    with company_transaction(request, read_only=True) as (conn, viewer):
        person = company.member(conn, person_id)
        if person is None:
            raise HTTPException(404, NOT_A_COLLEAGUE)
    return render(request, "team/deactivate.html", {"viewer": viewer, "person": person})


@router.post("/team/people/{person_id}/access")
def set_access(
    request: Request,
    person_id: uuid.UUID,
    active: Annotated[bool, Form()] = False,
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    with company_transaction(request) as (conn, viewer):
        if person_id == viewer.user_id:
            raise HTTPException(
                409, N_("You cannot deactivate yourself: ask another administrator of your company.")
            )
        if not active and not confirm:
            return RedirectResponse(f"/team/people/{person_id}/deactivate", status_code=303)
        if company.member(conn, person_id) is None or not people.set_deactivated(conn, person_id, not active):
            raise HTTPException(404, NOT_A_COLLEAGUE)
    return _done(request, "access_changed")


@router.post("/team/sharing")
def set_sharing(request: Request, shared: Annotated[bool, Form()] = False) -> Response:
    with company_transaction(request) as (conn, _viewer):
        company.set_sharing(conn, shared)
    return _done(request, "sharing_saved")
