"""Vercel Cron: `GET /api/cron/notifications` every 5 minutes with `Authorization: Bearer $CRON_SECRET`.

One SLA scan plus one outbox pass as role `nexk_notifier` (NEXK_WORKER_DATABASE_URL), never through the
request pool; app.notifications.cron owns the contract (401 without the secret, 503 when misconfigured).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.notifications.connection import NotifierConfigError
from app.notifications.cron import CRON_PATH, CronAuthError, run_cron

router = APIRouter()


@router.get(CRON_PATH)
async def notifications_cron(request: Request) -> JSONResponse:
    authorization = request.headers.get("authorization")
    try:
        result = await run_in_threadpool(run_cron, authorization)
    except CronAuthError as exc:
        raise HTTPException(401, f"Cron call refused: {exc}.") from None
    except NotifierConfigError as exc:
        raise HTTPException(503, str(exc)) from None
    return JSONResponse(result.as_dict())
