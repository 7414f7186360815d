"""Which database every command talks to: `NEXK_DATABASE_URL` when set, else the project's local cluster."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

from db.cluster import LocalCluster
from nexk.errors import NexkError
from nexk.portal_env import PORTAL_DATABASE_URL


def external_url() -> str | None:
    """An existing server chosen by the user (e.g. a Supabase branch database), if any."""
    return os.environ.get("NEXK_DATABASE_URL") or None


def database_url(start: bool = False) -> str:
    """The superuser/owner DSN used for migrations, seeding and tests.

    With `start`, the local cluster is started when it is not running (commands that obviously need the
    database, such as `migrate`, do this; read-only commands such as `url` do not).
    """
    url = external_url()
    if url:
        return url
    cluster = LocalCluster()
    if start:
        return cluster.start().url
    config = cluster.load_config()
    if config is None or not cluster.is_running():
        raise NexkError("The local database is not running: start it with `nexk db start` (or `make dev`).")
    return config.url


@contextmanager
def server_while_needed() -> Iterator[str]:
    """The owner DSN for a command that needs the server only while it runs (a scratch database to lint or
    cross-check): the local cluster is started if it is down and stopped again at the end, so `make test`,
    which runs such commands before the test suites, leaves no server behind. A cluster that was already
    running (the developer's `nexk dev`, a test session) stays up."""
    url = external_url()
    if url:
        yield url
        return
    cluster = LocalCluster()
    was_running = cluster.is_running()
    config = cluster.start()
    try:
        yield config.url
    finally:
        if not was_running:
            cluster.stop()


def portal_database_url() -> str:
    """The DSN the portal's request pool logs in with: the `nexk_portal` login (db/schema/0375), which may only
    set role anon or authenticated. `NEXK_PORTAL_DATABASE_URL` when set, else the local cluster's."""
    url = os.environ.get(PORTAL_DATABASE_URL)
    if url:
        return url
    if external_url():
        raise NexkError(
            f"NEXK_DATABASE_URL is set, so the portal needs {PORTAL_DATABASE_URL} too: the DSN of the "
            "`nexk_portal` login of that database (never `authenticator` or `postgres`: the portal refuses both)."
        )
    config = LocalCluster().load_config()
    if config is None:
        raise NexkError("The local database does not exist yet: run `nexk db start` (or `make dev`).")
    return config.portal_url


def connect(url: str | None = None, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection, turning an unreachable server into a message that says what to do."""
    import psycopg  # here, not at the top: every `nexk` command imports this module, `--help` included

    target = url or database_url()
    try:
        return psycopg.connect(target, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise NexkError(f"Cannot connect to the database: {str(exc).strip()}") from exc
