"""The security measures the policy promises, proved on a freshly migrated database."""

from __future__ import annotations

import psycopg

from db import testing_world as make


def test_every_public_table_has_row_level_security_enabled_and_forced(db: psycopg.Connection) -> None:
    rows = db.execute(
        "select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_catalog.pg_class as c"
        " where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' order by 1"
    ).fetchall()
    assert len(rows) >= 10
    assert [name for name, enabled, forced in rows if not (enabled and forced)] == []


def test_changing_a_profile_writes_an_access_log_entry_naming_the_columns(db: psycopg.Connection) -> None:
    user = make.person(db, "agent@nexk-it.com", "agent", first_name="Ada", surname="Agent")
    db.execute("update public.profiles set phone = '+32 470 12 34 56' where id = %s", (user,))
    entries = db.execute(
        "select action, object_table, changed_columns from public.audit_log where object_id = %s order by created_at, action",
        (user,),
    ).fetchall()
    assert ("insert", "profiles", None) in entries
    assert ("update", "profiles", ["phone"]) in entries
