"""Apply the Supabase compatibility layer (`db/compat/supabase.sql`) to a plain PostgreSQL, never to Supabase."""

from __future__ import annotations

from pathlib import Path

import psycopg

COMPAT_SQL = Path(__file__).parent / "compat" / "supabase.sql"


def is_supabase(conn: psycopg.Connection) -> bool:
    """A real Supabase database has its platform roles; our emulation never creates them."""
    row = conn.execute(
        "select exists (select from pg_catalog.pg_roles"
        " where rolname in ('supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin'))"
    ).fetchone()
    return bool(row and row[0])


def ensure_compat(conn: psycopg.Connection, authenticator_password: str | None = None) -> bool:
    """Install or refresh the layer in one transaction; returns False (and does nothing) on Supabase."""
    if is_supabase(conn):
        return False
    with conn.transaction():
        # Two sessions applying the layer at once (parallel test workers) would race on CREATE ROLE.
        conn.execute("select pg_advisory_xact_lock(hashtext('nexk.compat'))")
        conn.execute(COMPAT_SQL.read_text())
        if authenticator_password is not None:
            conn.execute(
                psycopg.sql.SQL("alter role authenticator password {}").format(
                    psycopg.sql.Literal(authenticator_password)
                )
            )
    return True
