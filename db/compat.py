"""Apply the Supabase compatibility layer (`db/compat/supabase.sql`) to a plain PostgreSQL, never to Supabase."""

from __future__ import annotations

from pathlib import Path

import psycopg

COMPAT_SQL = Path(__file__).parent / "compat" / "supabase.sql"


# The comment the layer puts on the platform roles it emulates (supabase_auth_admin, for the auth hook).
COMPAT_ROLE_COMMENT = "nexk: Supabase compatibility layer (emulated GoTrue role)"
# The comment on schema `cron` when the layer emulates pg_cron's catalogue (the section at the end of the file;
# db/schema/0377_pg_cron.sql spells it too): only such a catalogue gets its runs recorded by `nexk retention run`.
EMULATED_CRON_COMMENT = "nexk: Supabase compatibility layer (emulated pg_cron catalogue)"


def is_supabase(conn: psycopg.Connection) -> bool:
    """A real Supabase database has its platform roles; our emulation creates only supabase_auth_admin, and
    marks it with a comment, so a platform role without that comment means Supabase."""
    row = conn.execute(
        "select exists (select from pg_catalog.pg_roles as r"
        " where r.rolname in ('supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin')"
        " and pg_catalog.shobj_description(r.oid, 'pg_authid') is distinct from %s)",
        (COMPAT_ROLE_COMMENT,),
    ).fetchone()
    return bool(row and row[0])


def is_emulated_cron(conn: psycopg.Connection) -> bool:
    """Whether schema `cron` is the layer's emulation of pg_cron (False with the real extension, or none)."""
    row = conn.execute(
        "select exists (select from pg_catalog.pg_namespace as n where n.nspname = 'cron'"
        " and pg_catalog.obj_description(n.oid, 'pg_namespace') = %s)",
        (EMULATED_CRON_COMMENT,),
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
