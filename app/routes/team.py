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

from app.i18n import N_
from app.queries import admin as people
from app.queries import company, invitations
from app.routes.invitation_flow import send_invitation
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


@router.get("/team")
def team_page(request: Request) -> Response:
    with company_transaction(request, read_only=True) as (conn, viewer):
        members = people.members(conn, viewer.organization_id)
        context = {
            "viewer": viewer,
            "organization": company.organization(conn),
            "members": members,
            "acceptance": company.acceptance(conn, [m["id"] for m in members]),
            "invitations": invitations.invitations(conn, viewer.organization_id),
            "roles": CLIENT_ROLES,
        }
    return render(request, "team/index.html", context)


@router.post("/team/invite")
def invite(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    first_name: Annotated[str, Form(max_length=100)],
    surname: Annotated[str, Form(max_length=100)],
    role: Annotated[ClientRole, Form()] = "client_member",
) -> Response:
    with company_transaction(request, read_only=True) as (_conn, viewer):
        org_id = viewer.organization_id
    send_invitation(
        request,
        company_transaction,
        email=email,
        organization_id=org_id,
        role=role,
        first_name=first_name,
        surname=surname,
    )
    return RedirectResponse("/team", status_code=303)


@router.post("/team/invitations/{invitation_id}/cancel")
def cancel_invitation(request: Request, invitation_id: uuid.UUID) -> Response:
    with company_transaction(request) as (conn, _viewer):
        if not invitations.cancel_invitation(conn, invitation_id):
            raise HTTPException(404, N_("This invitation does not exist any more."))
    return RedirectResponse("/team", status_code=303)


@router.post("/team/people/{person_id}/role")
def change_role(request: Request, person_id: uuid.UUID, role: Annotated[ClientRole, Form()]) -> Response:
    with company_transaction(request) as (conn, viewer):
        if person_id == viewer.user_id:
            raise HTTPException(
                409, N_("You cannot change your own role: ask another administrator of your company.")
            )
        if company.member(conn, person_id) is None or not company.set_role(conn, person_id, role):
            raise HTTPException(404, NOT_A_COLLEAGUE)
    return RedirectResponse("/team", status_code=303)


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
    return RedirectResponse("/team", status_code=303)


@router.post("/team/sharing")
def set_sharing(request: Request, shared: Annotated[bool, Form()] = False) -> Response:
    with company_transaction(request) as (conn, _viewer):
        company.set_sharing(conn, shared)
    return RedirectResponse("/team", status_code=303)
