"""Vercel Cron routes, each called with `Authorization: Bearer $CRON_SECRET` (vercel.json `crons`).

- `GET /api/cron/notifications` every 5 minutes: one SLA scan plus one outbox pass as role `nexk_notifier`
  (NEXK_WORKER_DATABASE_URL), never through the request pool; app.notifications.cron owns the contract (401
  without the secret, 503 when misconfigured).
- `GET /api/cron/storage-sweep` hourly: the storage sweeper deletes the objects erasure and retention queued,
  signed in as its system account (app/storage_sweep.py); 401 without the secret, 503 when the account is not
  configured or cannot sign in, 502 when Storage refused a batch (it stays queued), 200 otherwise.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.notifications.connection import NotifierConfigError
from app.notifications.cron import CRON_PATH, CRON_SECRET_VAR, CronAuthError, run_cron, verify
from app.storage_sweep import SweeperError, session_for, sweep
from nexk.routes import STORAGE_SWEEP_PATH

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


@router.get(STORAGE_SWEEP_PATH)
async def storage_sweep_cron(request: Request) -> JSONResponse:
    try:
        verify(request.headers.get("authorization"), os.environ.get(CRON_SECRET_VAR))
    except CronAuthError as exc:
        raise HTTPException(401, f"Cron call refused: {exc}.") from None
    state = request.app.state
    try:
        session = await run_in_threadpool(session_for, state.settings, state.auth, state.verifier)
    except SweeperError as exc:
        raise HTTPException(503, f"Storage sweep not run: {exc}.") from None
    result = await run_in_threadpool(sweep, state.database, state.storage, session)
    return JSONResponse(result.as_dict(), status_code=502 if result.errors else 200)
