"""The portal's database login `nexk_portal` (db/schema/0375): it can become anon or authenticated and nothing else,
and the portal refuses to start over a login that could leave row level security behind (app/database.py).

Roles are cluster-wide and the test cluster is shared by parallel workers, so the refusal cases never touch
`nexk_portal` itself: each builds a login of its own exactly like it (LOGIN NOINHERIT, member of anon and
authenticated), grants it the fault, and drops it afterwards. The check reads whatever login the pool uses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World
from psycopg import sql
from psycopg.conninfo import make_conninfo

from app.database import Database, UnsafeLoginError
from db.testing import Server

PASSWORD = "login-test-" + uuid.uuid4().hex  # a throw-away login on the loopback test cluster


def as_portal_login(pg_server: Server, database: str) -> psycopg.Connection:
    return psycopg.connect(pg_server.portal_url(database), autocommit=True)


@pytest.mark.parametrize("role", ["service_role", "postgres", "authenticator", "supabase_auth_admin"])
def test_the_portal_login_cannot_set_role_to_anything_that_bypasses_rls(
    pg_server: Server, database: str, role: str
) -> None:
    with as_portal_login(pg_server, database) as conn:
        assert conn.execute("select session_user::text").fetchone() == ("nexk_portal",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        assert refused.value.sqlstate == "42501"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select set_config('role', %s, false)", (role,))


def test_the_portal_login_alone_reads_nothing_until_it_sets_a_role(pg_server: Server, database: str) -> None:
    """NOINHERIT: anon's and authenticated's privileges apply only after `set role`, as the request does."""
    with as_portal_login(pg_server, database) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select count(*) from public.tickets")


def test_the_portal_login_has_exactly_the_attributes_0375_gives_it(db: psycopg.Connection) -> None:
    row = db.execute(
        """select rolcanlogin, rolinherit, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolreplication,
                  rolpassword is not null,
                  array(select g.rolname::text from pg_auth_members as m join pg_roles as g on g.oid = m.roleid
                        where m.member = a.oid order by 1),
                  has_database_privilege(a.rolname, current_database(), 'temp')
           from pg_authid as a where a.rolname = 'nexk_portal'"""
    ).fetchone()
    assert row == (True, False, False, False, False, False, False, True, ["anon", "authenticated"], False)


def test_the_portal_login_becomes_authenticated_and_rls_decides_what_it_sees(
    pg_server: Server, database: str, db: psycopg.Connection, world: World
) -> None:
    every = {r[0] for r in db.execute("select subject from public.tickets")}
    assert "Secret project of B" in every  # the owner sees organization B's ticket
    with as_portal_login(pg_server, database) as conn, conn.transaction():
        conn.execute("set local role authenticated")
        conn.execute(
            "select set_config('request.jwt.claims', %s, true)",
            (json.dumps(world.people["admin_a"].claims()),),
        )
        seen = {r[0] for r in conn.execute("select subject from public.tickets")}
        assert conn.execute("select current_user::text").fetchone() == ("authenticated",)
    assert seen == {"Printer on fire", "VPN is slow"}  # organization A's, as its client admin


def test_the_portal_app_really_logs_in_as_nexk_portal(portal: TestClient) -> None:
    database: Database = portal.app.state.database  # type: ignore[attr-defined]
    with database.rls_transaction(None) as conn:
        row = conn.execute("select session_user::text as login, current_user::text as acting").fetchone()
    assert row == {"login": "nexk_portal", "acting": "anon"}
    assert portal.get("/auth/sign-in").status_code == 200


@pytest.fixture
def lookalike(pg_server: Server, database: str) -> Iterator[dict[str, Any]]:
    """A login built like nexk_portal (its own name, so parallel tests keep the real one intact); the test adds
    the fault. Roles it creates with `extra()` are dropped with it."""
    suffix = uuid.uuid4().hex[:10]
    login = f"nexk_portal_t{suffix}"
    extras: list[str] = []
    with psycopg.connect(pg_server.url, autocommit=True) as owner:
        owner.execute(
            sql.SQL("create role {} login noinherit password {}").format(
                sql.Identifier(login), sql.Literal(PASSWORD)
            )
        )
        owner.execute(sql.SQL("grant anon, authenticated to {}").format(sql.Identifier(login)))

        def extra(name: str) -> str:
            role = f"{name}_{suffix}"
            owner.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            extras.append(role)
            return role

        try:
            yield {
                "login": login,
                "owner": owner,
                "extra": extra,
                "dsn": make_conninfo(database, user=login, password=PASSWORD),
            }
        finally:
            for role in [login, *reversed(extras)]:
                owner.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def refusal(dsn: str) -> str:
    pool = Database(dsn, min_size=1, max_size=1)
    with pytest.raises(UnsafeLoginError) as refused:
        pool.open()
    pool.close()
    return str(refused.value)


def test_a_login_built_like_nexk_portal_starts_the_portal(lookalike: dict[str, Any]) -> None:
    pool = Database(lookalike["dsn"], min_size=1, max_size=1)
    pool.open()
    pool.close()


def test_the_portal_refuses_to_start_when_its_login_is_granted_service_role(
    lookalike: dict[str, Any],
) -> None:
    login = lookalike["login"]
    lookalike["owner"].execute(sql.SQL("grant service_role to {}").format(sql.Identifier(login)))
    message = refusal(lookalike["dsn"])
    assert f"{login} -> service_role: service_role has BYPASSRLS" in message
    assert "NEXK_PORTAL_DATABASE_URL" in message and f"revoke <role> from {login}" in message


def test_the_portal_refuses_to_start_when_a_chain_of_roles_leads_to_service_role(
    lookalike: dict[str, Any],
) -> None:
    """The chain is named link by link, so the membership to revoke can be read off the message."""
    login, owner = lookalike["login"], lookalike["owner"]
    middle = lookalike["extra"]("nexk_middle")
    owner.execute(sql.SQL("grant service_role to {}").format(sql.Identifier(middle)))
    owner.execute(sql.SQL("grant {} to {}").format(sql.Identifier(middle), sql.Identifier(login)))
    message = refusal(lookalike["dsn"])
    assert f"{login} -> {middle} -> service_role: service_role has BYPASSRLS" in message
    assert f"{login} -> {middle}: {middle} is neither anon nor authenticated" in message


def test_the_portal_refuses_a_login_that_reaches_any_other_role(lookalike: dict[str, Any]) -> None:
    """Not only RLS bypass: any role beyond anon and authenticated (here pg_read_all_data, SELECT on every table
    the API roles are denied) widens what one injected statement can do."""
    login = lookalike["login"]
    lookalike["owner"].execute(sql.SQL("grant pg_read_all_data to {}").format(sql.Identifier(login)))
    message = refusal(lookalike["dsn"])
    assert f"{login} -> pg_read_all_data: pg_read_all_data is neither anon nor authenticated" in message


def test_the_portal_refuses_to_start_when_its_url_names_authenticator(
    pg_server: Server, database: str
) -> None:
    message = refusal(
        make_conninfo(database, user="authenticator", password=pg_server.authenticator_password)
    )
    assert "login `authenticator`" in message
    assert "authenticator -> service_role: service_role has BYPASSRLS" in message
    assert "must log in as `nexk_portal`" in message
