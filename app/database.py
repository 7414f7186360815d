"""Data access: the one module that owns the connection pool and opens RLS-scoped transactions.

Every request runs exactly as PostgREST runs one: a pooled connection logged in as `authenticator` (which
cannot bypass RLS), one transaction, `set local role authenticated` (or `anon`), and the verified JWT's
claims in the transaction-local `request.jwt.claims`. Nothing is ever set at session level, so a pooled
connection carries no identity from one request to the next (rls.md §5.13). In production the pool points
at Supabase's transaction pooler (Supavisor), which cannot keep prepared statements: `prepare_threshold=None`.
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

_ROLES = ("authenticated", "anon")


class Database:
    """The request pool. Route code never sees it: it asks for `rls_transaction(claims)`."""

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 10) -> None:
        self._pool = ConnectionPool(
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
        with self._pool.connection() as conn:
            _check_login_role(conn)

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
    """Refuse to serve requests over a login that could bypass RLS (a superuser or BYPASSRLS role)."""
    row = conn.execute(
        "select rolsuper, rolbypassrls from pg_catalog.pg_roles where rolname = current_user"
    ).fetchone()
    conn.rollback()
    if row is None or row["rolsuper"] or row["rolbypassrls"]:
        raise RuntimeError(
            "the portal pool must log in as `authenticator`, never as a role that bypasses RLS"
        )
