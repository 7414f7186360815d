"""Data access: the one module that owns the connection pool and opens RLS-scoped transactions.

Every request runs as PostgREST runs one: a pooled connection, one transaction, `set local role authenticated`
(or `anon`), and the verified JWT's claims in the transaction-local `request.jwt.claims`. The pool logs in as
`nexk_portal` (db/schema/0375), not as PostgREST's `authenticator`: that one may also become service_role,
which bypasses RLS, so one SQL injection would have been enough to read everything. Before the first request
the pool proves, from the catalog, that its login reaches no role but anon and authenticated
(nexk/portal_login.py), and refuses to start otherwise (UnsafeLoginError). Nothing is ever set at session
level, so a pooled connection carries no identity from one request to the next (a session-level setting would
leak to the next request served on that connection). In production the pool points at Supabase's transaction
pooler (Supavisor), which cannot keep prepared statements: `prepare_threshold=None`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from app.timing import measure
from nexk.errors import NexkError
from nexk.portal_login import PORTAL_LOGIN, login_problems

_ROLES = ("authenticated", "anon")


class UnsafeLoginError(NexkError):
    """The pool's database login could leave row level security behind: the portal does not start."""


class Database:
    """The request pool. Route code never sees it: it asks for `rls_transaction(claims)`."""

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 10) -> None:
        # connection_class names the row type for the type checker (psycopg_pool's documented way).
        self._pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            dsn,
            connection_class=psycopg.Connection[DictRow],
            min_size=min_size,
            max_size=max_size,
            kwargs={"prepare_threshold": None, "row_factory": dict_row, "autocommit": False},
            open=False,
            name="nexk-portal",
        )

    def open(self) -> None:
        self._pool.open(wait=True, timeout=30)
        try:
            with self._pool.connection() as conn:
                _check_login_role(conn)
        except UnsafeLoginError:
            self._pool.close()  # no connection of an unsafe login stays open
            raise

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def rls_transaction(
        self,
        claims: Mapping[str, Any] | None,
        *,
        read_only: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[psycopg.Connection[DictRow]]:
        """One transaction as the caller: `authenticated` with its claims, or `anon` when claims is None.

        `headers` become `request.headers` (lower-case names, as PostgREST sets them): the audit log reads
        the client IP (`x-forwarded-for`) and `user-agent` from there. Commits when the block ends normally,
        rolls back on any exception.
        """
        role = "anon" if claims is None else str(claims.get("role", "authenticated"))
        if role not in _ROLES:
            raise PermissionError(f"unsupported JWT role {role!r}")
        payload = json.dumps(dict(claims) if claims is not None else {"role": "anon"})
        with measure("db"), self._pool.connection() as conn, conn.transaction():
            # One statement, as PostgREST does it: set_config(..., true) is `set local` (role included).
            conn.execute(
                """select set_config('role', %s, true),
                          set_config('request.jwt.claims', %s, true),
                          set_config('request.headers', %s, true),
                          set_config('transaction_read_only', %s, true)""",
                (role, payload, json.dumps(dict(headers or {})), "on" if read_only else "off"),
            )
            yield conn


def _check_login_role(conn: psycopg.Connection[DictRow]) -> None:
    """Refuse to serve requests over a login that bypasses RLS or can `set role` (through any chain of
    memberships) to anything but anon and authenticated: a superuser, service_role, postgres, authenticator."""
    row = conn.execute("select session_user::text as login").fetchone()
    login = str(row["login"]) if row else ""
    problems = login_problems(conn, login)
    conn.rollback()
    if problems:
        raise UnsafeLoginError(
            f"The portal refuses to start: its database login `{login}` could leave row level security behind.\n"
            + "".join(f"  - {problem}\n" for problem in problems)
            + f"The portal must log in as `{PORTAL_LOGIN}` (db/schema/0375), which may only set role anon or "
            "authenticated. Point NEXK_PORTAL_DATABASE_URL at that login (`pulumi up` sets it on Vercel; "
            f"locally `nexk dev` does); if `{login}` is that login, revoke the first membership of each chain "
            f"above (`revoke <role> from {login}`)."
        )
