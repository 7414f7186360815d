"""Invitations without the service-role key (db/schema/0280, db/policies/invitations.sql): who may invite whom,
the before-user-created hook that gates every sign-up, and the auth.users triggers that turn a used
invitation into a profile. Callers are impersonated as PostgREST would run them; GoTrue is played by SQL run
as its own role, supabase_auth_admin, exactly as it calls a Postgres hook and inserts a user."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from db.compat import is_supabase
from db.rls.model import Identity, World
from db.testing import impersonate

INVITE = (
    "insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)"
    " values (%s, %s, %s, 'Nina', 'Newcomer', %s) returning id"
)


def nonce_and_hash() -> tuple[str, str]:
    nonce = secrets.token_urlsafe(32)
    return nonce, hashlib.sha256(nonce.encode()).hexdigest()


def claims_of(world: World, label: str) -> dict[str, object] | None:
    return Identity(next(u for u in world.users if u.label == label)).claims()


def user_id(world: World, label: str) -> uuid.UUID:
    return next(u.id for u in world.users if u.label == label)


def org_id(world: World, label: str) -> uuid.UUID:
    return next(o.id for o in world.orgs if o.label == label)


def sqlstate_of(conn: psycopg.Connection, sql: str, params: tuple = ()) -> str | None:
    """Run `sql` in a savepoint that is always rolled back; its SQLSTATE, or None when it succeeded."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def invite_as_owner(
    conn: psycopg.Connection,
    email: str,
    *,
    org: uuid.UUID | None,
    role: str = "client_member",
    expires_in: timedelta = timedelta(days=7),
) -> tuple[uuid.UUID, str]:
    """An invitation written directly (no caller): its id and the nonce the portal would have sent."""
    nonce, digest = nonce_and_hash()
    row = conn.execute(
        "insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash,"
        " created_at, expires_at) values (%s, %s, %s, 'Nina', 'Newcomer', %s, now() + %s - interval '7 days',"
        " now() + %s) returning id",
        (email, org, role, digest, expires_in, expires_in),
    ).fetchone()
    return row[0], nonce


def event(email: str | None, metadata: dict[str, object], *, user: uuid.UUID | None = None) -> dict:
    """The before-user-created payload, as Supabase Auth documents it."""
    return {
        "metadata": {
            "uuid": str(uuid.uuid4()),
            "time": datetime.now(UTC).isoformat(),
            "name": "before-user-created",
            "ip_address": "203.0.113.7",
        },
        "user": {
            "id": str(user or uuid.uuid4()),
            "aud": "authenticated",
            "role": "",
            "email": email or "",
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": metadata,
            "identities": [],
            "created_at": "0001-01-01T00:00:00Z",
            "updated_at": "0001-01-01T00:00:00Z",
            "is_anonymous": email is None,
        },
    }


@contextmanager
def as_gotrue(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """One transaction as Supabase Auth's own role (committed at the end, like a GoTrue request)."""
    with conn.transaction():
        conn.execute("set local role supabase_auth_admin")
        yield conn


def hook(conn: psycopg.Connection, payload: dict) -> dict:
    with as_gotrue(conn):
        return conn.execute("select private.hook_before_user_created(%s)", (Jsonb(payload),)).fetchone()[0]


def create_user(conn: psycopg.Connection, email: str, metadata: dict[str, object]) -> uuid.UUID:
    """What GoTrue's sign-up does once the hook said yes: insert the user as supabase_auth_admin."""
    new_id = uuid.uuid4()
    with as_gotrue(conn):
        conn.execute(
            "insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data,"
            " confirmation_token, confirmation_sent_at) values (%s, 'authenticated', 'authenticated', %s,"
            " %s, %s, 'hash-of-the-link', now())",
            (new_id, email, Jsonb({"provider": "email", "providers": ["email"]}), Jsonb(metadata)),
        )
    return new_id


# --- The hook: the only way to get an account -----------------------------------------------------------


def test_the_hook_lets_an_invited_address_with_its_nonce_create_an_account(world_db):
    conn, w = world_db
    _, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"))

    assert hook(conn, event("Nina@Example.test", {"nexk_invitation": nonce})) == {}


@pytest.mark.parametrize(
    ("case", "email", "metadata"),
    [
        ("password sign-up of the invited address without the nonce", "nina@example.test", {}),
        ("another key in the metadata", "nina@example.test", {"invitation": "NONCE"}),
        ("an empty nonce", "nina@example.test", {"nexk_invitation": ""}),
        ("a wrong nonce", "nina@example.test", {"nexk_invitation": "not-the-nonce"}),
        ("the right nonce for another address", "mallory@example.test", {"nexk_invitation": "NONCE"}),
        ("an anonymous sign-in (no e-mail) with the right nonce", None, {"nexk_invitation": "NONCE"}),
    ],
)
def test_the_hook_refuses_every_sign_up_without_the_nonce_of_a_pending_invitation_for_that_address(
    world_db, case, email, metadata
):
    conn, w = world_db
    _, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"))
    metadata = {k: (nonce if v == "NONCE" else v) for k, v in metadata.items()}

    verdict = hook(conn, event(email, metadata))

    assert verdict["error"]["http_code"] == 403, case
    assert "invit" in verdict["error"]["message"], case


def test_the_hook_lets_the_storage_sweeper_system_account_through_and_nothing_that_only_claims_it(world_db):
    """app_metadata is written only with the service-role key (ops' Admin API call); user_metadata by anyone."""
    conn, _ = world_db
    sweeper = event("storage-sweeper@my.nexk.test", {})
    sweeper["user"]["app_metadata"] = {
        "provider": "email",
        "providers": ["email"],
        "nexk_system": "storage_sweeper",
    }
    assert hook(conn, sweeper) == {}
    claimed = event("storage-sweeper@my.nexk.test", {"nexk_system": "storage_sweeper"})
    assert hook(conn, claimed)["error"]["http_code"] == 403


def test_the_hook_refuses_an_expired_invitation(world_db):
    conn, w = world_db
    _, nonce = invite_as_owner(
        conn, "late@example.test", org=org_id(w, "A"), expires_in=timedelta(seconds=-1)
    )

    verdict = hook(conn, event("late@example.test", {"nexk_invitation": nonce}))

    assert verdict["error"] == {
        "http_code": 403,
        "message": "This invitation is not valid (expired, already used or meant for another address): "
        "ask your administrator to invite you again.",
    }


def test_the_hook_refuses_a_second_account_with_an_invitation_already_used(world_db):
    conn, w = world_db
    _, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"))
    create_user(conn, "nina@example.test", {"nexk_invitation": nonce})

    assert hook(conn, event("nina@example.test", {"nexk_invitation": nonce}))["error"]["http_code"] == 403


@pytest.mark.parametrize("label", [None, "m1", "ca", "ad"])
def test_anon_and_authenticated_cannot_execute_the_hook_only_supabase_auth_admin_can(world_db, label):
    conn, w = world_db
    claims = None if label is None else claims_of(w, label)
    with impersonate(conn, claims):
        assert (
            sqlstate_of(
                conn, "select private.hook_before_user_created(%s)", (Jsonb(event("x@example.test", {})),)
            )
            == "42501"
        )
    privileges = conn.execute(
        "select r.rolname, has_function_privilege(r.rolname, 'private.hook_before_user_created(jsonb)',"
        " 'execute') from pg_catalog.pg_roles as r"
        " where r.rolname in ('anon', 'authenticated', 'service_role', 'supabase_auth_admin')"
    ).fetchall()
    assert dict(privileges) == {
        "anon": False,
        "authenticated": False,
        "service_role": False,
        "supabase_auth_admin": True,
    }


# --- The auth.users triggers: a used invitation becomes a profile ----------------------------------------


def test_creating_the_invited_user_creates_the_profile_deletes_the_invitation_and_strips_the_nonce(world_db):
    conn, w = world_db
    invitation, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"), role="client_admin")

    new_user = create_user(conn, "nina@example.test", {"nexk_invitation": nonce, "locale": "fr"})

    profile = conn.execute(
        "select organization_id, role, first_name, surname, email::text from public.profiles where id = %s",
        (new_user,),
    ).fetchone()
    assert profile == (org_id(w, "A"), "client_admin", "Nina", "Newcomer", "nina@example.test")
    assert conn.execute(
        "select count(*) from private.invitations where id = %s", (invitation,)
    ).fetchone() == (0,)
    metadata = conn.execute(
        "select raw_user_meta_data from auth.users where id = %s", (new_user,)
    ).fetchone()[0]
    assert metadata == {"locale": "fr"}


def test_a_user_whose_nonce_matches_no_invitation_gets_no_profile_and_the_invitation_stays(world_db):
    conn, w = world_db
    invitation, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"))

    stranger = create_user(conn, "someone.else@example.test", {"nexk_invitation": nonce})

    assert conn.execute("select count(*) from public.profiles where id = %s", (stranger,)).fetchone() == (0,)
    assert conn.execute(
        "select accepted_by from private.invitations where id = %s", (invitation,)
    ).fetchone() == (None,)
    metadata = conn.execute(
        "select raw_user_meta_data from auth.users where id = %s", (stranger,)
    ).fetchone()[0]
    assert "nexk_invitation" not in metadata


def test_users_created_without_an_invitation_are_left_alone(world_db):
    conn, _ = world_db
    created = create_user(conn, "system.account@example.test", {"purpose": "storage sweeper"})

    assert conn.execute("select count(*) from public.profiles where id = %s", (created,)).fetchone() == (0,)
    assert conn.execute("select raw_user_meta_data from auth.users where id = %s", (created,)).fetchone()[
        0
    ] == {"purpose": "storage sweeper"}


def test_a_nonce_written_into_an_existing_account_is_stripped_and_claims_nothing(world_db):
    conn, w = world_db
    invitation, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"))
    member = user_id(w, "m1")

    with as_gotrue(conn):
        conn.execute(
            "update auth.users set raw_user_meta_data = %s where id = %s",
            (Jsonb({"nexk_invitation": nonce}), member),
        )

    assert (
        conn.execute("select raw_user_meta_data from auth.users where id = %s", (member,)).fetchone()[0] == {}
    )
    assert conn.execute(
        "select accepted_by from private.invitations where id = %s", (invitation,)
    ).fetchone() == (None,)


# --- Who may invite whom (policies) ----------------------------------------------------------------------


def test_a_client_admin_invites_into_own_organization_with_a_client_role_only(world_db):
    conn, w = world_db
    own, other = org_id(w, "A"), org_id(w, "B")
    digest = nonce_and_hash()[1]
    with impersonate(conn, claims_of(w, "ca")):
        assert sqlstate_of(conn, INVITE, ("colleague@example.test", own, "client_member", digest)) is None
        assert sqlstate_of(conn, INVITE, ("colleague@example.test", own, "client_admin", digest)) is None
        assert sqlstate_of(conn, INVITE, ("spy@example.test", other, "client_member", digest)) == "42501"
        assert sqlstate_of(conn, INVITE, ("fake.agent@example.test", None, "agent", digest)) == "42501"
        assert sqlstate_of(conn, INVITE, ("fake.admin@example.test", None, "admin", digest)) == "42501"


def test_a_client_admin_sees_and_cancels_only_the_invitations_of_own_organization(world_db):
    conn, w = world_db
    mine, _ = invite_as_owner(conn, "colleague@example.test", org=org_id(w, "A"))
    theirs, _ = invite_as_owner(conn, "their.colleague@example.test", org=org_id(w, "B"))
    staff, _ = invite_as_owner(conn, "new.agent@example.test", org=None, role="agent")
    with impersonate(conn, claims_of(w, "ca")):
        assert {r[0] for r in conn.execute("select id from private.invitations")} == {mine}
        assert (
            conn.execute("delete from private.invitations where id in (%s, %s)", (theirs, staff)).rowcount
            == 0
        )
        assert conn.execute("delete from private.invitations where id = %s", (mine,)).rowcount == 1


def test_an_admin_with_mfa_invites_anyone_sees_every_invitation_and_cancels_them(world_db):
    conn, w = world_db
    existing, _ = invite_as_owner(conn, "colleague@example.test", org=org_id(w, "B"))
    digest = nonce_and_hash()[1]
    with impersonate(conn, claims_of(w, "ad")):
        created = conn.execute(INVITE, ("new.admin@example.test", None, "admin", digest)).fetchone()[0]
        row = conn.execute(
            "select invited_by, expires_at - created_at from private.invitations where id = %s", (created,)
        ).fetchone()
        assert row == (user_id(w, "ad"), timedelta(days=7))
        assert {r[0] for r in conn.execute("select id from private.invitations")} == {existing, created}
        assert conn.execute("delete from private.invitations where id = %s", (existing,)).rowcount == 1


@pytest.mark.parametrize("label", ["m1", "mb", "ag", "ag1", "ad1", "dx", "inv"])
def test_members_agents_strangers_and_staff_without_mfa_cannot_see_add_or_cancel_invitations(world_db, label):
    conn, w = world_db
    existing, _ = invite_as_owner(conn, "colleague@example.test", org=org_id(w, "A"))
    digest = nonce_and_hash()[1]
    with impersonate(conn, claims_of(w, label)):
        assert conn.execute("select count(*) from private.invitations").fetchone() == (0,)
        assert (
            sqlstate_of(conn, INVITE, ("x@example.test", org_id(w, "A"), "client_member", digest)) == "42501"
        )
        assert sqlstate_of(conn, INVITE, ("y@example.test", None, "admin", digest)) == "42501"
        assert conn.execute("delete from private.invitations where id = %s", (existing,)).rowcount == 0


def test_anon_has_no_privilege_at_all_on_invitations(world_db):
    conn, _ = world_db
    with impersonate(conn, None):
        assert sqlstate_of(conn, "select count(*) from private.invitations") == "42501"


def test_nobody_reads_the_nonce_hash_back_nor_edits_an_invitation_nor_sets_its_expiry(world_db):
    conn, w = world_db
    invitation, _ = invite_as_owner(conn, "colleague@example.test", org=org_id(w, "A"))
    with impersonate(conn, claims_of(w, "ad")):
        assert sqlstate_of(conn, "select nonce_hash from private.invitations") == "42501"
        assert sqlstate_of(
            conn, "update private.invitations set role = 'admin' where id = %s", (invitation,)
        ) == ("42501")
        assert (
            sqlstate_of(
                conn,
                "insert into private.invitations (email, role, first_name, surname, nonce_hash, expires_at)"
                " values ('z@example.test', 'admin', 'Z', 'Z', %s, 'infinity')",
                (nonce_and_hash()[1],),
            )
            == "42501"
        )


def test_an_address_with_an_account_is_refused_but_only_to_callers_who_may_invite(world_db):
    conn, w = world_db
    digest = nonce_and_hash()[1]
    with impersonate(conn, claims_of(w, "ca")):
        with pytest.raises(psycopg.errors.UniqueViolation) as refused, conn.transaction():
            conn.execute(INVITE, ("M1@example.test", org_id(w, "A"), "client_member", digest))
        assert refused.value.diag.constraint_name == "invitations_email_has_account"
    # The account without a profile counts too (an auth user is an account).
    with impersonate(conn, claims_of(w, "ad")):
        assert sqlstate_of(conn, INVITE, ("inv@example.test", None, "agent", digest)) == "23505"
    # A caller who may not invite learns nothing about the address (no 23505 oracle).
    with impersonate(conn, claims_of(w, "m1")):
        assert (
            sqlstate_of(conn, INVITE, ("mb@example.test", org_id(w, "A"), "client_member", digest)) == "42501"
        )


def test_a_second_pending_invitation_for_the_same_address_is_refused_and_an_expired_one_gives_way(world_db):
    conn, w = world_db
    invite_as_owner(conn, "twice@example.test", org=org_id(w, "A"))
    expired, _ = invite_as_owner(
        conn, "again@example.test", org=org_id(w, "A"), expires_in=timedelta(seconds=-1)
    )
    with impersonate(conn, claims_of(w, "ad")):
        with pytest.raises(psycopg.errors.UniqueViolation) as refused, conn.transaction():
            conn.execute(INVITE, ("TWICE@example.test", org_id(w, "A"), "client_member", nonce_and_hash()[1]))
        assert refused.value.diag.constraint_name == "invitations_email_key"
        fresh = conn.execute(
            INVITE, ("again@example.test", org_id(w, "A"), "client_member", nonce_and_hash()[1])
        )
        assert fresh.fetchone()[0] != expired
        assert conn.execute(
            "select count(*) from private.invitations where id = %s", (expired,)
        ).fetchone() == (0,)


def test_the_stored_hash_is_the_sha256_of_the_nonce_and_the_nonce_is_stored_nowhere(world_db):
    conn, w = world_db
    invitation, nonce = invite_as_owner(conn, "nina@example.test", org=org_id(w, "A"))
    digest = conn.execute(
        "select nonce_hash from private.invitations where id = %s", (invitation,)
    ).fetchone()[0]

    assert digest == hashlib.sha256(nonce.encode()).hexdigest()
    assert conn.execute("select private.invitation_nonce_hash(%s)", (nonce,)).fetchone() == (digest,)
    create_user(conn, "nina@example.test", {"nexk_invitation": nonce})
    found = conn.execute(
        "select (select count(*) from auth.users as u where u.raw_user_meta_data::text like '%%' || %s || '%%')"
        " + (select count(*) from public.audit_log as a where a::text like '%%' || %s || '%%')",
        (nonce, nonce),
    ).fetchone()
    assert found == (0,)


def test_erasing_the_inviter_keeps_the_pending_invitation_without_naming_them(world_db):
    conn, w = world_db
    invitation, _ = invite_as_owner(conn, "colleague@example.test", org=org_id(w, "A"))
    conn.execute(
        "update private.invitations set invited_by = %s where id = %s", (user_id(w, "ca"), invitation)
    )

    conn.execute("select private.erase_person(%s, 'test: erasure of the inviter')", (user_id(w, "ca"),))

    assert conn.execute(
        "select invited_by from private.invitations where id = %s", (invitation,)
    ).fetchone() == (None,)


# --- Expiry and retention --------------------------------------------------------------------------------


def test_expired_invitations_are_purged_after_the_retention_period_and_a_dry_run_only_counts(world_db):
    conn, w = world_db
    invite_as_owner(conn, "pending@example.test", org=org_id(w, "A"))
    invite_as_owner(conn, "recently.expired@example.test", org=org_id(w, "A"), expires_in=-timedelta(days=29))
    old, _ = invite_as_owner(
        conn, "long.expired@example.test", org=org_id(w, "A"), expires_in=-timedelta(days=31)
    )
    assert conn.execute(
        "select period from private.retention_policy where name = 'expired_invitations_after_expiry'"
    ).fetchone() == (timedelta(days=30),)

    assert conn.execute("select private.purge_expired_invitations(now(), true)").fetchone() == (1,)
    assert conn.execute("select count(*) from private.invitations").fetchone() == (3,)
    assert conn.execute("select private.purge_expired_invitations()").fetchone() == (1,)
    assert conn.execute("select count(*) from private.invitations where id = %s", (old,)).fetchone() == (0,)
    # Time travel: in 36 days the pending one (expiring in 7) has been expired for 29 days only; in 38, 31.
    soon = "select private.purge_expired_invitations(now() + interval '36 days', true)"
    assert conn.execute(soon).fetchone() == (1,)
    later = "select private.purge_expired_invitations(now() + interval '38 days', true)"
    assert conn.execute(later).fetchone() == (2,)


def test_the_purge_and_the_triggers_are_not_executable_by_the_api_roles(db):
    functions = [
        "private.purge_expired_invitations(timestamptz, boolean)",
        "private.invitation_nonce_hash(text)",
        "private.prepare_invitation()",
        "private.refuse_invitation_of_account()",
        "private.claim_invitation()",
        "private.create_invited_profile()",
    ]
    executable = db.execute(
        "select f, r from unnest(%s::text[]) as f, unnest(array['anon', 'authenticated']) as r"
        " where has_function_privilege(r, f::regprocedure, 'execute')",
        (functions,),
    ).fetchall()
    assert executable == []


# --- The local emulation of Supabase has GoTrue's role ---------------------------------------------------


def test_the_emulated_supabase_auth_admin_role_exists_without_login_and_is_not_taken_for_supabase(db):
    row = db.execute(
        "select rolcanlogin, rolbypassrls, rolsuper from pg_catalog.pg_roles where rolname = 'supabase_auth_admin'"
    ).fetchone()
    assert row == (False, False, False)
    assert not is_supabase(db)
