"""The Supabase compatibility layer behaves like Supabase: roles, auth.*() semantics, default privileges."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from db.compat import ensure_compat, is_supabase
from db.testing import impersonate, jwt_claims


def scalar(conn: psycopg.Connection, query: str, params: tuple = ()) -> object:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize(
    ("role", "login", "inherit", "bypassrls"),
    [
        ("anon", False, False, False),
        ("authenticated", False, False, False),
        ("service_role", False, False, True),
        ("authenticator", True, False, False),
    ],
)
def test_api_roles_are_defined_as_on_supabase(db, role, login, inherit, bypassrls):
    row = db.execute(
        "select rolcanlogin, rolinherit, rolbypassrls from pg_roles where rolname = %s", (role,)
    ).fetchone()
    assert row == (login, inherit, bypassrls)


def test_authenticator_may_switch_to_each_api_role(db):
    members = {
        r[0]
        for r in db.execute(
            "select g.rolname from pg_auth_members as m join pg_roles as g on g.oid = m.roleid"
            " join pg_roles as u on u.oid = m.member where u.rolname = 'authenticator'"
        )
    }
    assert members == {"anon", "authenticated", "service_role"}


def test_auth_functions_read_the_json_claims(db):
    sub = uuid.uuid4()
    with impersonate(db, jwt_claims(sub, email="ana@example.be", aal="aal2")):
        assert scalar(db, "select auth.uid()") == sub
        assert scalar(db, "select auth.role()") == "authenticated"
        assert scalar(db, "select auth.email()") == "ana@example.be"
        assert scalar(db, "select auth.jwt() ->> 'aal'") == "aal2"


def test_the_legacy_per_claim_setting_wins_over_the_json_claims(db):
    json_sub, legacy_sub = uuid.uuid4(), uuid.uuid4()
    with impersonate(db, jwt_claims(json_sub)):
        db.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(legacy_sub),))
        db.execute("select set_config('request.jwt.claim.role', 'service_role', true)")
        assert scalar(db, "select auth.uid()") == legacy_sub
        assert scalar(db, "select auth.role()") == "service_role"


def test_an_unauthenticated_session_gets_null_from_every_auth_function(db):
    with impersonate(db, None):
        assert scalar(db, "select current_user") == "anon"
        assert scalar(db, "select auth.uid()") is None
        assert scalar(db, "select auth.email()") is None
        assert scalar(db, "select auth.jwt() ->> 'sub'") is None


def test_claims_left_empty_after_a_transaction_read_as_null_not_as_an_error(db):
    with db.transaction():
        db.execute(
            "select set_config('request.jwt.claims', %s, true)", ('{"sub": "' + str(uuid.uuid4()) + '"}',)
        )
        db.execute("select set_config('request.jwt.claim.sub', '', true)")
    # After the transaction the GUCs exist but hold '': nullif() turns them into NULL.
    assert scalar(db, "select current_setting('request.jwt.claims', true)") == ""
    assert scalar(db, "select auth.uid()") is None
    assert scalar(db, "select auth.jwt()") is None


def test_new_public_tables_are_fully_granted_to_the_api_roles_so_rls_is_the_only_barrier(db):
    db.execute("create table public.compat_probe (id int primary key)")
    privileges = {
        (r[0], r[1])
        for r in db.execute(
            "select grantee, privilege_type from information_schema.role_table_grants"
            " where table_schema = 'public' and table_name = 'compat_probe'"
        )
    }
    for role in ("anon", "authenticated", "service_role"):
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert (role, privilege) in privileges
    with impersonate(db, None):
        db.execute("insert into public.compat_probe values (1)")  # no RLS yet: anon may write
        assert scalar(db, "select count(*) from public.compat_probe") == 1


def test_new_public_functions_and_sequences_are_granted_to_the_api_roles(db):
    db.execute("create function public.compat_fn() returns int language sql as 'select 1'")
    db.execute("create sequence public.compat_seq")
    with impersonate(db, jwt_claims(uuid.uuid4())):
        assert scalar(db, "select public.compat_fn()") == 1
        assert scalar(db, "select nextval('public.compat_seq')") == 1


def test_running_the_layer_again_keeps_what_the_migrations_revoked_from_the_default_privileges(db):
    # 0360 revoked TRUNCATE, REFERENCES and TRIGGER on future public tables; the layer runs on every
    # migrate and, as Supabase sets its defaults only once, must not hand them back.
    assert ensure_compat(db) is True
    db.execute("create table public.compat_probe_again (id int primary key)")
    granted = {
        (r[0], r[1])
        for r in db.execute(
            "select grantee, privilege_type from information_schema.role_table_grants"
            " where table_schema = 'public' and table_name = 'compat_probe_again'"
        )
    }
    for role in ("anon", "authenticated"):
        assert {(role, p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")} <= granted
        assert not {(role, p) for p in ("TRUNCATE", "REFERENCES", "TRIGGER")} & granted


def test_api_roles_cannot_read_gotrue_tables(db):
    with impersonate(db, jwt_claims(uuid.uuid4())), pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("select * from auth.users")


def test_storage_foldername_returns_the_folders_of_an_object_path(db):
    assert scalar(db, "select storage.foldername('org/ticket/file.pdf')") == ["org", "ticket"]
    assert scalar(db, "select storage.filename('org/ticket/file.pdf')") == "file.pdf"
    assert scalar(db, "select storage.extension('org/ticket/file.pdf')") == "pdf"


def test_storage_objects_has_rls_on_like_supabase(db):
    assert scalar(db, "select relrowsecurity from pg_class where oid = 'storage.objects'::regclass") is True


def test_the_layer_is_idempotent(db):
    assert ensure_compat(db) is True
    assert ensure_compat(db) is True
    assert scalar(db, "select count(*) from pg_roles where rolname = 'anon'") == 1


def test_a_real_supabase_database_is_detected_and_left_untouched(db):
    # Roles are cluster-wide: create the marker role inside a transaction that is rolled back.
    with db.transaction(force_rollback=True):
        db.execute("create role supabase_admin nologin")
        db.execute("comment on schema auth is 'owned by the platform'")
        assert is_supabase(db)
        assert ensure_compat(db) is False
        assert scalar(db, "select obj_description('auth'::regnamespace)") == "owned by the platform"
    assert not is_supabase(db)
