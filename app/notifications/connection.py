"""The one place the notifications code gets its database connection: the `nexk_notifier` role.

In production NEXK_WORKER_DATABASE_URL is the Supavisor URL of role `nexk_notifier` (set by `pulumi up` on the
Vercel project, sensitive). That role bypasses no row level security and is not granted to `authenticator`,
so the portal's request handlers keep their RLS-scoped pool (app/database.py) and only the cron route and the
Brevo webhook route open this connection. Locally, without the variable, the local cluster's owner is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import psycopg

DATABASE_URL_VAR = "NEXK_WORKER_DATABASE_URL"


class NotifierConfigError(Exception):
    """A variable the notifications entry points need is not set; the message names it."""


def notifier_dsn(environ: Mapping[str, str] | None = None, *, local_fallback: bool = True) -> str:
    """NEXK_WORKER_DATABASE_URL, or (locally, `local_fallback`) the local cluster's owner DSN."""
    env = os.environ if environ is None else environ
    explicit = env.get(DATABASE_URL_VAR)
    if explicit:
        return explicit
    if not local_fallback:
        raise NotifierConfigError(
            f"{DATABASE_URL_VAR} is not set: it is the nexk_notifier database URL `pulumi up` puts on the "
            "Vercel project (docs/notifications.md)"
        )
    from db.connection import database_url

    return database_url()


def connect_notifier(dsn: str) -> psycopg.Connection:
    """An autocommit connection (the outbox opens its own short transactions)."""
    return psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
