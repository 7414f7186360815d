"""Sending an invitation, shared by the NexK admin's member pages (app/routes/admin/organizations.py) and the
client admin's own company page (app/routes/team.py): one flow, whichever transaction the caller has.

No key that bypasses RLS (docs/admin.md, "Invitations"): the invitation is recorded in the inviter's RLS
transaction (the policies decide: an admin anyone, a client admin only their own organization's people), then
the auth backend asks the auth service for the account; its before-user-created hook accepts only the
invitation's nonce, and the database creates the profile from the invitation. If the auth service fails, the
invitation is deleted again.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from fastapi import HTTPException, Request

from app import i18n
from app.auth import AuthError
from app.form_errors import FieldError
from app.i18n import N_, _, ngettext
from app.queries import invitations
from app.rate_limits import Scope

# The check constraint of private.invitations.email (and of profiles.email).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ALREADY_HAS_ACCOUNT = N_("{email} already has an account: find the person in the member lists instead.")

# admin_transaction or the client admin's company_transaction: (request, read_only=...) -> (conn, viewer).
Transaction = Callable[..., AbstractContextManager[tuple[psycopg.Connection[Any], Any]]]


def invitation_problems(form: dict[str, str]) -> list[FieldError]:
    """What is wrong with an invitation form's e-mail address and names (empty when nothing), in the active
    language: both invitation forms (NexK admins' and client admins') re-render with these (422)."""
    errors = []
    address = form["email"].strip()
    if not EMAIL.fullmatch(address.lower()) or len(address) > 254:
        errors.append(FieldError("email", _("E-mail address: write an address like name@example.be.")))
    if not 1 <= len(form["first_name"].strip()) <= 100:
        errors.append(FieldError("first_name", _("First name: write between 1 and 100 characters.")))
    if not 1 <= len(form["surname"].strip()) <= 100:
        errors.append(FieldError("surname", _("Surname: write between 1 and 100 characters.")))
    return errors


def count_invitation_sent(request: Request) -> None:
    """Count one invitation (sent or sent again) against the signed-in inviter; 429 with Retry-After past the
    limit (db/schema/0373: 30 an hour), so that no one account, or a stolen session, spends the auth service's
    hourly e-mail budget that everyone's sign-in and reset mails share, or mails strangers in bulk."""
    attempt = request.app.state.rate_limits.attempt(
        Scope.INVITATION_SENDING, account=str(request.state.claims["sub"]), client_ip=None
    )
    if not attempt.admitted:
        minutes = attempt.minutes_to_wait
        message = ngettext(
            "Too many invitations sent. Wait {minutes} minute and try again.",
            "Too many invitations sent. Wait {minutes} minutes and try again.",
            minutes,
        ).format(minutes=minutes)
        raise HTTPException(429, message, headers={"Retry-After": str(attempt.retry_after)})


def send_invitation(
    request: Request,
    transaction: Transaction,
    *,
    email: str,
    organization_id: uuid.UUID | None,
    role: str,
    first_name: str,
    surname: str,
) -> None:
    """Invite one person; returns once the link is on its way. 422 for a malformed address, 409 when the
    address has an account or a pending invitation, 429 past the inviter's limit, 502 when the auth service
    failed (nothing saved)."""
    address = email.strip().lower()
    if not EMAIL.fullmatch(address):
        raise HTTPException(422, _("E-mail address: write an address like name@example.be."))
    count_invitation_sent(request)
    nonce = secrets.token_urlsafe(32)
    try:
        with transaction(request) as (conn, _viewer):
            invitation_id = invitations.add_invitation(
                conn,
                email=address,
                organization_id=organization_id,
                role=role,
                first_name=first_name.strip(),
                surname=surname.strip(),
                nonce=nonce,
            )
    except psycopg.errors.UniqueViolation as exc:
        raise HTTPException(409, _already_invited(request, transaction, address, exc)) from None
    try:
        request.app.state.auth.invite(address, nonce)
    except AuthError as exc:
        # Nothing half-written: the invitation goes, unless the account was created after all (a timeout
        # after GoTrue's commit), in which case the profile exists and the link is on its way.
        with transaction(request) as (conn, _viewer):
            invitations.cancel_invitation(conn, invitation_id)
            created = invitations.has_profile(conn, address)
        if not created:
            message = _(
                "The invitation for {email} was not sent and nothing was saved: {reason}",
                email=address,
                reason=_(str(exc)),
            )
            raise HTTPException(502, message) from None
        return
    with transaction(request) as (conn, _viewer):
        # Still there: the auth service created no account (the address got one in the meantime).
        unused = invitations.cancel_invitation(conn, invitation_id)
    if unused:
        raise HTTPException(409, _(ALREADY_HAS_ACCOUNT, email=address))


def _already_invited(
    request: Request, transaction: Transaction, address: str, exc: psycopg.errors.UniqueViolation
) -> str:
    """What to do about an address that has an account or a pending invitation (409)."""
    if exc.diag.constraint_name == "invitations_email_key":
        with transaction(request, read_only=True) as (conn, _viewer):
            pending = invitations.pending_invitation(conn, address)
        if pending is not None:
            return _(
                "{email} already has a pending invitation, valid until {expires}: cancel it in the list of "
                "pending invitations to send a new one.",
                email=address,
                expires=i18n.format_datetime(pending["expires_at"]),
            )
    return _(ALREADY_HAS_ACCOUNT, email=address)
