"""Flash confirmations: one short message on the page a successful action redirects to (Post/Redirect/Get).

The action sets a cookie naming one of the messages below (signed, so a page shows only what the server said
it did); the next full page rendered by `app.web.render` shows it translated in the viewer's language and
deletes the cookie. A key, never free text, travels in the cookie: nothing a person typed is echoed back.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from starlette.responses import Response

from app import i18n
from app.i18n import N_

COOKIE = "nexk_flash"
MESSAGES = {
    "ticket_created": N_("Your ticket was opened. We will answer you here and by e-mail."),
    "follow_up_created": N_("Your follow-up ticket was opened and linked to the closed one."),
    "reply_sent": N_("Your reply was sent."),
    "note_added": N_("Internal note added. The client does not see it."),
    "status_changed": N_("The status was changed."),
    "priority_changed": N_("The priority was changed."),
    "assignee_changed": N_("The assignee was changed."),
    "profile_saved": N_("Your profile was saved."),
    "organization_created": N_("The organization was created."),
    "organization_saved": N_("The organization was saved."),
    "invitation_sent": N_("The invitation was sent."),
    "invitation_cancelled": N_("The invitation was cancelled."),
    "access_changed": N_("The person's access was changed."),
    "role_changed": N_("The person's role was changed."),
    "sharing_saved": N_("Ticket sharing was saved."),
    "assignment_added": N_("The agent was assigned."),
    "assignment_removed": N_("The assignment was removed."),
    "sla_policy_saved": N_("The SLA targets were saved."),
    "hours_added": N_("The opening hours were added."),
    "hours_removed": N_("The opening hours were removed."),
    "holiday_added": N_("The closing day was added."),
    "holiday_removed": N_("The closing day was removed."),
}


def _signature(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), f"flash:{key}".encode(), hashlib.sha256).hexdigest()[:32]


def confirm(request: Request, response: Response, key: str) -> None:
    """Show MESSAGES[key] on the next page."""
    if key not in MESSAGES:
        raise KeyError(f"unknown flash message {key!r}")
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        f"{key}.{_signature(settings.session_secret, key)}",
        max_age=120,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def take(request: Request) -> str | None:
    """The pending confirmation in the request's language, or None (an unknown or forged cookie shows nothing)."""
    value = request.cookies.get(COOKIE)
    if not value or "." not in value:
        return None
    key, signature = value.rsplit(".", 1)
    if key not in MESSAGES or not hmac.compare_digest(
        signature, _signature(request.app.state.settings.session_secret, key)
    ):
        return None
    return i18n.gettext(MESSAGES[key])


def clear(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, httponly=True, samesite="lax", secure=request.app.state.settings.secure_cookies
    )
