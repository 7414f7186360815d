"""Organizations and contracts, their members and invitations, NexK staff, and agent assignments."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app import flash
from app.auth import AuthError, AuthRateLimited
from app.confirmation import ask_first, is_confirmed
from app.form_errors import FieldError, FormRefused, database_error
from app.i18n import N_, _
from app.queries import admin as q
from app.queries import invitations
from app.routes.admin.common import admin_transaction, back_to, parse_date, parse_uuid
from app.routes.invitation_flow import count_invitation_sent, invitation_problems, send_invitation
from app.web import render

router = APIRouter()
NOT_FOUND = "This organization does not exist."
CLIENT_ROLES = ("client_member", "client_admin")
PERSON_NOT_FOUND = N_("This person does not exist.")
ALREADY_ACCEPTED = N_(
    "{email} has already accepted the invitation and signs in with their own password: if they forgot it, they "
    'use "Forgot your password?" on the sign-in page.'
)


@router.get("/admin")
def admin_home(request: Request) -> Response:
    with admin_transaction(request, read_only=True) as (_, viewer):
        pass
    return render(request, "admin/index.html", {"viewer": viewer})


@router.get("/admin/organizations")
def organization_list(request: Request) -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        context = {"viewer": viewer, "organizations": q.organizations(conn), "plans": q.sla_plans(conn)}
    return render(request, "admin/organizations.html", context)


def _org_form(
    name: str, enterprise_number: str, contract_start: str, contract_end: str, sla_plan_id: str, shared: bool
) -> dict[str, Any]:
    """The submitted values as typed (what a refused form shows again)."""
    return {
        "name": name,
        "enterprise_number": enterprise_number,
        "contract_start": contract_start,
        "contract_end": contract_end,
        "sla_plan_id": sla_plan_id,
        "shared_tickets": shared,
    }


def _org_values(form: dict[str, Any]) -> dict[str, object]:
    """The organization row to write, or FormRefused naming every field to fix (in the viewer's language:
    called inside the admin's transaction, once the profile's language is known)."""
    errors: list[FieldError] = []
    name = form["name"].strip()
    if not 1 <= len(name) <= 200:
        errors.append(FieldError("name", _("Name: write between 1 and 200 characters.")))
    if not form["enterprise_number"].strip():
        errors.append(
            FieldError("enterprise_number", _("Enterprise number: write the 10 digits, e.g. 0123.456.749."))
        )
    start = end = plan = None
    try:
        start = parse_date(form["contract_start"], "contract_start")
        if start is None:
            errors.append(
                FieldError(
                    "contract_start", _("Contract start: the contract needs a start date (YYYY-MM-DD).")
                )
            )
    except FormRefused as exc:
        errors += exc.errors
    try:
        end = parse_date(form["contract_end"], "contract_end")
    except FormRefused as exc:
        errors += exc.errors
    try:
        plan = parse_uuid(form["sla_plan_id"], "sla_plan_id")
    except FormRefused as exc:
        errors += exc.errors
    if start and end and end < start:
        errors.append(
            FieldError("contract_end", _("Contract end: the end date must be on or after the start date."))
        )
    if errors:
        raise FormRefused(errors)
    return {
        "name": name,
        "enterprise_number": form["enterprise_number"].strip(),
        "contract_start": start,
        "contract_end": end,
        "sla_plan_id": plan,
        "shared_tickets": form["shared_tickets"],
    }


def _save(conn: psycopg.Connection[Any], org_id: uuid.UUID | None, form: dict[str, Any]) -> uuid.UUID:
    """Write the organization in a savepoint; a refused value becomes FormRefused (the page can re-render)."""
    values = _org_values(form)
    try:
        with conn.transaction():
            return q.save_organization(conn, org_id, values)
    except (psycopg.errors.CheckViolation, psycopg.errors.UniqueViolation) as exc:
        raise FormRefused([database_error(exc)]) from None


@router.post("/admin/organizations")
def create_organization(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    enterprise_number: Annotated[str, Form(max_length=20)] = "",
    contract_start: Annotated[str, Form(max_length=10)] = "",
    sla_plan_id: Annotated[str, Form(max_length=36)] = "",
    contract_end: Annotated[str, Form(max_length=10)] = "",
    shared_tickets: Annotated[bool, Form()] = False,
) -> Response:
    form = _org_form(name, enterprise_number, contract_start, contract_end, sla_plan_id, shared_tickets)
    with admin_transaction(request) as (conn, viewer):
        try:
            org_id = _save(conn, None, form)
        except FormRefused as exc:
            context = {
                "viewer": viewer,
                "organizations": q.organizations(conn),
                "plans": q.sla_plans(conn),
                "new_form": form,
                "new_errors": exc.errors,
            }
            return render(request, "admin/organizations.html", context, status_code=422)
    response = RedirectResponse(f"/admin/organizations/{org_id}", status_code=303)
    flash.confirm(request, response, "organization_created")
    return response


def _people(conn: psycopg.Connection[Any], org_id: uuid.UUID | None, resent: str) -> dict[str, Any]:
    """The member list of a page with each person's acceptance of their invitation, pending invitations, and
    the person whose invitation was just sent again (`?resent=<id>` after the redirect)."""
    members = q.members(conn, org_id)
    return {
        "members": members,
        "acceptance": invitations.acceptance(conn, [m["id"] for m in members]),
        "invitations": invitations.invitations(conn, org_id),
        "resent": next((m for m in members if str(m["id"]) == resent), None),
    }


@router.get("/admin/organizations/{org_id}")
def organization_page(request: Request, org_id: uuid.UUID, resent: str = "") -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        org = q.organization(conn, org_id)
        if org is None:
            raise HTTPException(404, NOT_FOUND)
        context = {
            "viewer": viewer,
            "org": org,
            "plans": q.sla_plans(conn),
            **_people(conn, org_id, resent),
            "roles": CLIENT_ROLES,
        }
    return render(request, "admin/organization.html", context)


@router.post("/admin/organizations/{org_id}")
def update_organization(
    request: Request,
    org_id: uuid.UUID,
    name: Annotated[str, Form(max_length=200)] = "",
    enterprise_number: Annotated[str, Form(max_length=20)] = "",
    contract_start: Annotated[str, Form(max_length=10)] = "",
    sla_plan_id: Annotated[str, Form(max_length=36)] = "",
    contract_end: Annotated[str, Form(max_length=10)] = "",
    shared_tickets: Annotated[bool, Form()] = False,
) -> Response:
    form = _org_form(name, enterprise_number, contract_start, contract_end, sla_plan_id, shared_tickets)
    with admin_transaction(request) as (conn, viewer):
        org = q.organization(conn, org_id)
        if org is None:
            raise HTTPException(404, NOT_FOUND)
        try:
            _save(conn, org_id, form)
        except FormRefused as exc:
            context = {
                "viewer": viewer,
                "org": org,
                "org_form": form,
                "org_errors": exc.errors,
                "plans": q.sla_plans(conn),
                **_people(conn, org_id, ""),
                "roles": CLIENT_ROLES,
            }
            return render(request, "admin/organization.html", context, status_code=422)
    response = RedirectResponse(f"/admin/organizations/{org_id}", status_code=303)
    flash.confirm(request, response, "organization_saved")
    return response


@router.get("/admin/staff")
def staff_page(request: Request, resent: str = "") -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        context = {"viewer": viewer, "org": None, **_people(conn, None, resent), "roles": ("agent", "admin")}
    return render(request, "admin/staff.html", context)


@router.post("/admin/people/invite")
def invite(
    request: Request,
    email: Annotated[str, Form(max_length=1000)] = "",
    first_name: Annotated[str, Form(max_length=1000)] = "",
    surname: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    organization_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """Invite a person without any key that bypasses RLS (docs/admin.md, "Invitations"), through the flow
    client admins use too (app/routes/invitation_flow.py), in the admin's RLS transaction."""
    if role not in q.ROLES:
        raise HTTPException(422, N_("Role: choose a role from the list."))
    org_id = parse_uuid(organization_id, "organization_id") if role in CLIENT_ROLES else None
    back = f"/admin/organizations/{org_id}" if org_id else "/admin/staff"
    kept = {"email": email, "first_name": first_name, "surname": surname, "role": role}
    refused = _invitation_problems(request, org_id, kept)
    if refused is not None:
        return refused
    try:
        send_invitation(
            request,
            admin_transaction,
            email=email,
            organization_id=org_id,
            role=role,
            first_name=first_name,
            surname=surname,
        )
    except HTTPException as exc:
        if exc.status_code != 409:  # already invited or has an account: said above the kept form
            raise
        with admin_transaction(request, read_only=True) as (conn, viewer):
            errors = [FieldError("email", str(exc.detail))]
            return _invitation_form_again(request, conn, viewer, org_id, kept, errors, 409)
    response = RedirectResponse(back, status_code=303)
    flash.confirm(request, response, "invitation_sent")
    return response


def _invitation_problems(request: Request, org_id: uuid.UUID | None, kept: dict[str, str]) -> Response | None:
    """The invitation form again (422, values kept, messages in the admin's language) when a field is wrong."""
    with admin_transaction(request, read_only=True) as (conn, viewer):
        errors = invitation_problems(kept)
        if not errors:
            return None
        return _invitation_form_again(request, conn, viewer, org_id, kept, errors, 422)


def _invitation_form_again(
    request: Request,
    conn: psycopg.Connection[Any],
    viewer: Any,
    org_id: uuid.UUID | None,
    kept: dict[str, str],
    errors: list[FieldError],
    status_code: int,
) -> Response:
    """The page of the invitation form with the values kept and the messages above the form."""
    context: dict[str, Any] = {
        "viewer": viewer,
        "invite_form": kept,
        "invite_errors": errors,
        **_people(conn, org_id, ""),
    }
    if org_id is None:
        context |= {"org": None, "roles": ("agent", "admin"), "form_page_url": "/admin/staff"}
        return render(request, "admin/staff.html", context, status_code=status_code)
    org = q.organization(conn, org_id)
    if org is None:
        raise HTTPException(404, NOT_FOUND)
    context |= {
        "org": org,
        "plans": q.sla_plans(conn),
        "roles": CLIENT_ROLES,
        "form_page_url": f"/admin/organizations/{org_id}",
    }
    return render(request, "admin/organization.html", context, status_code=status_code)


@router.post("/admin/invitations/{invitation_id}/cancel")
def cancel_invitation(
    request: Request,
    invitation_id: uuid.UUID,
    back: Annotated[str, Form(max_length=200)] = "/admin/staff",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    with admin_transaction(request) as (conn, viewer):
        if not is_confirmed(confirmed):
            return ask_first(
                request,
                viewer,
                question=_("Cancel this invitation?"),
                consequence=_("The link already sent stops working. You can invite the person again later."),
                button=_("Cancel the invitation"),
                fields={"back": back_to(back)},
                back=back_to(back),
            )
        if not invitations.cancel_invitation(conn, invitation_id):
            raise HTTPException(404, N_("This invitation does not exist any more."))
    response = RedirectResponse(back_to(back), status_code=303)
    flash.confirm(request, response, "invitation_cancelled")
    return response


@router.post("/admin/people/{person_id}/resend-invitation")
def resend_invitation(
    request: Request,
    person_id: uuid.UUID,
    back: Annotated[str, Form(max_length=200)] = "/admin/staff",
) -> Response:
    """Send a person who has not accepted their invitation a fresh link (the old one stops working), e.g.
    when it expired or got lost (docs/admin.md, "Invitations"). The audit entry is written in the admin's
    transaction, which commits only once the auth service accepted; the auth service is asked from inside it."""
    target = back_to(back)
    with admin_transaction(request) as (conn, _viewer):
        count_invitation_sent(request)  # once the caller is known to be an admin
        person = invitations.invitee(conn, person_id)
        if person is None:
            raise HTTPException(404, PERSON_NOT_FOUND)
        if person["deactivated_at"] is not None:
            message = _(
                "{email} is deactivated: reactivate them first, then send the invitation again.",
                email=person["email"],
            )
            raise HTTPException(409, message)
        try:
            address = invitations.record_resend(conn, person_id)
        except psycopg.errors.ObjectNotInPrerequisiteState:
            raise HTTPException(409, _(ALREADY_ACCEPTED, email=person["email"])) from None
        except psycopg.errors.NoDataFound:
            raise HTTPException(404, PERSON_NOT_FOUND) from None
        try:
            request.app.state.auth.resend_invitation(address)
        except AuthRateLimited as exc:
            raise HTTPException(429, _(str(exc))) from None
        except AuthError as exc:
            message = _(
                "The invitation for {email} was not sent again: {reason}", email=address, reason=_(str(exc))
            )
            raise HTTPException(502, message) from None
    return RedirectResponse(f"{target.split('?')[0]}?resent={person_id}", status_code=303)


@router.post("/admin/people/{person_id}/access")
def set_access(
    request: Request,
    person_id: uuid.UUID,
    active: Annotated[bool, Form()] = False,
    back: Annotated[str, Form(max_length=200)] = "/admin/staff",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    with admin_transaction(request) as (conn, viewer):
        if not active and not is_confirmed(confirmed):  # reactivating takes one click, deactivating two
            person = invitations.invitee(conn, person_id)
            if person is None:
                raise HTTPException(404, PERSON_NOT_FOUND)
            return ask_first(
                request,
                viewer,
                question=_("Deactivate {email}?", email=person["email"]),
                consequence=_(
                    "This person can no longer sign in to myNexK until an administrator reactivates them. "
                    "Their tickets and messages stay."
                ),
                button=_("Deactivate"),
                fields={"back": back_to(back)},
                back=back_to(back),
            )
        if not q.set_deactivated(conn, person_id, not active):
            raise HTTPException(404, PERSON_NOT_FOUND)
    response = RedirectResponse(back_to(back), status_code=303)
    flash.confirm(request, response, "access_changed")
    return response


@router.get("/admin/assignments")
def assignments_page(request: Request) -> Response:
    with admin_transaction(request, read_only=True) as (conn, viewer):
        context = {
            "viewer": viewer,
            "assignments": q.assignments(conn),
            "agents": q.agents(conn),
            "organizations": q.organizations(conn),
        }
    return render(request, "admin/assignments.html", context)


@router.post("/admin/assignments")
def add_assignment(
    request: Request,
    agent_id: Annotated[str, Form(max_length=36)],
    organization_id: Annotated[str, Form(max_length=36)],
) -> Response:
    agent, org = parse_uuid(agent_id, "agent_id"), parse_uuid(organization_id, "organization_id")
    with admin_transaction(request) as (conn, _):
        q.assign(conn, agent, org)
    response = RedirectResponse("/admin/assignments", status_code=303)
    flash.confirm(request, response, "assignment_added")
    return response


@router.post("/admin/assignments/delete")
def delete_assignment(
    request: Request,
    agent_id: Annotated[str, Form(max_length=36)],
    organization_id: Annotated[str, Form(max_length=36)],
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    agent, org = parse_uuid(agent_id, "agent_id"), parse_uuid(organization_id, "organization_id")
    with admin_transaction(request) as (conn, viewer):
        if not is_confirmed(confirmed):
            found = [a for a in q.assignments(conn) if (a["agent_id"], a["organization_id"]) == (agent, org)]
            if not found:
                raise HTTPException(404, N_("This assignment does not exist any more."))
            return ask_first(
                request,
                viewer,
                question=_(
                    "Remove {agent} from {organization}?",
                    agent=found[0]["agent_name"],
                    organization=found[0]["organization_name"],
                ),
                consequence=_(
                    "The agent no longer sees this organization's tickets and is no longer told about new ones."
                ),
                button=_("Remove the assignment"),
                fields={"agent_id": str(agent), "organization_id": str(org)},
                back="/admin/assignments",
            )
        q.unassign(conn, agent, org)
    response = RedirectResponse("/admin/assignments", status_code=303)
    flash.confirm(request, response, "assignment_removed")
    return response
