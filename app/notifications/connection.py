"""The one place the notifications code gets its database connection: the `nexk_notifier` role.

In production NEXK_WORKER_DATABASE_URL is the Supavisor URL of role `nexk_notifier` (set by `pulumi up` on the
Vercel project, sensitive). That role bypasses no row level security and is not granted to `authenticator` nor
to the portal's login `nexk_portal`, so the portal's request handlers keep their RLS-scoped pool (app/database.py) and only the cron route and the
Brevo webhook route open this connection. Locally, without the variable, the local cluster's owner is used.

This module has no notion of production, so the TLS rule follows the host: a DSN whose hosts are all this
machine (Unix socket, loopback, `localhost`) is used as given, as the local cluster has no TLS; any other host
gets `sslmode=verify-full` (Supabase's root certificate) and `ssl_min_protocol_version=TLSv1.3`, and a weaker
explicit setting is refused
(app/tls.py, the privacy policy's "TLS 1.3 encryption in transit").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import psycopg

from app.tls import require_tls_unless_local

DATABASE_URL_VAR = "NEXK_WORKER_DATABASE_URL"


class NotifierConfigError(Exception):
    """A variable the notifications entry points need is not set; the message names it."""


def notifier_dsn(environ: Mapping[str, str] | None = None, *, local_fallback: bool = True) -> str:
    """NEXK_WORKER_DATABASE_URL, or (locally, `local_fallback`) the local cluster's owner DSN; either with
    TLS 1.3 required unless it stays on this machine."""
    env = os.environ if environ is None else environ
    explicit = env.get(DATABASE_URL_VAR)
    if explicit:
        return require_tls_unless_local(explicit, name=DATABASE_URL_VAR)
    if not local_fallback:
        raise NotifierConfigError(
            f"{DATABASE_URL_VAR} is not set: it is the nexk_notifier database URL `pulumi up` puts on the "
            "Vercel project (docs/notifications.md)"
        )
    from db.connection import database_url

    # NEXK_DATABASE_URL may point this at a remote database (a Supabase branch): the same rule applies.
    return require_tls_unless_local(database_url(), name="NEXK_DATABASE_URL")


def connect_notifier(dsn: str) -> psycopg.Connection:
    """An autocommit connection (the outbox opens its own short transactions)."""
    return psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
