"""Every security definer function of `public` and `private`, called by every identity of
db/policies/README.md §1, against the specification below (§6 of the same file in table form).

A definer runs as its owner and bypasses every policy, so each one must check its caller itself. The
functions are enumerated from the catalog: a new definer that is not in SPEC fails the suite until someone
writes down who may call it, and each (function, identity) pair is called for real, as PostgREST would
(`impersonate`: `set local role`, transaction-local JWT claims), and its outcome compared with SPEC.

Outcomes:
- `refused`: 42501 (no EXECUTE privilege, or the function's own caller check), or 0A000 for a trigger
  function called directly: the caller learns and changes nothing;
- `nothing`: the call succeeds and answers nothing (null, false, no rows): what the self-describing helpers
  and display_names answer a stranger;
- `allowed`: the call got past the caller check: it answered something, did its work (void), or failed with
  the function's own domain error about its arguments (unknown request, wrong state, ...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg
import pytest

from db.rls.model import Identity, User, World
from db.testing import impersonate, jwt_claims

ANON = "anon"
NO_SUB = "token without sub"
STRANGER = "stranger (no profile)"
ANONYMOUS = "anonymous sign-in"
DEACTIVATED = "deactivated"
ERASED = "erased"
MEMBER = "client_member"
CLIENT_ADMIN = "client_admin"
AGENT = "agent"
ADMIN = "admin"
AGENT_AAL1 = "agent at aal1"
ADMIN_AAL1 = "admin without aal"

CLIENTS = frozenset({MEMBER, CLIENT_ADMIN})
ACTIVE = CLIENTS | {AGENT, ADMIN}  # §1's identities that see anything at all
STAFF_BELOW_AAL2 = frozenset({AGENT_AAL1, ADMIN_AAL1})
INACTIVE = frozenset({NO_SUB, STRANGER, ANONYMOUS, DEACTIVATED, ERASED})
AUTHENTICATED = ACTIVE | STAFF_BELOW_AAL2 | INACTIVE
IDENTITIES = sorted(AUTHENTICATED | {ANON})


@dataclass(frozen=True)
class Spec:
    """How to call the function (psycopg named parameters from `arguments()`) and who gets what; every
    identity not named is `refused`."""

    call: str
    allowed: frozenset[str] = frozenset()
    nothing: frozenset[str] = frozenset()
    why: str = field(default="", compare=False)


def owner_only(call: str, why: str) -> Spec:
    return Spec(call, why=why)


def trigger(name: str) -> Spec:
    return Spec(f"select {name}()", why="trigger function: runs only as a trigger, never called directly")


SELF_DESCRIBING = "answers about the caller only (README §5 helpers)"
SPEC: dict[str, Spec] = {
    # -- helpers the policies call (0006, 0260, 0270): every token may ask, strangers learn nothing --------
    "private.current_app_role()": Spec(
        "select private.current_app_role()",
        allowed=ACTIVE | STAFF_BELOW_AAL2,  # their own role; the restrictive MFA policies stop staff at aal1
        nothing=INACTIVE,
        why=SELF_DESCRIBING,
    ),
    "private.current_org_id()": Spec(
        "select private.current_org_id()",
        allowed=CLIENTS,
        nothing=AUTHENTICATED - CLIENTS,
        why=SELF_DESCRIBING,
    ),
    "private.agent_org_ids()": Spec(
        "select private.agent_org_ids()",
        allowed=frozenset({AGENT, AGENT_AAL1}),
        nothing=AUTHENTICATED - {AGENT, AGENT_AAL1},
        why=SELF_DESCRIBING,
    ),
    "private.sees_all_org_tickets()": Spec(
        # the member's organization A does not share tickets: false
        "select private.sees_all_org_tickets()",
        allowed=frozenset({CLIENT_ADMIN}),
        nothing=AUTHENTICATED - {CLIENT_ADMIN},
        why=SELF_DESCRIBING,
    ),
    "private.ticket_org_ids()": Spec(
        "select private.ticket_org_ids()",
        allowed=ACTIVE | STAFF_BELOW_AAL2,
        nothing=INACTIVE,
        why=SELF_DESCRIBING,
    ),
    "private.is_storage_sweeper()": Spec(
        "select private.is_storage_sweeper()", nothing=AUTHENTICATED, why="true for the sweeper account only"
    ),
    "private.is_queued_for_deletion(text,text)": Spec(
        "select private.is_queued_for_deletion('attachments', %(object_name)s)",
        nothing=AUTHENTICATED,
        why="answers the sweeper account only",
    ),
    "private.session_is_live()": Spec(
        # small_world's tokens name sessions that auth.sessions does not hold: false for every one of them
        # (tests/app/test_sessions.py proves the true answer and the sign-out)
        "select private.session_is_live()",
        nothing=AUTHENTICATED,
        why="§6 (db/functions/sessions.sql): whether the caller's own session (JWT session_id) is still live; about no one else",
    ),
    # -- functions that act for the caller (§6) --------------------------------------------------------------
    "private.record_read(text,uuid)": Spec(
        "select private.record_read('tickets', %(ticket)s)",
        allowed=ACTIVE,  # tA1 is visible to each of them
        why="a read the caller could make, by an active user (staff at aal2): 0361",
    ),
    "private.record_sign_in()": Spec(
        "select private.record_sign_in()",
        allowed=AUTHENTICATED - {NO_SUB},
        why="any token with a sub: it logs the aal1 step of a sign-in too (§6)",
    ),
    "private.my_dsr_export()": Spec("select private.my_dsr_export()", allowed=ACTIVE, why="§6 self-service"),
    "private.request_my_dsr(text,text)": Spec(
        "select private.request_my_dsr('objection', null)", allowed=ACTIVE, why="§6 self-service"
    ),
    "private.display_names(uuid[])": Spec(
        "select * from private.display_names(%(people)s::uuid[])",
        allowed=ACTIVE,
        nothing=STAFF_BELOW_AAL2 | INACTIVE,
        why="§6: names the caller may see; the empty set for strangers and staff below aal2",
    ),
    "private.staff_among(uuid[])": Spec(
        "select * from private.staff_among(%(people)s::uuid[])",
        allowed=ACTIVE,
        nothing=STAFF_BELOW_AAL2 | INACTIVE,
        why="§6 (0341): the staff among the people display_names answers the caller",
    ),
    "private.ticket_activity(uuid)": Spec(
        "select * from private.ticket_activity(%(ticket)s)",
        allowed=ACTIVE,  # tA1 is visible to each of them
        nothing=STAFF_BELOW_AAL2 | INACTIVE,
        why="§6 (0342): a visible ticket's history; nothing, never an error, for anyone who cannot see it",
    ),
    "private.set_my_organization_sharing(boolean)": Spec(
        "select private.set_my_organization_sharing(false)",
        allowed=frozenset({CLIENT_ADMIN}),
        why="§6 (0343): an active client admin, for their own organization only",
    ),
    "private.my_organization_invitation_status(uuid[])": Spec(
        "select * from private.my_organization_invitation_status(%(people)s::uuid[])",
        allowed=frozenset({CLIENT_ADMIN}),
        why="§6 (0343): an active client admin, for people of their own organization only",
    ),
    "private.admin_dsr_export(uuid)": Spec(
        "select private.admin_dsr_export(%(dsr)s)", allowed=frozenset({ADMIN}), why="§6 admin at aal2"
    ),
    "private.admin_dsr_rectify(uuid,jsonb)": Spec(
        "select private.admin_dsr_rectify(%(dsr)s, '{}'::jsonb)", allowed=frozenset({ADMIN}), why="§6"
    ),
    "private.admin_dsr_erase(uuid,jsonb)": Spec(
        "select private.admin_dsr_erase(%(dsr)s, '[]'::jsonb)", allowed=frozenset({ADMIN}), why="§6"
    ),
    "private.admin_dsr_restrict(uuid,boolean,jsonb)": Spec(
        "select private.admin_dsr_restrict(%(dsr)s, true, '[]'::jsonb)", allowed=frozenset({ADMIN}), why="§6"
    ),
    "private.admin_dsr_object(uuid,text,text)": Spec(
        "select private.admin_dsr_object(%(dsr)s, 'analytics', 'test')", allowed=frozenset({ADMIN}), why="§6"
    ),
    "private.admin_dsr_complete(uuid,text,jsonb)": Spec(
        "select private.admin_dsr_complete(%(dsr)s, 'completed', '[]'::jsonb)",
        allowed=frozenset({ADMIN}),
        why="§6",
    ),
    "private.admin_invitation_status(uuid[])": Spec(
        "select * from private.admin_invitation_status(%(people)s::uuid[])",
        allowed=frozenset({ADMIN}),
        why="§6",
    ),
    "private.admin_resend_invitation(uuid)": Spec(
        "select private.admin_resend_invitation(%(person)s)", allowed=frozenset({ADMIN}), why="§6"
    ),
    # -- attempt limits (db/functions/rate_limits.sql): the portal's bookkeeping; only its HMAC key names a bucket ---------------
    "private.rate_limit_attempt(text,bytea,bytea)": Spec(
        "select * from private.rate_limit_attempt('sign_in', %(key)s, %(key)s)",
        allowed=AUTHENTICATED,
        why="§6 (0373): any authenticated caller, even without sub (attempts come before any session)",
    ),
    "private.rate_limit_succeeded(text,bytea,bytea,timestamp with time zone)": Spec(
        "select private.rate_limit_succeeded('sign_in', %(key)s, %(key)s, now())",
        allowed=AUTHENTICATED,
        why="§6 (0373): as rate_limit_attempt; the bucket names (keyed HMAC) are the caller check",
    ),
    # -- not for the API roles at all: owner, service_role, nexk_notifier or supabase_auth_admin only --------
    "private.write_audit_entry(text,text,uuid,text[])": owner_only(
        "select private.write_audit_entry('read', 'tickets', %(ticket)s, null)", "inside definers only"
    ),
    "private.write_audit_entry(text,text,uuid,text[],jsonb)": owner_only(
        "select private.write_audit_entry('update', 'tickets', %(ticket)s, null, null)",
        "inside definers and the audit trigger only (0342: with the new values of ticket workflow columns)",
    ),
    "private.is_restricted(uuid)": owner_only(
        "select private.is_restricted(%(person)s)", "service_role only: no oracle for Art. 18 (§8)"
    ),
    "private.enqueue_notification(text,text,text,uuid,uuid,text,jsonb)": owner_only(
        "select private.enqueue_notification('ticket_created', 'en', 'x@example.test', %(person)s,"
        " %(ticket)s, 'k', '{}'::jsonb)",
        "nexk_notifier only (§7)",
    ),
    "private.record_delivery_event(uuid,text,text,timestamp with time zone)": owner_only(
        "select private.record_delivery_event(%(ticket)s, 'delivered', 'm', now())", "nexk_notifier only (§7)"
    ),
    "private.notifier_business_calendar(uuid)": owner_only(
        "select private.notifier_business_calendar(%(ticket)s)", "nexk_notifier only (§7)"
    ),
    "private.notifier_sla_recipients(uuid,uuid)": owner_only(
        "select private.notifier_sla_recipients(%(person)s, %(ticket)s)", "nexk_notifier only (§7)"
    ),
    "private.notifier_open_tickets()": owner_only(
        "select * from private.notifier_open_tickets()", "nexk_notifier only (§7)"
    ),
    "private.hook_before_user_created(jsonb)": owner_only(
        "select private.hook_before_user_created('{}'::jsonb)", "supabase_auth_admin only (§9)"
    ),
    **{
        name + "()": trigger(name)
        for name in (
            "private.check_agent_assignment",
            "private.check_ticket_people",
            "private.stamp_first_response",
            "private.audit_row_change",
            "private.guard_restricted_ticket",
            "private.guard_restricted_ticket_content",
            "private.guard_erased_profile",  # §8b: immutability of erased profiles (0376)
            "private.notify_ticket_created",
            "private.notify_ticket_status",
            "private.notify_agent_reply",
            "private.track_sla_pause",
            "private.track_awaiting_reply",
            "private.apply_client_reply",
            "private.prepare_invitation",
            "private.refuse_invitation_of_account",
            "private.claim_invitation",
            "private.create_invited_profile",
        )
    },
}


def definer_functions(conn: psycopg.Connection) -> dict[str, str]:
    """Every security definer function of public and private: signature -> result type."""
    return dict(
        conn.execute(
            """select p.oid::regprocedure::text, pg_catalog.pg_get_function_result(p.oid)
               from pg_catalog.pg_proc as p
               inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
               where p.prosecdef and n.nspname in ('public', 'private')"""
        ).fetchall()
    )


def _user(world: World, label: str) -> User:
    return next(u for u in world.users if u.label == label)


def identities(world: World) -> dict[str, dict[str, object] | None]:
    """The claims of each identity of §1, in small_world (db/tests/conftest.py); m2 is erased by the test."""

    def of(label: str) -> dict[str, object] | None:
        return Identity(_user(world, label)).claims()

    return {
        ANON: None,
        NO_SUB: jwt_claims(None),
        STRANGER: of("inv"),
        ANONYMOUS: jwt_claims(uuid.uuid4(), is_anonymous=True),
        DEACTIVATED: of("dx"),
        ERASED: of("m2"),
        MEMBER: of("m1"),
        CLIENT_ADMIN: of("ca"),
        AGENT: of("ag"),
        ADMIN: of("ad"),
        AGENT_AAL1: of("ag1"),
        ADMIN_AAL1: of("ad1"),
    }


class _Done(Exception):
    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows


def outcome(conn: psycopg.Connection, sql: str, params: dict[str, object], result_type: str) -> str:
    """Call once in a savepoint (rolled back) and classify the result (module docstring)."""
    try:
        with conn.transaction():
            raise _Done(conn.execute(sql, params).fetchall())
    except _Done as done:
        rows = done.rows
    except psycopg.Error as exc:
        return "refused" if exc.sqlstate in ("42501", "0A000") else "allowed"
    if result_type == "void":
        return "allowed"
    values = [value for row in rows for value in row]
    return "allowed" if any(value not in (None, False, [], {}) for value in values) else "nothing"


def expected(spec: Spec, identity: str) -> str:
    if identity in spec.allowed:
        return "allowed"
    return "nothing" if identity in spec.nothing else "refused"


def test_the_specification_names_every_definer_function_and_nothing_else(db):
    found = definer_functions(db)
    missing = sorted(set(found) - set(SPEC))
    assert not missing, (
        f"security definer functions with no line in SPEC: {missing}. Write down who may call each "
        "(db/policies/README.md §6 and SPEC here), and make the function check it."
    )
    assert sorted(set(SPEC) - set(found)) == [], "SPEC names functions that no longer exist"
    for name, spec in SPEC.items():
        assert ANON not in spec.allowed | spec.nothing, f"{name}: anon may call no definer function"
        assert not spec.allowed & spec.nothing, name
        assert spec.why, f"{name}: say why"


def test_every_definer_function_answers_every_identity_as_the_specification_says(world_db):
    """Invariant: for each security definer function of public and private and each identity of §1 (anon, a
    token without sub, a stranger without profile, an anonymous sign-in, a deactivated and an erased person,
    each role at aal2, staff at aal1 or without aal), the outcome of a real call is the one SPEC states."""
    conn, w = world_db
    conn.execute("update public.profiles set erased_at = now() where id = %s", (_user(w, "m2").id,))
    tickets = {t.label: t for t in w.tickets}
    # The world is loaded as the owner, which the audit trigger does not log: give tA1 the entry its opening
    # would have written, so ticket_activity has a history to answer (or withhold).
    conn.execute(
        "select private.write_audit_entry('insert', 'tickets', %s, null, null)", (tickets["tA1"].id,)
    )
    arguments = {
        "ticket": tickets["tA1"].id,  # visible to m1, ca, ag and ad
        "dsr": w.dsrs[0].id,
        "person": _user(w, "m1").id,
        "people": [u.id for u in w.users],
        "object_name": next(o.name for o in w.objects),
        "key": bytes(32),  # a bucket name as app/rate_limits.py makes them (an HMAC-SHA256)
    }
    types = definer_functions(conn)
    mismatches = []
    for identity, claims in identities(w).items():
        with impersonate(conn, claims):
            for name, spec in sorted(SPEC.items()):
                if name not in types:
                    continue  # the test above reports it
                got = outcome(conn, spec.call, arguments, types[name])
                if got != expected(spec, identity):
                    mismatches.append(f"{name} as {identity}: {got}, specified {expected(spec, identity)}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("table", ["public.tickets", "public.attachments"])
def test_record_read_logs_exactly_the_reads_the_caller_could_make(world_db, table):
    """Invariant: private.record_read(table, id) writes one `read` entry, as the caller, exactly when the
    caller can SELECT that row (every identity and every row of small_world, plus an unknown id); otherwise
    42501 and no entry, the same for a row that exists and one that does not (no existence oracle)."""
    conn, w = world_db
    conn.execute("update public.profiles set erased_at = now() where id = %s", (_user(w, "m2").id,))
    rows = [r[0] for r in conn.execute(f"select id from {table}").fetchall()] + [uuid.uuid4()]  # noqa: S608
    short = table.removeprefix("public.")
    wrong = []
    for identity, claims in identities(w).items():
        with impersonate(conn, claims):
            readable = set() if claims is None else {r[0] for r in conn.execute(f"select id from {table}")}  # noqa: S608
            for row in rows:
                got = outcome(
                    conn, "select private.record_read(%(t)s, %(id)s)", {"t": short, "id": row}, "void"
                )
                if got != ("allowed" if row in readable else "refused"):
                    wrong.append(f"{identity} {short} {row}: {got}")
            if readable:  # one real call: the entry names the caller, who can read it back (§3 audit_log)
                row = sorted(readable)[0]
                conn.execute("select private.record_read(%s, %s)", (short, row))
                actors = conn.execute(
                    "select actor_id from public.audit_log where action = 'read' and object_id = %s", (row,)
                ).fetchall()
                assert actors == [(uuid.UUID(str(claims["sub"])),)], identity
    assert not wrong, "\n".join(wrong)
    # Only tickets and attachments are logged this way.
    with (
        impersonate(conn, identities(w)[ADMIN]),
        pytest.raises(psycopg.errors.InvalidParameterValue),
        conn.transaction(),
    ):
        conn.execute("select private.record_read('profiles', %s)", (_user(w, "m1").id,))
