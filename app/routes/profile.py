"""The profile screen: identity and contact fields and preferences a person may change on their own row
(role, organization and e-mail are not theirs to change: the database's guard refuses them)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app import flash
from app.i18n import N_, lazy_gettext
from app.queries import profiles
from app.web import render, viewer_transaction

router = APIRouter()

PHONE = re.compile(r"^\+?[0-9 ./()-]{6,25}$")


@router.get("/profile")
def profile_page(request: Request) -> Response:
    with viewer_transaction(request, read_only=True) as (_, viewer):
        pass
    return render(request, "profile.html", {"viewer": viewer, "form": viewer.profile})


@router.post("/profile")
def save_profile(
    request: Request,
    first_name: Annotated[str, Form(max_length=1000)],
    surname: Annotated[str, Form(max_length=1000)],
    position: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=1000)] = "",
    language: Annotated[Literal["en", "fr", "nl"], Form()] = "en",
    theme: Annotated[Literal["light", "dark", "system"], Form()] = "system",
    notify_ticket_replies: Annotated[bool, Form()] = False,
    notify_status_changes: Annotated[bool, Form()] = False,
    notify_sla_alerts: Annotated[bool, Form()] = False,
) -> Response:
    form: dict[str, Any] = {
        "first_name": first_name.strip(),
        "surname": surname.strip(),
        "position": position.strip() or None,
        "phone": phone.strip() or None,
        "language": language,
        "theme": theme,
        "notify_ticket_replies": notify_ticket_replies,
        "notify_status_changes": notify_status_changes,
        "notify_sla_alerts": notify_sla_alerts,
    }
    # Checked before the transaction, shown after it: translated when the page renders (the viewer's language).
    errors = []
    for field, label in (("first_name", N_("First name")), ("surname", N_("Surname"))):
        if not 1 <= len(form[field] or "") <= 100:
            errors.append(lazy_gettext("{field}: between 1 and 100 characters.", field=lazy_gettext(label)))
    if form["position"] and len(form["position"]) > 100:
        errors.append(lazy_gettext("Position: at most 100 characters."))
    if form["phone"] and not PHONE.match(form["phone"]):
        errors.append(
            lazy_gettext(
                "Phone: digits, spaces and + . / ( ) - only, 6 to 25 characters (e.g. +32 2 123 45 67)."
            )
        )
    with viewer_transaction(request) as (conn, viewer):
        if errors:
            shown = {**viewer.profile, **form}
            return render(
                request, "profile.html", {"viewer": viewer, "form": shown, "errors": errors}, status_code=422
            )
        profiles.update_me(conn, form)
    response = RedirectResponse("/profile", status_code=303)
    flash.confirm(request, response, "profile_saved")
    return response
