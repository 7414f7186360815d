"""Destructive actions take two steps, without JavaScript: the first POST (the button in a list) changes
nothing and answers a page that says what will happen, with the same form again plus `confirmed=yes` and a
way back; only that second POST acts. A stray click, a double-tap on a phone or a resubmitted form therefore
never deactivates, erases or removes anything on its own.

Routes add a `confirmed` form field and call `ask_first(...)` when it is missing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import Response

from app.web import render

CONFIRMED = "yes"


def is_confirmed(value: str) -> bool:
    return value == CONFIRMED


def ask_first(
    request: Request,
    viewer: Any,
    *,
    question: str,
    consequence: str,
    button: str,
    fields: Mapping[str, str] | None = None,
    back: str,
) -> Response:
    """The confirmation page of the destructive POST being handled: its own URL is the form's target."""
    context = {
        "viewer": viewer,
        "question": question,
        "consequence": consequence,
        "button": button,
        "action": request.url.path,
        "fields": dict(fields or {}),
        "confirmed": CONFIRMED,
        "back": back,
    }
    return render(request, "confirm.html", context)
