"""Brevo's delivery webhook: `POST /api/webhooks/brevo` with `Authorization: Bearer $BREVO_WEBHOOK_TOKEN`.

The route only does HTTP. The token is checked before any database work, then app.notifications.webhook
records the events on a connection of role `nexk_notifier` (NEXK_WORKER_DATABASE_URL): it bypasses no row
level security and is not the portal's request pool, which stays `nexk_portal` (docs/notifications.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.notifications import webhook
from app.notifications.connection import NotifierConfigError, connect_notifier, notifier_dsn
from nexk import portal_env

router = APIRouter()

TOKEN_VAR = portal_env.BREVO_WEBHOOK_TOKEN
MAX_BODY_BYTES = 1024 * 1024


@router.post(webhook.WEBHOOK_PATH)
async def brevo_webhook(request: Request) -> JSONResponse:
    authorization = request.headers.get("authorization")
    token = os.environ.get(TOKEN_VAR, "")
    try:
        webhook.verify(authorization, token)
    except webhook.WebhookAuthError as exc:
        raise HTTPException(401, f"Brevo webhook refused: {exc}.") from None
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HTTPException(413, "A Brevo webhook batch is at most 1 MB.")
    try:
        body: Any = json.loads(raw)
    except ValueError:
        raise HTTPException(
            400, "The webhook body must be JSON (one Brevo event or a list of them)."
        ) from None

    def record() -> int:
        with connect_notifier(notifier_dsn(local_fallback=False)) as conn:
            return webhook.handle(conn, authorization, body, token)

    try:
        matched = await run_in_threadpool(record)
    except NotifierConfigError as exc:
        raise HTTPException(503, str(exc)) from None
    return JSONResponse({"matched": matched})
