"""`/dev/mail`: what the notifications worker "sent" into the local mail sink (dev only, admins only).

Production has no such page (404): e-mails go through Brevo there. The sink's files are outside the database,
so the page asks the RLS transaction only who the viewer is.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from app.notifications.sink import list_sent
from app.web import render, viewer_transaction

router = APIRouter()


@router.get("/dev/mail")
def mail_sink(request: Request) -> Response:
    if request.app.state.settings.is_prod:
        raise HTTPException(404, "There is no mail sink in production.")
    with viewer_transaction(request, read_only=True) as (_, viewer):
        if viewer.role != "admin":
            raise HTTPException(403, "The local mail sink is for NexK administrators.")
    return render(
        request,
        "dev/mail.html",
        {"viewer": viewer, "emails": list_sent(request.app.state.settings.mail_sink_dir)},
    )
