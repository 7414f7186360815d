"""What the project owner may revoke on hosted Supabase, replayed locally (db/README.md, "API roles and table
privileges").

On Supabase, `postgres` is not a superuser, does not own `storage.objects` (supabase_storage_admin does, and
made the grants to the API roles) and only holds ALL on it WITH GRANT OPTION. Here a role `hosted_postgres`
stands in for it and `hosted_storage_admin` for Storage's role, in a migrated database. The point: a REVOKE
by the non-owner is silently a no-op, so migration 0360 must say what it could not revoke rather than look
as if it had, and the owner's own REVOKE (Storage's migration 0073, or the local superuser) is what works.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from db.tests.squashed import baseline_part

# 0360's statements, as the baseline (db/schema/0362_baseline.sql) keeps them for a new database.
HARDENING = baseline_part("0360_api_roles_no_ddl_privileges")


def can(conn: psycopg.Connection, role: str, privilege: str) -> bool:
    return conn.execute(
        "select has_table_privilege(%s, 'storage.objects', %s)", (role, privilege)
    ).fetchone()[0]


@pytest.fixture
def hosted(db: psycopg.Connection) -> Iterator[tuple[psycopg.Connection, str]]:
    """storage.objects as on a Supabase project whose Storage predates its migration 0073; yields the
    connection and the name of the role standing in for hosted `postgres` (roles are cluster-wide: unique)."""
    tag = uuid.uuid4().hex[:8]
    owner, project = f"hosted_storage_admin_{tag}", f"hosted_postgres_{tag}"
    db.execute(f"create role {owner} nologin")
    db.execute(f"create role {project} nologin")
    try:
        db.execute(f"alter table storage.objects owner to {owner}")
        db.execute(f"grant usage on schema storage, public, private to {project}, {owner}")
        db.execute(f"set role {owner}")
        db.execute("grant all on storage.objects to anon, authenticated, service_role")
        db.execute(f"grant all on storage.objects to {project} with grant option")
        db.execute("reset role")
        yield db, project
    finally:
        db.execute("reset role")
        db.execute("alter table storage.objects owner to postgres")
        db.execute(f"drop owned by {project}, {owner}")
        db.execute(f"drop role {project}")
        db.execute(f"drop role {owner}")


def test_a_revoke_by_a_role_that_only_holds_the_grant_option_changes_nothing(hosted):
    conn, project = hosted
    conn.execute(f"set role {project}")
    conn.execute("revoke trigger, truncate, references on storage.objects from anon, authenticated")
    conn.execute("reset role")
    assert can(conn, "authenticated", "trigger") and can(conn, "anon", "truncate")


def test_0360_run_as_the_hosted_owner_warns_about_what_it_may_not_revoke(hosted):
    conn, project = hosted
    warnings: list[str] = []
    conn.add_notice_handler(
        lambda diag: warnings.append(diag.message_primary or "") if diag.severity == "WARNING" else None
    )
    with conn.transaction(force_rollback=True):
        conn.execute(f"set local role {project}")
        conn.execute(HARDENING)
    assert any("storage.objects" in w and "still hold" in w for w in warnings), warnings
    assert any("TEMP on database" in w for w in warnings), warnings  # not the database's owner either
    assert can(conn, "authenticated", "trigger") and can(conn, "authenticated", "truncate")


def test_0360_run_by_the_owners_side_revokes_them(hosted):
    """Locally the migration runs as the superuser, which revokes as the owner, as Storage's 0073 does."""
    conn, _ = hosted
    with conn.transaction(force_rollback=True):
        conn.execute(HARDENING)
        assert not any(
            can(conn, role, privilege)
            for role in ("anon", "authenticated")
            for privilege in ("trigger", "truncate", "references", "maintain")
        )
        assert can(conn, "authenticated", "delete")  # row access stays: the policies decide
