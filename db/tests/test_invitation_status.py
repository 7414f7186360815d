"""The invitation wrappers of db/schema/0320: whether invited people accepted, and the audited resend, for an
admin at aal2 only. Callers are impersonated as PostgREST does (`db.testing.impersonate`) against
`small_world`, whose accounts have not confirmed their address unless a test confirms one."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from db.rls.model import Identity, World
from db.testing import impersonate, jwt_claims

STATUS = "select s.id, s.accepted from private.admin_invitation_status(%s::uuid[]) as s"
RESEND = "select private.admin_resend_invitation(%s)"


def user(world: World, label: str):
    return next(u for u in world.users if u.label == label)


def confirm(conn: psycopg.Connection, user_id: uuid.UUID) -> None:
    conn.execute("update auth.users set email_confirmed_at = now() where id = %s", (user_id,))


def sqlstate(conn: psycopg.Connection, sql: str, params: tuple) -> str | None:
    try:
        with conn.transaction():
            conn.execute(sql, params).fetchall()
    except psycopg.Error as e:
        return e.sqlstate
    return None


def test_an_admin_at_aal2_learns_who_accepted_and_nothing_about_other_ids(world_db) -> None:
    conn, w = world_db
    confirm(conn, user(w, "m1").id)
    asked = [*(u.id for u in w.users), uuid.uuid4()]

    with impersonate(conn, Identity(user(w, "ad")).claims()):
        rows = dict(conn.execute(STATUS, (asked,)).fetchall())

    profiled = {u.id for u in w.users if u.role is not None and not u.erased}
    assert set(rows) == profiled  # no row for the account without a profile (inv) or the unknown id
    assert rows[user(w, "m1").id] is True
    assert rows[user(w, "m2").id] is False
    assert conn.execute(
        "select pg_get_function_result('private.admin_invitation_status(uuid[])'::regprocedure)"
    ).fetchone() == ("TABLE(id uuid, accepted boolean, link_sent_at timestamp with time zone)",)


@pytest.mark.parametrize("label", ["m1", "ca", "ag", "ag1", "ad1", "dx", "inv", "admin at aal1", "anon"])
def test_the_invitation_wrappers_refuse_everyone_but_an_admin_at_aal2(world_db, label: str) -> None:
    conn, w = world_db
    pending = user(w, "m2")
    if label == "anon":
        claims = None
    elif label == "admin at aal1":
        claims = jwt_claims(user(w, "ad").id, aal="aal1")
    else:
        claims = Identity(user(w, label)).claims()

    with impersonate(conn, claims):
        assert sqlstate(conn, STATUS, ([pending.id],)) == "42501"
        assert sqlstate(conn, RESEND, (pending.id,)) == "42501"

    assert conn.execute(
        "select count(*) from public.audit_log where object_table = 'auth_users'"
    ).fetchone() == (0,)


def test_the_resend_wrapper_audits_a_pending_person_and_refuses_accepted_and_unknown_ones(world_db) -> None:
    conn, w = world_db
    admin, pending, accepted = user(w, "ad"), user(w, "m2"), user(w, "m1")
    confirm(conn, accepted.id)

    with impersonate(conn, Identity(admin).claims()):
        assert conn.execute(RESEND, (pending.id,)).fetchone() == (pending.email,)
        assert sqlstate(conn, RESEND, (accepted.id,)) == "55000"
        assert sqlstate(conn, RESEND, (uuid.uuid4(),)) == "P0002"
        assert sqlstate(conn, RESEND, (user(w, "inv").id,)) == "P0002"  # an account without a profile
        conn.execute("reset role")
        entries = conn.execute(
            "select actor_id, action, object_table, object_id, changed_columns from public.audit_log"
            " where object_table = 'auth_users'"
        ).fetchall()

    assert entries == [
        (admin.id, "update", "auth_users", pending.id, ["confirmation_sent_at", "confirmation_token"])
    ]


def test_the_caller_check_of_the_invitation_wrappers_is_not_callable_by_anyone_else(world_db) -> None:
    conn, w = world_db
    with impersonate(conn, Identity(user(w, "ad")).claims()):
        assert sqlstate(conn, "select private.require_admin_with_mfa()", ()) == "42501"
    assert conn.execute(
        "select has_function_privilege('authenticated', 'private.require_admin_with_mfa()', 'execute'),"
        " (select p.prosecdef from pg_catalog.pg_proc as p"
        "  where p.oid = 'private.require_admin_with_mfa()'::regprocedure)"
    ).fetchone() == (False, False)
