"""The Vercel Cron entry point: every 5 minutes Vercel calls GET /api/cron/notifications (vercel.json) with
`Authorization: Bearer $CRON_SECRET`; the portal's route hands that header to `run_cron()` and answers 401 on
CronAuthError, 503 on NotifierConfigError, 200 with `CronResult.as_dict()` otherwise.

One invocation = one SLA scan plus one outbox pass (`worker.run_once`, at most one batch), as role
`nexk_notifier` (NEXK_WORKER_DATABASE_URL). Overlapping invocations are safe: rows are claimed with
`for update skip locked` and a lease, and SLA alerts are idempotent per event.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg

from app.notifications.brevo_client import BREVO_API_URL, BrevoClient
from app.notifications.connection import NotifierConfigError, connect_notifier, notifier_dsn
from app.notifications.outbox import MailClient, RunStats
from app.notifications.templates import template_ids_from_env
from app.notifications.worker import ScanResult, run_once, sla_scan
from nexk import portal_env, routes

CRON_PATH = routes.NOTIFICATIONS_CRON_PATH
CRON_SECRET_VAR = portal_env.CRON_SECRET
REQUIRED_VARS = (
    portal_env.WORKER_DATABASE_URL,
    portal_env.BREVO_API_KEY,
    portal_env.BREVO_TEMPLATE_IDS,
    portal_env.PORTAL_URL,
)


class CronAuthError(Exception):
    """The request does not carry `Authorization: Bearer $CRON_SECRET`."""


@dataclass(frozen=True)
class CronResult:
    scan: ScanResult
    outbox: RunStats

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"scan": asdict(self.scan), "outbox": asdict(self.outbox)}


def verify(authorization: str | None, expected_secret: str | None) -> None:
    """Constant-time check of the bearer token; refuses everything while CRON_SECRET is unset."""
    if not expected_secret:
        raise CronAuthError(f"{CRON_SECRET_VAR} is not configured: refusing every cron call")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected_secret.encode()
    ):
        raise CronAuthError("missing or wrong bearer token")


def run_cron(
    authorization: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
    client: MailClient | None = None,
    connect: Callable[[str], psycopg.Connection] = connect_notifier,
) -> CronResult:
    """Authenticate, then scan SLAs and send one batch. `client`/`connect`/`now` are for tests."""
    env = os.environ if environ is None else environ
    verify(authorization, env.get(CRON_SECRET_VAR))
    missing = [name for name in REQUIRED_VARS if not env.get(name)]
    if client is not None and "BREVO_API_KEY" in missing:
        missing.remove("BREVO_API_KEY")
    if missing:
        raise NotifierConfigError(f"{', '.join(missing)} not set on the Vercel project (set by `pulumi up`)")
    dsn = notifier_dsn(env, local_fallback=False)
    moment = now or datetime.now(UTC)
    with connect(dsn) as conn:
        scan = sla_scan(conn, moment)
    mail = client or BrevoClient(
        api_key=env["BREVO_API_KEY"], base_url=env.get("BREVO_API_URL", BREVO_API_URL)
    )
    stats = run_once(
        lambda: connect(dsn),
        mail,
        moment,
        template_ids=template_ids_from_env(env["BREVO_TEMPLATE_IDS"]),
        portal_url=env["NEXK_PORTAL_URL"],
    )
    return CronResult(scan=scan, outbox=stats)
