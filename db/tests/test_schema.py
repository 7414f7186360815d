"""The data model's own guarantees: constraints, covering indexes, RLS switched on, audit and immutability.

These run as the owner (the `db` fixture) unless a test says otherwise: they check the schema, not the
access rules (those are in test_policies_smoke.py and the isolation suite).
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors

from db import testing_world as make
from db.testing import impersonate, jwt_claims


def _one(db: psycopg.Connection, query: str, params: tuple = ()) -> object:
    row = db.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _plan(db: psycopg.Connection) -> object:
    return make.sla_plan(db, make.calendar(db, "Brussels"), code="std", name="Std")


def _org(db: psycopg.Connection, enterprise_number: str | None = None, **kw: Any) -> object:
    plan = kw.get("plan") or _plan(db)
    return make.organization(
        db, "Alpha", plan, enterprise_number=enterprise_number, contract_start=kw.get("start", "2026-01-01"),
        contract_end=kw.get("end"),
    )  # fmt: skip


def _person(db: psycopg.Connection, role: str, org: Any) -> uuid.UUID:
    uid = uuid.uuid4()
    return make.person(db, f"{uid}@example.com", role, org, user_id=uid)


def _ticket(db: psycopg.Connection, org: Any, requester: uuid.UUID) -> object:
    return make.ticket(db, org, requester, subject="Mail", description="Bounces")


def public_tables(db: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "select c.relname from pg_catalog.pg_class as c where c.relnamespace = 'public'::regnamespace"
            " and c.relkind in ('r', 'p') order by 1"
        )
    ]


def test_every_public_table_has_rls_enabled_and_forced(db: psycopg.Connection) -> None:
    rows = db.execute(
        "select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_catalog.pg_class as c"
        " where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')"
    ).fetchall()
    assert len(rows) >= 13
    assert [name for name, enabled, forced in rows if not (enabled and forced)] == []


def test_storage_objects_has_rls_enabled(db: psycopg.Connection) -> None:
    assert _one(db, "select relrowsecurity from pg_catalog.pg_class where oid = 'storage.objects'::regclass")


def test_every_public_table_has_the_restrictive_mfa_policy_for_staff(db: psycopg.Connection) -> None:
    covered = {
        row[0]
        for row in db.execute(
            "select tablename from pg_catalog.pg_policies where schemaname = 'public'"
            " and permissive = 'RESTRICTIVE' and cmd = 'ALL' and roles = '{authenticated}'"
            " and qual like '%is_staff()%has_mfa()%' and with_check like '%is_staff()%has_mfa()%'"
        )
    }
    assert set(public_tables(db)) - covered == set()


def test_every_policy_is_for_authenticated_only(db: psycopg.Connection) -> None:
    roles = db.execute(
        "select distinct roles::text from pg_catalog.pg_policies where schemaname in ('public', 'storage')"
    ).fetchall()
    assert roles == [("{authenticated}",)]


def test_every_write_policy_has_a_check_or_a_using(db: psycopg.Connection) -> None:
    missing = db.execute(
        "select tablename, policyname from pg_catalog.pg_policies where schemaname in ('public', 'storage')"
        " and ((cmd = 'INSERT' and with_check is null) or (cmd = 'UPDATE' and (with_check is null or qual is null)))"
    ).fetchall()
    assert missing == []


def test_anon_holds_no_privilege_on_any_public_table(db: psycopg.Connection) -> None:
    granted = db.execute(
        "select table_name, privilege_type from information_schema.role_table_grants"
        " where grantee = 'anon' and table_schema = 'public'"
    ).fetchall()
    assert granted == []
    columns = db.execute(
        "select table_name, column_name from information_schema.column_privileges"
        " where grantee = 'anon' and table_schema = 'public'"
    ).fetchall()
    assert columns == []


def test_authenticated_can_never_truncate_or_update_whole_tables_with_privileged_columns(
    db: psycopg.Connection,
) -> None:
    table_level = db.execute(
        "select table_name, privilege_type from information_schema.role_table_grants"
        " where grantee = 'authenticated' and table_schema = 'public'"
        " and privilege_type in ('TRUNCATE', 'REFERENCES', 'TRIGGER', 'UPDATE', 'INSERT')"
    ).fetchall()
    assert table_level == []


def test_every_foreign_key_has_a_covering_index(db: psycopg.Connection) -> None:
    uncovered = db.execute(
        """
        select c.conrelid::regclass::text, c.conname
        from pg_catalog.pg_constraint as c
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace
          and not exists (
              select from pg_catalog.pg_index as i
              where i.indrelid = c.conrelid
                and (
                    select array_agg(k order by k)
                    from unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) as k
                ) = (select array_agg(k order by k) from unnest(c.conkey) as k)
          )
        """
    ).fetchall()
    assert uncovered == []


def test_private_functions_pin_search_path_and_public_has_none(db: psycopg.Connection) -> None:
    unpinned = db.execute(
        "select p.proname from pg_catalog.pg_proc as p where p.pronamespace = 'private'::regnamespace"
        " and not coalesce(p.proconfig::text like '%search_path=%', false)"
    ).fetchall()
    assert unpinned == []
    in_public = db.execute(
        "select count(*) from pg_catalog.pg_proc where pronamespace = 'public'::regnamespace"
    )
    assert in_public.fetchone() == (0,)


def test_private_functions_are_not_executable_by_anon(db: psycopg.Connection) -> None:
    executable = db.execute(
        "select p.proname from pg_catalog.pg_proc as p where p.pronamespace = 'private'::regnamespace"
        " and has_function_privilege('anon', p.oid, 'execute')"
    ).fetchall()
    assert executable == []


def test_public_schema_has_no_views(db: psycopg.Connection) -> None:
    assert (
        _one(
            db,
            "select count(*) from pg_catalog.pg_class where relnamespace = 'public'::regnamespace"
            " and relkind in ('v', 'm')",
        )
        == 0
    )


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("0403.170.701", True),
        ("1037.508.040", True),  # NexK's own number (privacy policy), new-style leading 1
        ("1037.508.041", False),  # wrong check digits
        ("0403170701", False),  # undotted: stored in the canonical dotted form only
        ("2037.508.040", False),  # enterprise numbers start with 0 or 1
        ("403.170.701", False),
    ],
)
def test_enterprise_number_is_checked_for_format_and_mod97(
    db: psycopg.Connection, number: str, valid: bool
) -> None:
    assert _one(db, "select private.is_valid_be_enterprise_number(%s)", (number,)) is valid
    plan = _plan(db)
    if valid:
        _org(db, number, plan=plan)
    else:
        with pytest.raises(errors.CheckViolation):
            _org(db, number, plan=plan)


def test_contract_cannot_end_before_it_starts(db: psycopg.Connection) -> None:
    with pytest.raises(errors.CheckViolation):
        _org(db, start="2026-06-01", end="2026-05-31")


@pytest.mark.parametrize(("role", "with_org"), [("agent", True), ("admin", True), ("client_member", False)])
def test_staff_have_no_organization_and_clients_exactly_one(
    db: psycopg.Connection, role: str, with_org: bool
) -> None:
    org = _org(db) if with_org else None
    with pytest.raises(errors.CheckViolation):
        _person(db, role, org)


def test_profile_rejects_unknown_role_language_and_theme(db: psycopg.Connection) -> None:
    uid = _person(db, "client_member", _org(db))
    for change in ("role = 'owner'", "language = 'de'", "theme = 'blue'"):
        with pytest.raises(errors.CheckViolation):
            db.execute(f"update public.profiles set {change} where id = %s", (uid,))  # noqa: S608


def test_ticket_status_and_priority_are_closed_lists(db: psycopg.Connection) -> None:
    org = _org(db)
    ticket = _ticket(db, org, _person(db, "client_member", org))
    for change in ("status = 'waiting'", "priority = 'critical'"):
        with pytest.raises(errors.CheckViolation):
            db.execute(f"update public.tickets set {change} where id = %s", (ticket,))  # noqa: S608


def test_every_sla_target_is_a_required_positive_number_of_minutes(db: psycopg.Connection) -> None:
    plan = _plan(db)
    insert = (
        "insert into public.sla_policies"
        " (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)"
        " values (%s, %s, %s, %s, %s)"
    )
    with pytest.raises(errors.NotNullViolation):
        db.execute(
            "insert into public.sla_policies (plan_id, priority, first_response_minutes, resolution_minutes)"
            " values (%s, 'normal', 60, 480)",
            (plan,),
        )
    for first, next_response, resolution in ((0, 30, 480), (60, 0, 480), (60, -1, 480), (60, 30, 0)):
        with pytest.raises(errors.CheckViolation):
            db.execute(insert, (plan, "normal", first, next_response, resolution))
    # Next response is not ordered against the other targets: shorter and longer ones are both accepted.
    db.execute(insert, (plan, "normal", 60, 30, 480))
    db.execute(insert, (plan, "high", 60, 120, 480))


def test_resolved_at_follows_the_status(db: psycopg.Connection) -> None:
    org = _org(db)
    ticket = _ticket(db, org, _person(db, "client_member", org))
    query = "update public.tickets set status = %s where id = %s returning resolved_at is not null"
    assert db.execute(query, ("resolved", ticket)).fetchone() == (True,)
    assert db.execute(query, ("open", ticket)).fetchone() == (False,)


def test_requester_must_belong_to_the_tickets_organization(db: psycopg.Connection) -> None:
    plan = _plan(db)
    org_a, org_b = _org(db, plan=plan), _org(db, "1037.508.040", plan=plan)
    with pytest.raises(errors.CheckViolation):
        _ticket(db, org_a, _person(db, "client_member", org_b))


def test_assignee_must_be_an_assigned_agent_or_an_admin(db: psycopg.Connection) -> None:
    org = _org(db)
    ticket = _ticket(db, org, _person(db, "client_member", org))
    agent = _person(db, "agent", None)
    with pytest.raises(errors.CheckViolation):
        db.execute("update public.tickets set assignee_id = %s where id = %s", (agent, ticket))
    db.execute(
        "insert into public.agent_assignments (agent_id, organization_id) values (%s, %s)", (agent, org)
    )
    db.execute("update public.tickets set assignee_id = %s where id = %s", (agent, ticket))
    db.execute(
        "update public.tickets set assignee_id = %s where id = %s", (_person(db, "admin", None), ticket)
    )


def test_only_agents_can_be_assigned_to_organizations(db: psycopg.Connection) -> None:
    org = _org(db)
    with pytest.raises(errors.CheckViolation):
        db.execute(
            "insert into public.agent_assignments (agent_id, organization_id) values (%s, %s)",
            (_person(db, "client_member", org), org),
        )


def test_messages_are_immutable_even_for_the_owner(db: psycopg.Connection) -> None:
    org = _org(db)
    requester = _person(db, "client_member", org)
    ticket = _ticket(db, org, requester)
    message = _one(
        db,
        "insert into public.ticket_messages (ticket_id, author_id, body) values (%s, %s, 'hi') returning id",
        (ticket, requester),
    )
    with pytest.raises(errors.InsufficientPrivilege):
        db.execute("update public.ticket_messages set body = 'edited' where id = %s", (message,))


def test_audit_log_refuses_updates_even_for_the_owner(db: psycopg.Connection) -> None:
    _org(db)
    with pytest.raises(errors.InsufficientPrivilege):
        db.execute("update public.audit_log set action = 'read'")


def test_attachment_path_is_org_ticket_id_and_must_match_the_ticket(db: psycopg.Connection) -> None:
    plan = _plan(db)
    org, other = _org(db, plan=plan), _org(db, "1037.508.040", plan=plan)
    requester = _person(db, "client_member", org)
    ticket = _ticket(db, org, requester)
    insert = (
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name, content_type,"
        " size_bytes, sha256) values (%s, %s, %s, 'a.png', 'image/png', 3, repeat('c', 64))"
        " returning id, storage_path"
    )
    row = db.execute(insert, (ticket, org, requester)).fetchone()
    assert row is not None
    assert row[1] == f"{org}/{ticket}/{row[0]}"
    with pytest.raises(errors.ForeignKeyViolation):
        db.execute(insert, (ticket, other, requester))


def test_attachment_of_an_internal_note_must_be_internal(db: psycopg.Connection) -> None:
    org = _org(db)
    requester = _person(db, "client_member", org)
    ticket = _ticket(db, org, requester)
    note = _one(
        db,
        "insert into public.ticket_messages (ticket_id, author_id, body, internal)"
        " values (%s, %s, 'note', true) returning id",
        (ticket, _person(db, "admin", None)),
    )
    with pytest.raises(errors.ForeignKeyViolation):
        db.execute(
            "insert into public.attachments (ticket_id, organization_id, message_id, uploaded_by, internal,"
            " file_name, content_type, size_bytes, sha256)"
            " values (%s, %s, %s, %s, false, 'a.png', 'image/png', 3, repeat('c', 64))",
            (ticket, org, note, requester),
        )


@pytest.mark.parametrize(
    ("file_name", "content_type", "size_bytes"),
    [("empty.txt", "text/plain", 0), ("x/y.txt", "text/plain", 10), ("a.txt", "not a type", 10)],
)
def test_attachment_metadata_is_validated(
    db: psycopg.Connection, file_name: str, content_type: str, size_bytes: int
) -> None:
    org = _org(db)
    requester = _person(db, "client_member", org)
    ticket = _ticket(db, org, requester)
    with pytest.raises(errors.CheckViolation):
        db.execute(
            "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name, content_type,"
            " size_bytes, sha256) values (%s, %s, %s, %s, %s, %s, repeat('c', 64))",
            (ticket, org, requester, file_name, content_type, size_bytes),
        )


def test_audit_trigger_records_writes_with_actor_ip_agent_and_changed_columns(db: psycopg.Connection) -> None:
    org = _org(db)
    member = _person(db, "client_member", org)
    with impersonate(db, jwt_claims(member)) as conn:
        conn.execute(
            "select set_config('request.headers', %s, true)",
            ('{"x-forwarded-for": "203.0.113.7, 10.0.0.1", "user-agent": "Firefox/140"}',),
        )
        ticket = _one(
            conn,
            "insert into public.tickets (organization_id, requester_id, subject, description)"
            " values (%s, %s, 'Wifi', 'Slow') returning id",
            (org, member),
        )
        conn.execute("update public.tickets set status = 'resolved' where id = %s", (ticket,))
        entries = conn.execute(
            "select actor_id, action, object_table, host(ip), user_agent, changed_columns from public.audit_log"
            " where object_id = %s order by created_at, action",
            (ticket,),
        ).fetchall()
    assert entries == [
        (member, "insert", "tickets", "203.0.113.7", "Firefox/140", None),
        (member, "update", "tickets", "203.0.113.7", "Firefox/140", ["resolved_at", "status"]),
    ]


def test_audit_survives_a_malformed_forwarded_for_header(db: psycopg.Connection) -> None:
    org = _org(db)
    member = _person(db, "client_member", org)
    with impersonate(db, jwt_claims(member)) as conn:
        conn.execute("select set_config('request.headers', %s, true)", ('{"x-forwarded-for": "not-an-ip"}',))
        conn.execute("update public.profiles set first_name = 'Zoe' where id = %s", (member,))
        row = conn.execute("select ip from public.audit_log where action = 'update'").fetchone()
    assert row == (None,)


def test_dsr_due_date_stays_within_three_months_and_completion_matches_status(db: psycopg.Connection) -> None:
    insert = "insert into public.dsr_requests (subject_email, type, due_at) values ('a@b.be', 'access', %s)"
    with pytest.raises(errors.CheckViolation):
        db.execute(insert, ("2099-01-01",))
    request = _one(
        db, "insert into public.dsr_requests (subject_email, type) values ('a@b.be', 'erasure') returning id"
    )
    with pytest.raises(errors.CheckViolation):
        db.execute("update public.dsr_requests set status = 'completed' where id = %s", (request,))
    db.execute(
        "update public.dsr_requests set status = 'completed', completed_at = now() where id = %s", (request,)
    )


def test_attachments_bucket_exists_and_is_private(db: psycopg.Connection) -> None:
    assert db.execute("select public from storage.buckets where id = 'attachments'").fetchone() == (False,)


def test_service_role_has_no_reach_into_the_private_schema(db: psycopg.Connection) -> None:
    """service_role bypasses RLS; nothing of the platform uses it, so it gets nothing in `private` (0300)."""
    assert db.execute("select has_schema_privilege('service_role', 'private', 'usage')").fetchone() == (
        False,
    )
    grants = db.execute(
        "select table_name, privilege_type from information_schema.role_table_grants"
        " where grantee = 'service_role' and table_schema = 'private'"
    ).fetchall()
    assert grants == []
    executable = db.execute(
        "select p.oid::regprocedure::text from pg_proc as p"
        " where p.pronamespace = 'private'::regnamespace and exists ("
        "   select from aclexplode(p.proacl) as a where a.grantee = 'service_role'::regrole)"
    ).fetchall()
    assert executable == []
