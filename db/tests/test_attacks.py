"""The attack catalogue: one named test per known RLS pitfall that applies here.

Each test impersonates callers exactly as PostgREST does (`db.testing.impersonate`: one transaction, `set
local role`, transaction-local `request.jwt.claims`) against `small_world` (db/tests/conftest.py).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from db.rls import model
from db.rls.model import Identity, World
from db.rls.probe import _Planner, exposed_relations, observe, plan_writes, snapshot
from db.rls.worlds import RandomChooser
from db.testing import impersonate

REPO = Path(__file__).resolve().parents[2]
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The argument-free helpers policies call; each answers only about the caller (README §5).
SELF_DESCRIBING_HELPERS = {
    "private.current_app_role",
    "private.current_org_id",
    "private.agent_org_ids",
    "private.sees_all_org_tickets",
    "private.ticket_org_ids",
    "private.record_read",  # writes one audit entry whose actor is the caller
    "private.is_storage_sweeper",  # whether the caller is the storage sweeper (0270)
    "private.is_queued_for_deletion",  # false for anyone but the storage sweeper (0270)
    "private.session_is_live",  # whether the caller's own sign-in session still exists (db/functions/sessions.sql)
}
# Definer helpers that take other people's ids (README §6): each answers only about the people the caller may
# see anyway, never about anyone else. Name -> (why the arguments cannot reach others, the test proving it).
SCOPED_LOOKUPS = {
    "private.display_names": (
        "names only profiles the caller may name: their organization for clients (and, by first name, staff"
        " who worked on their tickets), §3 profiles SELECT for staff at aal2; nothing for strangers,"
        " deactivated people and staff below aal2; anon cannot call it",
        "test_display_names_answers_nothing_about_people_outside_the_callers_allowed_set",
    ),
    "private.staff_among": (
        "the ids private.display_names answers the caller that are staff; nothing about anyone else",
        "test_staff_among_marks_only_nameable_staff",
    ),
    "private.ticket_activity": (
        "answers only about a ticket the caller sees (tickets SELECT restated, staff MFA rule), no file of an"
        " internal note to clients, never IP, user agent or read entries",
        "test_ticket_activity_answers_only_about_visible_tickets_and_hides_internal_files_from_clients",
    ),
    "private.my_organization_invitation_status": (
        "client admins only (42501 otherwise), and only about the caller's own organization's members",
        "test_invitation_status_for_client_admins_covers_their_own_organization_only",
    ),
    "private.set_my_organization_sharing": (
        "client admins only (42501 otherwise); one column of the caller's own organization",
        "test_only_a_client_admin_switches_ticket_sharing_and_only_for_their_own_organization",
    ),
}
# Argument-free self-service (0210): each acts on the caller only (proved below).
SELF_SERVICE = {"private.record_sign_in", "private.my_dsr_export", "private.request_my_dsr"}
# Attempt limits (0373, README §6): the portal's bookkeeping; they read and write only rate-limit buckets, named
# by a keyed HMAC that only the portal can make (proved in tests/app/test_rate_limits.py).
ATTEMPT_LIMITS = {"private.rate_limit_attempt", "private.rate_limit_succeeded"}
# Admin DSR wrappers (0220) and invitation wrappers (0320): each refuses (42501) anyone but an admin at aal2
# (proved below).
ADMIN_GUARDED = {
    "private.admin_dsr_export",
    "private.admin_dsr_rectify",
    "private.admin_dsr_erase",
    "private.admin_dsr_restrict",
    "private.admin_dsr_object",
    "private.admin_dsr_complete",
    "private.admin_invitation_status",
    "private.admin_resend_invitation",
}
ADMIN_WRAPPER_CALLS = {
    "private.admin_dsr_export": "select private.admin_dsr_export(%s)",
    "private.admin_dsr_rectify": "select private.admin_dsr_rectify(%s, '{}'::jsonb)",
    "private.admin_dsr_erase": "select private.admin_dsr_erase(%s, '[]'::jsonb)",
    "private.admin_dsr_restrict": "select private.admin_dsr_restrict(%s, true, '[]'::jsonb)",
    "private.admin_dsr_object": "select private.admin_dsr_object(%s, 'analytics', 'test')",
    "private.admin_dsr_complete": "select private.admin_dsr_complete(%s, 'completed', '[]'::jsonb)",
    # Asked about an id that is no person (a DSR request's): nothing, or P0002, once past the guard.
    "private.admin_invitation_status": "select * from private.admin_invitation_status(array[%s]::uuid[])",
    "private.admin_resend_invitation": "select private.admin_resend_invitation(%s)",
}


def by_label(world: World, label: str) -> model.User:
    return next(u for u in world.users if u.label == label)


def claims_of(world: World, label: str) -> dict[str, object] | None:
    return Identity(by_label(world, label)).claims()


def ids(conn: psycopg.Connection, table: str) -> set[str]:
    return {r[0] for r in conn.execute(f"select id::text from {table}").fetchall()}  # noqa: S608


def sqlstate_of(conn: psycopg.Connection, sql: str, params: tuple = ()) -> str | None:
    """Run `sql` in a savepoint; its SQLSTATE (None when it succeeded). The savepoint is rolled back."""
    try:
        with conn.transaction():
            conn.execute(sql, params)
            raise _Rollback
    except _Rollback:
        return None
    except psycopg.Error as e:
        return e.sqlstate


class _Rollback(Exception):
    pass


# --- Claims and pooled connections -------------------------------------------------


def test_legacy_claim_sub_guc_cannot_impersonate_another_user(world_db):
    """auth.uid() prefers the legacy `request.jwt.claim.sub` GUC over the JWT claims (GoTrue's semantics), so
    whoever can set GUCs can be anybody. What stops an attacker: the portal never lets a client run SQL or
    set a GUC (only the server sets them, transaction-locally, app/database.py), so a legacy claim set inside
    one request, e.g. by a compromised helper, is gone when that transaction ends and cannot carry a victim's
    identity into the next request on the same pooled connection."""
    conn, w = world_db
    victim, attacker = by_label(w, "mb"), by_label(w, "m1")
    with impersonate(conn, claims_of(w, "m1")):
        conn.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(victim.id),))
        # Inside that transaction the legacy GUC does win: this is why it must never outlive it.
        assert conn.execute("select auth.uid()").fetchone()[0] == victim.id
    with impersonate(conn, claims_of(w, "m1")):
        assert conn.execute("select current_setting('request.jwt.claim.sub', true)").fetchone()[0] in (
            None,
            "",
        )
        assert conn.execute("select auth.uid()").fetchone()[0] == attacker.id
        assert ids(conn, "public.tickets") == model.visible(w, Identity(attacker), "public.tickets")
    # The portal's only way into the database sets everything transaction-locally: no session-level SET,
    # no set_config(..., false), no `set role` without `local` anywhere in app/.
    offenders = []
    for path in (REPO / "app").rglob("*.py"):
        text = path.read_text()
        for m in re.finditer(
            r"set_config\([^)]*?,\s*(false|False)\s*\)|[\"']set (?!local)(role|request\.)", text
        ):
            offenders.append(f"{path.relative_to(REPO)}: {m.group(0)}")
    assert not offenders, f"session-level settings in the portal: {offenders}"


def test_claims_do_not_survive_the_transaction_on_a_pooled_connection(world_db):
    """One connection serves two requests in turn (what a pool does): the second request, anonymous, must
    carry nothing of the first: no role, no claims, no rows."""
    conn, w = world_db
    with impersonate(conn, claims_of(w, "ad") | {"aal": "aal2"}):
        assert ids(conn, "public.tickets")  # the admin sees tickets
    assert conn.execute("select current_user").fetchone()[0] != "authenticated"
    assert conn.execute("select current_setting('request.jwt.claims', true)").fetchone()[0] in (None, "")
    with impersonate(conn, None):
        assert conn.execute("select auth.uid(), auth.jwt()").fetchone() == (None, {"role": "anon"})
        assert ids(conn, "storage.objects") == set()
    with impersonate(conn, claims_of(w, "mb")):
        assert conn.execute("select auth.uid()").fetchone()[0] == by_label(w, "mb").id
        assert ids(conn, "public.tickets") == model.visible(w, Identity(by_label(w, "mb")), "public.tickets")


# --- Views and definer functions ---------------------------------------------------


def test_every_view_in_the_api_schemas_runs_with_the_callers_rights(db):
    """Views skip RLS unless security_invoker; matviews and foreign tables have no RLS at all."""
    rows = db.execute(
        """
        select n.nspname || '.' || c.relname, c.relkind, coalesce(c.reloptions, '{}')
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where n.nspname in ('public', 'storage') and c.relkind in ('v', 'm', 'f')
        """
    ).fetchall()
    unsafe = [
        name
        for name, kind, options in rows
        if kind != "v" or not {"security_invoker=true", "security_invoker=on"} & set(options)
    ]
    assert not unsafe, f"relations that bypass RLS in API schemas: {unsafe}"
    # Every relation the API exposes is one the isolation model knows (a new view must be modelled).
    assert set(exposed_relations(db)) <= set(model.TABLES), set(exposed_relations(db)) - set(model.TABLES)


def test_security_definer_functions_are_closed_to_anon_and_open_to_authenticated_only_as_self_describing_helpers(
    world_db,
):
    conn, w = world_db
    rows = conn.execute(
        """
        select p.oid::regprocedure::text, n.nspname || '.' || p.proname,
               has_function_privilege('anon', p.oid, 'execute'),
               has_function_privilege('authenticated', p.oid, 'execute'),
               pg_catalog.pg_get_function_result(p.oid)
        from pg_catalog.pg_proc as p
        inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
        where p.prosecdef and n.nspname in ('public', 'private', 'storage')
        """
    ).fetchall()
    assert rows, "expected the documented definer helpers"
    assert not [sig for sig, _, anon, _, _ in rows if anon], "definer functions executable by anon"
    extra = [
        sig
        for sig, name, _, auth, result in rows
        if auth
        and name
        not in SELF_DESCRIBING_HELPERS | SELF_SERVICE | ADMIN_GUARDED | ATTEMPT_LIMITS | set(SCOPED_LOOKUPS)
        and result != "trigger"
    ]
    assert not extra, (
        f"definer functions executable by authenticated that are not documented helpers: {extra}"
    )
    # Each helper, asked by different users, answers about the asker only (they take no arguments at all).
    for label in ("m1", "mb", "ca", "ag", "ad"):
        u = by_label(w, label)
        claims = Identity(u).claims()
        with impersonate(conn, claims):
            role, org, sees_all = conn.execute(
                "select private.current_app_role(), private.current_org_id(), private.sees_all_org_tickets()"
            ).fetchone()
            orgs = {r[0] for r in conn.execute("select private.agent_org_ids()").fetchall()}
            assert (role, org) == (u.role, u.org)
            assert sees_all == (
                u.role == "client_admin" or (u.role == "client_member" and w.org(u.org).shared_tickets)
            )
            assert orgs == {a.org for a in w.assignments if a.agent == u.id}
            ticket_orgs = {r[0] for r in conn.execute("select private.ticket_org_ids()").fetchall()}
            if u.role == "admin":
                assert ticket_orgs == {o.id for o in w.orgs}
            elif u.role == "agent":
                assert ticket_orgs == {a.org for a in w.assignments if a.agent == u.id}
            else:
                assert ticket_orgs == {u.org}
            # record_read logs a read of a ticket the caller can read, as the caller (0361; every other case
            # is refused: test_record_read_logs_exactly_the_reads_the_caller_could_make).
            ticket = sorted(model.visible(w, Identity(u), "public.tickets"))[0]
            conn.execute("select private.record_read('tickets', %s)", (ticket,))
            actors = conn.execute(
                "select actor_id from public.audit_log where action = 'read' and object_id = %s", (ticket,)
            ).fetchall()
            assert actors == [(u.id,)]
    # A deactivated person and a token without a profile get no organization at all.
    for label in ("dx", "inv"):
        with impersonate(conn, claims_of(w, label)):
            assert conn.execute("select private.ticket_org_ids()").fetchall() == []
    definer_args = [
        sig
        for sig, name, _, auth, _ in rows
        if auth
        and name in SELF_DESCRIBING_HELPERS
        and "(" in sig
        and sig.split("(")[1] != ")"
        # record_read writes the caller's own audit entry; is_queued_for_deletion answers false to anyone but
        # the storage sweeper (db/tests/test_storage_deletion.py proves it).
        and name not in {"private.record_read", "private.is_queued_for_deletion"}
    ]
    assert not definer_args, f"helpers that take arguments could answer about others: {definer_args}"
    # A scoped lookup takes arguments by design: it is exempt only with a reason and a test that proves it.
    unproved = [
        name
        for name, (reason, proof) in SCOPED_LOOKUPS.items()
        if not reason.strip() or not callable(globals().get(proof))
    ]
    assert not unproved, f"scoped lookups without a reason or a proving test: {unproved}"


def _display_names(conn: psycopg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = conn.execute("select n.id, n.name from private.display_names(%s::uuid[]) as n", (ids,)).fetchall()
    assert len(rows) == len({r[0] for r in rows}), "one row per person"
    return dict(rows)


# Who each identity of small_world may name (README §6): clients their organization (deactivated dx included)
# and, by first name, the staff who worked on a ticket they see (ag, assignee of tA1, which m1 and ca see and
# m2, in an organization that does not share tickets, does not); the agent staff and its assigned organization
# A, the admin everyone; nobody else anything.
NAMEABLE = {
    "m1": {"m1", "m2", "ca", "dx", "ag"},
    "m2": {"m1", "m2", "ca", "dx"},
    "ca": {"m1", "m2", "ca", "dx", "ag"},
    "mb": {"mb"},
    "ag": {"m1", "m2", "ca", "dx", "ag", "ag1", "ad", "ad1"},
    "ad": {"m1", "m2", "ca", "dx", "mb", "ag", "ag1", "ad", "ad1"},
    "ag1": set(),  # an agent at aal1: the staff MFA rule holds inside the definer
    "ad1": set(),  # an admin without an aal claim
    "dx": set(),  # deactivated
    "inv": set(),  # an account without a profile
}


def test_display_names_answers_nothing_about_people_outside_the_callers_allowed_set(world_db):
    """Invariant: asked about everybody (and an id nobody has), private.display_names answers each identity of
    small_world exactly its nameable people with `first_name surname`, nothing about anyone else, and never
    another column; anon may not call it. The same holds for staff below aal2 whatever their aal claim."""
    conn, w = world_db
    everybody = [*(u.id for u in w.users), uuid.uuid4()]
    assert set(NAMEABLE) == {u.label for u in w.users}, "every identity of the small world is covered"
    labels = {u.id: u.label for u in w.users}
    with impersonate(conn, None):
        assert sqlstate_of(conn, "select * from private.display_names(%s::uuid[])", (everybody,)) == "42501"
    for label, allowed in NAMEABLE.items():
        with impersonate(conn, claims_of(w, label)):
            named = _display_names(conn, everybody)
        assert {labels[i] for i in named} == allowed, label
        assert {str(i) for i in named} == model.display_names(w, Identity(by_label(w, label)), everybody)
        caller = model.caller(w, Identity(by_label(w, label)))
        users = {u.id: u for u in w.users}
        expected_names = {
            i: model.display_name(w, caller, users[i], f"User {labels[i]}", "Tester") for i in named
        }
        assert named == expected_names, named  # staff to a client: the first name only
    for label in ("ag", "ad"):  # the same staff with aal1 or no aal claim: nothing
        for aal in ("aal1", None):
            claims = Identity(model.User(**{**by_label(w, label).__dict__, "aal": aal})).claims()
            with impersonate(conn, claims):
                assert _display_names(conn, everybody) == {}, (label, aal)
    # Only the name: the result type is two columns, whatever the caller asks for.
    assert conn.execute(
        "select pg_get_function_result('private.display_names(uuid[])'::regprocedure)"
    ).fetchone() == ("TABLE(id uuid, name text)",)
    # Nothing for an empty or null list, and a foreign id mixed into an allowed list does not leak.
    mb, m2 = by_label(w, "mb").id, by_label(w, "m2").id
    with impersonate(conn, claims_of(w, "m1")):
        assert _display_names(conn, []) == {}
        assert conn.execute("select count(*) from private.display_names(null)").fetchone() == (0,)
        assert set(_display_names(conn, [m2, mb, m2])) == {m2}


@pytest.mark.parametrize("function", sorted(ADMIN_GUARDED))
@pytest.mark.parametrize("label", ["m1", "ca", "ag", "ag1", "ad1"])
def test_admin_wrappers_refuse_everyone_but_an_admin_with_mfa(world_db, function, label):
    conn, w = world_db
    request = w.dsrs[0].id
    with impersonate(conn, claims_of(w, label)):
        assert sqlstate_of(conn, ADMIN_WRAPPER_CALLS[function], (request,)) == "42501"
    with impersonate(conn, claims_of(w, "ad")):  # the admin at aal2 gets past the guard
        assert sqlstate_of(conn, ADMIN_WRAPPER_CALLS[function], (request,)) != "42501"


def test_self_service_functions_act_on_the_caller_only(world_db):
    conn, w = world_db
    m1, mb = by_label(w, "m1"), by_label(w, "mb")
    with impersonate(conn, claims_of(w, "m1")):
        export = str(conn.execute("select private.my_dsr_export()").fetchone()[0])
        assert m1.email in export and str(m1.id) in export
        assert mb.email not in export and str(mb.id) not in export
        request = conn.execute(
            "select private.request_my_dsr('rectification', 'my phone changed')"
        ).fetchone()[0]
        conn.execute("select private.record_sign_in()")
        conn.execute("reset role")
        subject = conn.execute(
            "select subject_id from public.dsr_requests where id = %s", (request,)
        ).fetchone()
        signed_in = conn.execute("select actor_id from public.audit_log where action = 'sign_in'").fetchall()
    assert subject == (m1.id,)
    assert signed_in == [(m1.id,)]


@pytest.mark.parametrize("label", ["ag1", "ad1", "inv", "dx"])
def test_self_service_is_refused_to_staff_without_mfa_and_to_people_without_an_active_profile(
    world_db, label
):
    conn, w = world_db
    with impersonate(conn, claims_of(w, label)):
        assert sqlstate_of(conn, "select private.my_dsr_export()") == "42501"
        assert sqlstate_of(conn, "select private.request_my_dsr('erasure', null)") == "42501"


# --- Existence oracles and error side channels -----------------------------------------


def test_a_message_on_another_orgs_ticket_is_refused_by_rls_exactly_like_one_on_a_ticket_that_does_not_exist(
    world_db,
):
    conn, w = world_db
    m1 = by_label(w, "m1")
    foreign = next(t for t in w.tickets if t.label == "tB1")
    sql = "insert into public.ticket_messages (ticket_id, author_id, body) values (%s, %s, 'hi') returning id"
    with impersonate(conn, claims_of(w, "m1")):
        assert sqlstate_of(conn, sql, (foreign.id, m1.id)) == "42501"  # not 23503: no foreign-key oracle
        assert sqlstate_of(conn, sql, (uuid.uuid4(), m1.id)) == "42501"


def test_an_attachment_on_another_orgs_ticket_is_refused_by_rls_exactly_like_one_on_a_ticket_that_does_not_exist(
    world_db,
):
    conn, w = world_db
    m1 = by_label(w, "m1")
    foreign = next(t for t in w.tickets if t.label == "tB1")
    sql = (
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name, content_type,"
        " size_bytes, sha256) values (%s, %s, %s, 'x.txt', 'text/plain', 1, repeat('a', 64)) returning id"
    )
    with impersonate(conn, claims_of(w, "m1")):
        assert sqlstate_of(conn, sql, (foreign.id, foreign.org, m1.id)) == "42501"
        assert sqlstate_of(conn, sql, (uuid.uuid4(), uuid.uuid4(), m1.id)) == "42501"


def test_a_ticket_for_another_org_gives_the_same_error_whether_or_not_the_requester_belongs_to_it(world_db):
    """The people-check trigger (23514) must not answer before RLS: that would tell a client whether user X
    belongs to organization Y, or whether agent Z serves its own organization."""
    conn, w = world_db
    other, own = w.orgs[1].id, w.orgs[0].id
    sql = (
        "insert into public.tickets (organization_id, requester_id, assignee_id, subject, description)"
        " values (%s, %s, %s, 's', 'd') returning id"
    )
    with impersonate(conn, claims_of(w, "m1")):
        assert sqlstate_of(conn, sql, (other, by_label(w, "mb").id, None)) == "42501"
        assert sqlstate_of(conn, sql, (other, uuid.uuid4(), None)) == "42501"
        assert sqlstate_of(conn, sql, (own, by_label(w, "m1").id, by_label(w, "ag").id)) == "42501"
        assert sqlstate_of(conn, sql, (own, by_label(w, "m1").id, uuid.uuid4())) == "42501"


def test_inserting_a_profile_is_refused_alike_for_an_existing_and_a_fresh_id_without_echoing_either(world_db):
    """Nobody inserts a profile (README §3, §9), so the refusal (42501, missing privilege) comes before any
    key is compared: an existing user id of another organization and a fresh id get the same answer, and the
    error names neither."""
    conn, w = world_db
    sql = (
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values (%s, %s, 'client_member', 'a', 'b', %s) returning id"
    )
    for target in (by_label(w, "mb").id, uuid.uuid4()):
        with impersonate(conn, claims_of(w, "ca")):
            try:
                with conn.transaction():
                    conn.execute(sql, (target, w.orgs[0].id, "fresh@example.test"))
                raise AssertionError("a client admin inserted a profile")
            except psycopg.Error as e:
                assert e.sqlstate == "42501"
                assert e.diag.message_detail is None
                assert str(target) not in str(e)


# --- Erased profiles and the invitation gate (README §8b, §9) -------------------------

PROFILE_STATE = (
    "select first_name, surname, role, organization_id, deactivated_at is not null, erased_at is not null"
    " from public.profiles where id = %s"
)


def placeholder_of(conn: psycopg.Connection, org: uuid.UUID | None) -> uuid.UUID:
    """The organization's "Erased person" placeholder (null: NexK staff's), made as an erasure makes it."""
    with conn.transaction():
        row = conn.execute("select private.erased_person_placeholder(%s)", (org,)).fetchone()
    assert row is not None
    return row[0]


def erase_legacy(conn: psycopg.Connection, label_id: uuid.UUID) -> None:
    """A person anonymised before 0240: the profile kept, erased (and deactivated), the auth user kept."""
    with conn.transaction():
        conn.execute(
            "update public.profiles set first_name = 'Erased', surname = 'person', deactivated_at = now(),"
            " erased_at = now() where id = %s",
            (label_id,),
        )


@pytest.mark.parametrize("label", ["ca", "ad"])
@pytest.mark.parametrize(
    "changes",
    [
        "first_name = 'Alice', surname = 'Revealed'",
        "deactivated_at = null",
        "role = 'client_admin'",
        "position = 'Boss', phone = '+32 470 00 00 00'",
    ],
)
def test_no_admin_renames_reactivates_or_promotes_their_organizations_erased_person_placeholder(
    world_db, label, changes
):
    """The placeholder carries every erased person's tickets and messages: a client admin (their
    organization) or an admin (anyone) who renamed, reactivated or promoted it would de-anonymise them all.
    The UPDATE reaches no row (the policy skips erased rows), and the row is unchanged."""
    conn, w = world_db
    placeholder = placeholder_of(conn, w.orgs[0].id)
    before = conn.execute(PROFILE_STATE, (placeholder,)).fetchone()
    with impersonate(conn, claims_of(w, label)):
        rows = conn.execute(
            f"update public.profiles set {changes} where id = %s returning id",  # noqa: S608 (fixed texts)
            (placeholder,),
        ).fetchall()
    assert rows == []
    assert conn.execute(PROFILE_STATE, (placeholder,)).fetchone() == before


def test_an_admin_cannot_revive_the_staff_placeholder_as_an_admin(world_db):
    conn, w = world_db
    placeholder = placeholder_of(conn, None)
    with impersonate(conn, claims_of(w, "ad")):
        rows = conn.execute(
            "update public.profiles set role = 'admin', deactivated_at = null, first_name = 'Back'"
            " where id = %s returning id",
            (placeholder,),
        ).fetchall()
    assert rows == []
    assert conn.execute(PROFILE_STATE, (placeholder,)).fetchone()[:3] == ("Erased", "person", "agent")


@pytest.mark.parametrize("label", ["ca", "ad"])
def test_no_admin_rewrites_an_erased_profile_and_a_bulk_update_skips_it(world_db, label):
    """An erased person of organization A (anonymised before 0240) is out of reach of any UPDATE: targeted, it
    changes nothing; the client admin's update of their whole organization changes every other member and
    leaves the erased one as it was."""
    conn, w = world_db
    erased = by_label(w, "m2").id
    erase_legacy(conn, erased)
    before = conn.execute(PROFILE_STATE, (erased,)).fetchone()
    with impersonate(conn, claims_of(w, label)):
        for changes in ("first_name = 'Mary'", "deactivated_at = null", "role = 'client_admin'"):
            rows = conn.execute(
                f"update public.profiles set {changes} where id = %s returning id",  # noqa: S608
                (erased,),
            ).fetchall()
            assert rows == [], changes
        changed = {
            r[0]
            for r in conn.execute(
                "update public.profiles set position = 'Staff' where organization_id = %s returning id",
                (w.orgs[0].id,),
            ).fetchall()
        }
    assert erased not in changed
    assert {by_label(w, "m1").id, by_label(w, "ca").id, by_label(w, "dx").id} <= changed
    assert conn.execute(PROFILE_STATE, (erased,)).fetchone() == before


@pytest.mark.parametrize("role", ["postgres", "service_role"])
def test_the_owner_and_service_role_cannot_change_or_delete_an_erased_profile_either(world_db, role):
    """Immutability is a trigger (profiles_erased_guard), so BYPASSRLS does not skip it: neither a
    server-side job nor the owner rewrites a placeholder, nor deletes it through its auth user."""
    conn, w = world_db
    placeholder = placeholder_of(conn, w.orgs[0].id)
    current = conn.execute("select current_user").fetchone()[0]
    as_role = current if role == "postgres" else role
    for sql in (
        "update public.profiles set first_name = 'Alice' where id = %s",
        "update public.profiles set deactivated_at = null where id = %s",
        "delete from public.profiles where id = %s",
        "delete from auth.users where id = %s",
    ):
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="an erased profile cannot be changed"),
            conn.transaction(force_rollback=True),
        ):
            conn.execute(psycopg.sql.SQL("set local role {}").format(psycopg.sql.Identifier(as_role)))
            conn.execute(sql, (placeholder,))


@pytest.mark.parametrize("label", ["ca", "ad"])
def test_nobody_forges_the_erasure_marker_with_a_guc_or_a_row(world_db, label):
    """The guard's one exception is private.erase_person's marker row, which no API role (nor service_role)
    may write; a GUC claiming an erasure in progress is worth nothing."""
    conn, w = world_db
    placeholder = placeholder_of(conn, w.orgs[0].id)
    with impersonate(conn, claims_of(w, label)):
        conn.execute("select set_config('nexk.erasing', %s, true)", (str(placeholder),))
        assert (
            sqlstate_of(
                conn, "insert into private.erasure_in_progress (subject_id) values (%s)", (placeholder,)
            )
            == "42501"
        )
        rows = conn.execute(
            "update public.profiles set first_name = 'Alice' where id = %s returning id", (placeholder,)
        ).fetchall()
        assert rows == []
    with conn.transaction(force_rollback=True):
        conn.execute("set local role service_role")
        assert (
            sqlstate_of(
                conn, "insert into private.erasure_in_progress (subject_id) values (%s)", (placeholder,)
            )
            == "42501"
        )


def test_the_erasure_workflow_still_finishes_a_legacy_erased_and_restricted_person(world_db):
    """private.erase_person is the one writer of erased profiles: it clears the restriction of a person
    anonymised before 0240, deletes the auth user and so the profile, and leaves no marker behind."""
    conn, w = world_db
    erased = uuid.uuid4()
    with conn.transaction():  # as 0103 left such a person: anonymised, deactivated, still restricted
        conn.execute("insert into auth.users (id, banned_until) values (%s, 'infinity')", (erased,))
        conn.execute(
            "insert into public.profiles (id, organization_id, role, first_name, surname, email,"
            " deactivated_at, erased_at, restricted_at) values (%s, %s, 'client_member', 'Erased', 'person',"
            " %s, now(), now(), now())",
            (erased, w.orgs[0].id, f"erased-{erased}@erased.invalid"),
        )
    with conn.transaction():
        conn.execute("select private.erase_person(%s, 'test: legacy erasure')", (erased,))
    assert conn.execute("select count(*) from public.profiles where id = %s", (erased,)).fetchone() == (0,)
    assert conn.execute("select count(*) from private.erasure_in_progress").fetchone() == (0,)
    # ... and a placeholder stays untouched by a second erasure request about it.
    placeholder = placeholder_of(conn, w.orgs[0].id)
    with conn.transaction():
        result = conn.execute("select private.erase_person(%s, 'test')", (placeholder,)).fetchone()[0]
    assert result["already_erased"] is True


@pytest.mark.parametrize("label", ["ca", "ad"])
def test_no_admin_attaches_a_profile_less_account_to_an_organization_without_an_invitation(world_db, label):
    """`inv` is an auth user without a profile. Inserting a profile with its id would make it a member (or
    an admin) of the attacker's choosing without the invitation gate (an invitation for that address, the
    one-time nonce, the before-user-created hook): refused to client admins and admins alike (README §9)."""
    conn, w = world_db
    account = by_label(w, "inv").id
    for org, role in ((w.orgs[0].id, "client_admin"), (w.orgs[0].id, "client_member"), (None, "admin")):
        with impersonate(conn, claims_of(w, label)):
            assert (
                sqlstate_of(
                    conn,
                    "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
                    " values (%s, %s, %s, 'Mallory', 'Inside', 'mallory@example.test') returning id",
                    (account, org, role),
                )
                == "42501"
            )
    assert conn.execute("select count(*) from public.profiles where id = %s", (account,)).fetchone() == (0,)


def test_a_client_admins_invitation_accepted_still_creates_the_member(world_db):
    """The legitimate way in, in one (rolled-back) transaction: the client admin invites (their organization,
    a client role), GoTrue (supabase_auth_admin) creates the account with the nonce, and the auth.users
    trigger creates the profile from the invitation."""
    conn, w = world_db
    nonce, new_user = "nonce-" + uuid.uuid4().hex, uuid.uuid4()
    with impersonate(conn, claims_of(w, "ca")):
        conn.execute(
            "insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)"
            " values ('nina@example.test', %s, 'client_member', 'Nina', 'Newcomer',"
            " encode(sha256(convert_to(%s, 'UTF8')), 'hex'))",
            (w.orgs[0].id, nonce),
        )
        conn.execute("reset role")
        conn.execute("set local role supabase_auth_admin")
        conn.execute(
            "insert into auth.users (id, aud, role, email, raw_user_meta_data) values (%s, 'authenticated',"
            " 'authenticated', 'nina@example.test', jsonb_build_object('nexk_invitation', %s::text))",
            (new_user, nonce),
        )
        conn.execute("reset role")
        profile = conn.execute(
            "select organization_id, role, first_name from public.profiles where id = %s", (new_user,)
        ).fetchone()
    assert profile == (w.orgs[0].id, "client_member", "Nina")


def test_error_messages_never_name_rows_the_caller_cannot_see(world_db):
    """Every refusal raised while probing every identity's writes (guard triggers, check constraints, RLS)
    mentions no id of a row the caller cannot read, beyond the ids the caller itself sent."""
    conn, w = world_db
    relations = exposed_relations(conn)
    leaks = []
    for ident in [Identity(None), *(Identity(u) for u in w.users)]:
        seen = set().union(*(model.visible(w, ident, t) for t in relations))
        conn.execute("begin")
        try:
            obs = observe(
                conn,
                w,
                ident,
                relations=relations,
                writes=plan_writes(w, ident, RandomChooser(random.Random(3))),
            )
        finally:
            conn.execute("rollback")
        for probe, outcome in obs.writes:
            if outcome.message:
                named = set(UUID_RE.findall(outcome.message)) - seen - set(UUID_RE.findall(probe.sql))
                if named:
                    leaks.append(f"{ident.describe(w)} {probe.description}: {outcome.message}")
    assert not leaks, "\n".join(leaks)


# --- anon, MFA, membership changes -----------------------------------------------------


def _probe_everything(conn, w: World, ident: Identity):
    relations = exposed_relations(conn)
    conn.execute("begin")
    try:
        base = snapshot(conn, [t for t in relations if t in model.TABLES])
        obs = observe(
            conn, w, ident, relations=relations, writes=plan_writes(w, ident, RandomChooser(random.Random(1)))
        )
        after = snapshot(conn, [t for t in relations if t in model.TABLES])
    finally:
        conn.execute("rollback")
    return obs, base == after


def test_anon_sees_and_writes_nothing_on_any_table_including_storage(world_db):
    conn, w = world_db
    obs, unchanged = _probe_everything(conn, w, Identity(None))
    assert {t: rows for t, rows in obs.reads.items() if rows} == {}
    assert "storage.objects" in obs.reads and "storage.objects" not in obs.read_errors  # asked, and empty
    wrote = [(p.description, o.returned) for p, o in obs.writes if o.sqlstate is None and o.returned]
    assert not wrote and unchanged
    assert len(obs.writes) > 40


@pytest.mark.parametrize("label", ["ag1", "ad1"])
def test_staff_below_aal2_get_zero_rows_everywhere_and_cannot_write(world_db, label):
    conn, w = world_db
    staff = by_label(w, label)
    for aal in ("aal1", None):
        ident = Identity(model.User(**{**staff.__dict__, "aal": aal}))
        obs, unchanged = _probe_everything(conn, w, ident)
        assert {t: rows for t, rows in obs.reads.items() if rows} == {}, aal
        assert not [p.description for p, o in obs.writes if o.sqlstate is None and o.returned] and unchanged
    # The same person with a second factor does see their share: the test above is not vacuous.
    with impersonate(conn, Identity(model.User(**{**staff.__dict__, "aal": "aal2"})).claims()):
        assert ids(conn, "public.tickets")


def test_a_client_moved_to_another_org_mid_session_sees_only_the_new_org_with_the_same_token(world_db):
    """Membership is read from profiles on every request, never from the token."""
    conn, w = world_db
    m1 = by_label(w, "m1")
    claims = claims_of(w, "m1")
    with impersonate(conn, claims):
        assert conn.execute("select distinct organization_id from public.profiles").fetchall() == [
            (w.orgs[0].id,)
        ]
    conn.execute("update public.profiles set organization_id = %s where id = %s", (w.orgs[1].id, m1.id))
    with impersonate(conn, claims):
        assert {r[0] for r in conn.execute("select organization_id from public.tickets").fetchall()} == {
            w.orgs[1].id
        }
        assert conn.execute("select id from public.organizations").fetchall() == [(w.orgs[1].id,)]
        assert conn.execute("select distinct organization_id from public.profiles").fetchall() == [
            (w.orgs[1].id,)
        ]
        old_ticket = next(t for t in w.tickets if t.label == "tA1")
        assert (
            conn.execute(
                "update public.tickets set status = 'resolved' where id = %s returning id", (old_ticket.id,)
            ).fetchall()
            == []
        )


# --- storage.objects ---------------------------------------------------------------------


def test_a_client_cannot_list_another_orgs_prefix_in_storage(world_db):
    conn, w = world_db
    with impersonate(conn, claims_of(w, "m1")):
        rows = conn.execute(
            "select name from storage.objects where name like %s", (f"{w.orgs[1].id}/%",)
        ).fetchall()
        assert rows == []
        assert (
            conn.execute("select count(*) from storage.objects where bucket_id <> 'attachments'").fetchone()[
                0
            ]
            == 0
        )


def test_a_client_cannot_read_the_file_of_an_internal_attachment_on_its_own_ticket(world_db):
    conn, w = world_db
    internal = next(a for a in w.attachments if a.label == "fA2")
    with impersonate(conn, claims_of(w, "m1")):
        assert conn.execute(
            "select id from public.tickets where id = %s", (internal.ticket,)
        ).fetchall()  # ticket visible
        assert (
            conn.execute(
                "select id from storage.objects where name = %s", (internal.storage_path,)
            ).fetchall()
            == []
        )


def test_a_client_cannot_upload_into_another_orgs_folder(world_db):
    conn, w = world_db
    foreign = next(a for a in w.attachments if a.label == "fB1")
    sql = "insert into storage.objects (bucket_id, name, owner) values ('attachments', %s, %s) returning id"
    with impersonate(conn, claims_of(w, "m1")):
        assert (
            sqlstate_of(conn, sql, (f"{foreign.org}/{foreign.ticket}/{uuid.uuid4()}", by_label(w, "m1").id))
            == "42501"
        )
        # Over an existing object: the same refusal as a free name (RLS before the unique key).
        assert sqlstate_of(conn, sql, (foreign.storage_path, by_label(w, "m1").id)) == "42501"


def test_a_client_uploads_exactly_its_own_pending_attachment(world_db):
    conn, w = world_db
    pending = next(a for a in w.attachments if a.label == "fA3")
    sql = "insert into storage.objects (bucket_id, name, owner) values ('attachments', %s, %s) returning id"
    with impersonate(conn, claims_of(w, "m2")):
        assert (
            sqlstate_of(conn, sql, (pending.storage_path, by_label(w, "m2").id)) == "42501"
        )  # not the uploader
    with impersonate(conn, claims_of(w, "m1")):
        assert sqlstate_of(conn, sql, (pending.storage_path, by_label(w, "m1").id)) is None


def test_planner_covers_every_table_and_command(small_world):
    """Guard on the suite itself: the write plan of an admin touches every writable table with every command."""
    ident = Identity(by_label(small_world, "ad"))
    planner = _Planner(small_world, ident, RandomChooser(random.Random(0)))
    assert planner.c.role == "admin"
    probes = plan_writes(small_world, ident, RandomChooser(random.Random(0)))
    covered = {(p.table, p.command) for p in probes}
    for table in model.TABLES:
        if table in model.SLA_TABLES or table == "storage.buckets":
            continue
        assert any(t == table for t, _ in covered), table


# --- Table privileges RLS does not govern, and temporary objects (db/schema/0360) -----

LEAKING_TRIGGER_FUNCTION = """
create function pg_temp.leak() returns trigger language plpgsql as $$
begin
    perform pg_notify('leak', (select string_agg(subject, ',') from public.tickets) || current_setting('request.jwt.claims', true));
    return new;
end
$$
"""


@pytest.mark.parametrize("label", [None, "m1", "ca", "ag", "ad"])
def test_no_api_caller_can_put_a_trigger_on_storage_objects_nor_create_its_pg_temp_body(world_db, label):
    """The attack of finding (1): as `authenticated` (the portal's login plus an SQL injection), a trigger with a
    pg_temp function on storage.objects ran as whoever uploaded next and leaked other tenants' ticket subjects
    and JWT claims through pg_notify. Both halves now fail: no TEMP (no pg_temp function), no TRIGGER (not
    even with a function the caller may execute), for anon and for every authenticated identity."""
    conn, w = world_db
    with impersonate(conn, claims_of(w, label) if label else None):
        assert sqlstate_of(conn, LEAKING_TRIGGER_FUNCTION) == "42501"
        assert sqlstate_of(conn, "create temporary table loot (subject text)") == "42501"
        assert conn.execute(
            "select has_function_privilege('storage.protect_delete()', 'execute')"
        ).fetchone()[0]
        for table in ("storage.objects", "storage.buckets", "public.tickets", "public.attachments"):
            trigger = (
                f"create trigger leak before insert on {table} for each row"
                " execute function storage.protect_delete()"
            )
            assert sqlstate_of(conn, trigger) == "42501", table
    assert conn.execute(
        "select count(*) from pg_catalog.pg_trigger where tgname = 'leak' or tgfoid::regproc::text like 'pg_temp%'"
    ).fetchone() == (0,)


def _reachable_relations(conn: psycopg.Connection, role: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            """select c.oid::regclass::text from pg_catalog.pg_class as c
               inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
               where c.relkind in ('r', 'p') and has_schema_privilege(%s, n.oid, 'usage')
                 and n.nspname not in ('pg_catalog', 'information_schema')
               order by 1""",
            (role,),
        ).fetchall()
    ]


@pytest.mark.parametrize("label", [None, "m1", "ad"])
def test_no_api_caller_can_truncate_any_table_it_can_reach_and_storage_keeps_every_row(world_db, label):
    """`truncate storage.objects` deleted every tenant's file rows past RLS and Storage's delete guard (a row
    trigger never fires on TRUNCATE). Now every table in every schema the role may use refuses it."""
    conn, w = world_db
    role = "authenticated" if label else "anon"
    relations = _reachable_relations(conn, role)
    assert {"storage.objects", "storage.buckets"} <= set(relations)  # and every table of public, private...
    before = conn.execute("select count(*) from storage.objects").fetchone()[0]
    with impersonate(conn, claims_of(w, label) if label else None):
        allowed = [t for t in relations if sqlstate_of(conn, f"truncate {t}") != "42501"]
        # Nor can a foreign key from a table of the caller's pin or probe rows: it has nowhere to create one.
        schemas = conn.execute(
            "select nspname from pg_catalog.pg_namespace where has_schema_privilege(oid, 'create')"
        ).fetchall()
    assert allowed == [] and schemas == []
    assert conn.execute("select count(*) from storage.objects").fetchone()[0] == before > 0


def test_the_api_roles_hold_no_table_privilege_rls_does_not_govern_anywhere(db):
    """The catalog lint's rule, asked directly: no TRIGGER, TRUNCATE, REFERENCES or MAINTAIN for anon or
    authenticated on any relation of any schema they may use, and no TEMP on the database."""
    held = db.execute(
        """select r.role_name, c.oid::regclass::text, p.privilege
           from pg_catalog.pg_class as c
           inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
           cross join (values ('anon'), ('authenticated')) as r (role_name)
           cross join (values ('trigger'), ('truncate'), ('references'), ('maintain')) as p (privilege)
           where c.relkind in ('r', 'p', 'v', 'm', 'f') and has_schema_privilege(r.role_name, n.oid, 'usage')
             and has_table_privilege(r.role_name, c.oid, p.privilege)"""
    ).fetchall()
    temp = db.execute(
        "select has_database_privilege('anon', current_database(), 'temp'),"
        " has_database_privilege('authenticated', current_database(), 'temp'),"
        " has_database_privilege('authenticator', current_database(), 'temp'),"
        " has_database_privilege('service_role', current_database(), 'temp')"
    ).fetchone()
    assert held == []
    assert temp == (False, False, False, True)  # the platform's roles keep TEMP by name


# --- Ticket activity and the client admin's company (README §6, db/schema/0342, 0343) -------------------


def _commit_as(
    conn: psycopg.Connection, claims: dict[str, object] | None, sql: str, params: tuple = ()
) -> Any:
    """Run one statement as PostgREST would for `claims` and commit it (impersonate() always rolls back); the
    first column of its first row, if it returns any."""
    with conn.transaction():
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        cur = conn.execute(sql, params)
        row = cur.fetchone() if cur.description else None
    return row[0] if row else None


def _activity(conn: psycopg.Connection, ticket: uuid.UUID) -> list[tuple]:
    return conn.execute(
        "select a.kind, a.changes, a.file_name, a.actor_id from private.ticket_activity(%s) as a", (ticket,)
    ).fetchall()


def test_ticket_activity_answers_only_about_visible_tickets_and_hides_internal_files_from_clients(world_db):
    """Invariant: private.ticket_activity answers a ticket's opened / changed / attachment events only to a
    caller who sees the ticket (nothing, never an error, for anyone else: a member who does not see it,
    another organization, staff below aal2, strangers; anon may not call it), a client never the file of an
    internal note, and the changed values are the workflow columns only (status, priority, assignee)."""
    conn, w = world_db
    ta1 = next(t for t in w.tickets if t.label == "tA1")
    a = w.orgs[0]
    ag, m1 = by_label(w, "ag"), by_label(w, "m1")
    # Committed, so that every identity below reads the entries (load_world leaves only its own audit rows).
    change = "update public.tickets set status = 'pending', priority = 'high' where id = %s"
    _commit_as(conn, claims_of(w, "ag"), change, (ta1.id,))
    upload = (
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, internal, file_name,"
        " content_type, size_bytes, sha256) values (%s, %s, %s, %s, %s, 'text/plain', 10, repeat('a', 64))"
    )
    _commit_as(conn, claims_of(w, "ag"), upload, (ta1.id, a.id, ag.id, True, "internal.txt"))
    _commit_as(conn, claims_of(w, "m1"), upload, (ta1.id, a.id, m1.id, False, "screenshot.txt"))
    phoned = _commit_as(
        conn,
        claims_of(w, "ag"),
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values (%s, %s, 'Phoned in', 'By phone') returning id",
        (a.id, m1.id),
    )

    def seen(label: str, ticket: uuid.UUID) -> list[tuple]:
        with impersonate(conn, claims_of(w, label)):
            return [(k, c, f) for k, c, f, _ in _activity(conn, ticket)]

    changed = ("changed", {"status": "pending", "priority": "high"}, None)
    assert seen("ag", ta1.id) == [
        changed,
        ("attachment", None, "internal.txt"),
        ("attachment", None, "screenshot.txt"),
    ]
    assert seen("ad", ta1.id) == seen("ag", ta1.id)
    assert seen("m1", ta1.id) == seen("ca", ta1.id) == [changed, ("attachment", None, "screenshot.txt")]
    for outsider in ("m2", "mb", "ag1", "ad1", "dx", "inv"):  # m2: A does not share tickets
        assert seen(outsider, ta1.id) == [], outsider
    with impersonate(conn, claims_of(w, "m1")):
        assert [(k, actor) for k, _, _, actor in _activity(conn, phoned)] == [("opened", ag.id)]
    with impersonate(conn, None):
        assert sqlstate_of(conn, "select * from private.ticket_activity(%s)", (ta1.id,)) == "42501"
    with impersonate(conn, claims_of(w, "ag")):
        columns = conn.execute("select * from private.ticket_activity(%s)", (ta1.id,)).description
    assert [c.name for c in columns] == ["at", "actor_id", "kind", "changes", "attachment_id", "file_name"]


def test_invitation_status_for_client_admins_covers_their_own_organization_only(world_db):
    conn, w = world_db
    everybody = [u.id for u in w.users]
    with impersonate(conn, claims_of(w, "ca")):
        rows = conn.execute(
            "select s.id from private.my_organization_invitation_status(%s::uuid[]) as s", (everybody,)
        ).fetchall()
    assert {r[0] for r in rows} == {by_label(w, label).id for label in ("m1", "m2", "ca", "dx")}
    for label in ("m1", "mb", "ag", "ad", "inv"):
        with impersonate(conn, claims_of(w, label)):
            sql = "select * from private.my_organization_invitation_status(%s::uuid[])"
            assert sqlstate_of(conn, sql, (everybody,)) == "42501", label
    with impersonate(conn, None):
        assert sqlstate_of(conn, "select * from private.my_organization_invitation_status('{}')") == "42501"


def test_only_a_client_admin_switches_ticket_sharing_and_only_for_their_own_organization(world_db):
    """Invariant: private.set_my_organization_sharing changes shared_tickets of the caller's organization when
    the caller is an active client admin, and is refused (42501) to everyone else; no other organization or
    column changes. The row itself stays admin-only for direct UPDATEs (README §3)."""
    conn, w = world_db
    a, b = w.orgs
    before = conn.execute("select id, name, shared_tickets from public.organizations order by id").fetchall()
    for label in ("m1", "mb", "ag", "ad", "dx", "inv"):
        with impersonate(conn, claims_of(w, label)):
            assert sqlstate_of(conn, "select private.set_my_organization_sharing(true)") == "42501", label
    with impersonate(conn, None):
        assert sqlstate_of(conn, "select private.set_my_organization_sharing(true)") == "42501"
    with impersonate(conn, claims_of(w, "ca")):  # the direct UPDATE touches no row (README §3: admins only)
        assert conn.execute("update public.organizations set shared_tickets = true").rowcount == 0
    _commit_as(conn, claims_of(w, "ca"), "select private.set_my_organization_sharing(true)")
    after = conn.execute("select id, name, shared_tickets from public.organizations order by id").fetchall()
    assert {r[0]: r[2] for r in after} == {r[0]: (r[0] == a.id) or r[2] for r in before}
    assert [r[:2] for r in after] == [r[:2] for r in before]
    assert conn.execute(
        "select actor_id, changed_columns from public.audit_log where object_id = %s and action = 'update'",
        (a.id,),
    ).fetchall() == [(by_label(w, "ca").id, ["shared_tickets"])]
    assert b.shared_tickets  # B untouched (it shares already)


def test_staff_among_marks_only_nameable_staff(world_db):
    conn, w = world_db
    everybody = [u.id for u in w.users]
    expected = {"m1": {"ag"}, "m2": set(), "ca": {"ag"}, "mb": set(), "ag": {"ag", "ag1", "ad", "ad1"}}
    expected |= {"ad": {"ag", "ag1", "ad", "ad1"}, "ag1": set(), "dx": set(), "inv": set()}
    labels = {u.id: u.label for u in w.users}
    for label, staff in expected.items():
        with impersonate(conn, claims_of(w, label)):
            rows = conn.execute("select * from private.staff_among(%s::uuid[])", (everybody,)).fetchall()
        assert {labels[r[0]] for r in rows} == staff, label
    with impersonate(conn, None):
        assert sqlstate_of(conn, "select * from private.staff_among('{}')") == "42501"
