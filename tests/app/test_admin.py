"""Administration: only admins at aal2 get in, the DSR wrappers refuse everyone else, and the screens work
through the admin's RLS transaction (organizations, invitations, assignments, SLA, DSR queue, audit log)."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, Person, World, csrf_of, sign_in

from db.testing import impersonate, jwt_claims


@pytest.fixture
def admin(world: World) -> Person:
    return world.person("boss", "admin", totp=True)


def _erasure_request(world: World, person: Person) -> str:
    return str(world.db.execute("select private.dsr_open(%s, 'erasure')", (person.id,)).fetchone()[0])


def test_admin_at_aal1_is_sent_to_the_mfa_step_and_sees_nothing(portal: TestClient, admin: Person) -> None:
    response = portal.post(
        "/auth/sign-in",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/auth/mfa")
    for path in ("/admin", "/admin/dsr", "/admin/audit", "/admin/organizations"):
        blocked = portal.get(path, follow_redirects=False)
        assert blocked.status_code == 303 and blocked.headers["location"].startswith("/auth/mfa"), path


def test_agent_and_client_cannot_reach_the_administration(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["agent"])
    assert portal.get("/admin/dsr").status_code == 403
    assert (
        portal.post(
            "/admin/assignments",
            data={
                "csrf_token": csrf_of(portal),
                "agent_id": str(world.people["agent"].id),
                "organization_id": str(world.orgs["b"]),
            },
        ).status_code
        == 403
    )
    portal.cookies.clear()
    sign_in(portal, world.people["admin_a"])
    assert portal.get("/admin/audit").status_code == 403


@pytest.mark.parametrize(
    ("who", "aal"), [("agent", "aal2"), ("admin_a", "aal1"), ("member_a", "aal1"), ("boss", "aal1")]
)
def test_dsr_wrappers_refuse_everyone_but_an_admin_at_aal2(
    db: psycopg.Connection, world: World, admin: Person, who: str, aal: str
) -> None:
    person = world.people[who]
    request_id = _erasure_request(world, world.people["member_a"])
    calls = (
        ("select private.admin_dsr_erase(%s, '[]')", (request_id,)),
        ("select private.admin_dsr_export(%s)", (request_id,)),
        ("select private.admin_dsr_complete(%s, 'completed', '[]')", (request_id,)),
    )
    for statement, params in calls:
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),
            impersonate(db, jwt_claims(person.id, aal=aal)),
        ):
            db.execute(statement, params)
    assert (
        db.execute(
            "select erased_at from public.profiles where id = %s", (world.people["member_a"].id,)
        ).fetchone()[0]
        is None
    )


def test_authenticated_still_cannot_call_the_private_dsr_functions(
    db: psycopg.Connection, world: World, admin: Person
) -> None:
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        impersonate(db, jwt_claims(admin.id, aal="aal2")),
    ):
        db.execute("select private.dsr_erase(%s, '[]')", (world.people["member_a"].id,))


def test_a_wrapper_refuses_an_action_that_does_not_fulfil_the_request_type(
    db: psycopg.Connection, world: World, admin: Person
) -> None:
    request_id = _erasure_request(world, world.people["member_a"])
    with (
        pytest.raises(psycopg.errors.InvalidParameterValue),
        impersonate(db, jwt_claims(admin.id, aal="aal2")),
    ):
        db.execute("select private.admin_dsr_export(%s)", (request_id,))


def test_admin_fulfils_an_erasure_from_the_dsr_queue_and_it_is_audited(
    portal: TestClient, world: World, admin: Person
) -> None:
    member = world.people["member_a"]
    request_id = _erasure_request(world, member)
    sign_in(portal, admin)
    queue = portal.get("/admin/dsr").text
    assert member.email in queue and "Erase this person" in queue
    done = portal.post(
        f"/admin/dsr/{request_id}/erase",
        data={"csrf_token": csrf_of(portal), "confirmed": "yes"},  # the confirmation page's second step
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    # Erasure deletes the person's profile and auth user (db/schema/0240).
    assert (
        world.db.execute("select count(*) from public.profiles where id = %s", (member.id,)).fetchone()[0]
        == 0
    )
    assert world.db.execute("select count(*) from auth.users where id = %s", (member.id,)).fetchone()[0] == 0
    assert member.email not in portal.get("/admin/dsr?closed=true").text
    handled = world.db.execute(
        "select handled_by from public.dsr_requests where id = %s", (request_id,)
    ).fetchone()[0]
    assert handled == admin.id
    completed = portal.post(
        f"/admin/dsr/{request_id}/complete", data={"csrf_token": csrf_of(portal)}, follow_redirects=False
    )
    assert completed.status_code == 303
    audit = portal.get(f"/admin/audit?actor={admin.id}&table=dsr_requests").text
    assert "dsr_requests" in audit and "handled_by" in audit


def test_admin_exports_an_access_request_as_json(portal: TestClient, world: World, admin: Person) -> None:
    member = world.people["member_a"]
    request_id = world.db.execute("select private.dsr_open(%s, 'access')", (member.id,)).fetchone()[0]
    sign_in(portal, admin)
    response = portal.post(f"/admin/dsr/{request_id}/export", data={"csrf_token": csrf_of(portal)})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.json()["profile"]["email"] == member.email


def test_audit_log_filters_by_action_table_and_date(portal: TestClient, world: World, admin: Person) -> None:
    sign_in(portal, admin)
    portal.get(f"/tickets/{world.tickets['a1']}")  # logged as a read of the ticket
    reads = portal.get("/admin/audit?action=read&table=tickets").text
    assert str(world.tickets["a1"]) in reads
    assert "No entries match" in portal.get("/admin/audit?action=delete&table=tickets").text
    assert "No entries match" in portal.get("/admin/audit?action=read&table=tickets&until=2000-01-01").text
    assert portal.get("/admin/audit?since=not-a-date").status_code == 422


def test_admin_manages_organizations_assignments_sla_and_invites_a_member(
    portal: TestClient, world: World, admin: Person
) -> None:
    sign_in(portal, admin)
    csrf = csrf_of(portal)
    created = portal.post(
        "/admin/organizations",
        data={
            "csrf_token": csrf,
            "name": "Org C",
            "enterprise_number": "0403.170.701",
            "contract_start": "2026-01-01",
            "sla_plan_id": str(world.plan_id),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    org_page = created.headers["location"]
    org_id = org_page.rsplit("/", 1)[1]
    assigned = portal.post(
        "/admin/assignments",
        data={"csrf_token": csrf, "agent_id": str(world.people["agent"].id), "organization_id": org_id},
        follow_redirects=False,
    )
    assert assigned.status_code == 303
    assert "Org C" in portal.get("/admin/assignments").text
    invited = portal.post(
        "/admin/people/invite",
        data={
            "csrf_token": csrf,
            "email": "newbie@example.test",
            "first_name": "New",
            "surname": "Bie",
            "role": "client_member",
            "organization_id": org_id,
        },
        follow_redirects=False,
    )
    assert invited.status_code == 303, invited.text
    assert "newbie@example.test" in portal.get(org_page).text
    confirmation_sent_at = world.db.execute(
        "select confirmation_sent_at from auth.users where email = 'newbie@example.test'"
    ).fetchone()[0]
    assert confirmation_sent_at is not None
    saved = portal.post(
        "/admin/sla/policies",
        data={
            "csrf_token": csrf,
            "plan_id": str(world.plan_id),
            "priority": "urgent",
            "first_response_minutes": "30",
            "next_response_minutes": "60",
            "resolution_minutes": "240",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert 'value="240"' in portal.get("/admin/sla").text
    broken = portal.post(
        "/admin/sla/policies",
        data={
            "csrf_token": csrf,
            "plan_id": str(world.plan_id),
            "priority": "low",
            "first_response_minutes": "300",
            "next_response_minutes": "300",
            "resolution_minutes": "60",
        },
    )
    assert broken.status_code == 422


def test_admin_sets_the_next_response_target_on_its_own_with_the_same_checks_as_the_others(
    portal: TestClient, world: World, admin: Person
) -> None:
    sign_in(portal, admin)
    csrf = csrf_of(portal)
    targets = {"first_response_minutes": "30", "next_response_minutes": "45", "resolution_minutes": "240"}
    form = {"csrf_token": csrf, "plan_id": str(world.plan_id), "priority": "high"}
    saved = portal.post("/admin/sla/policies", data=form | targets, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = world.db.execute(
        "select first_response_minutes, next_response_minutes, resolution_minutes from public.sla_policies"
        " where plan_id = %s and priority = 'high'",
        (world.plan_id,),
    ).fetchone()
    assert stored == (30, 45, 240)
    page = portal.get("/admin/sla").text
    assert 'name="next_response_minutes"' in page and 'value="45"' in page
    assert "Next response (business minutes)" in page
    # Each target is refused the same way (zero, too large, not a number, missing): the page comes back with
    # the field named in words, the value as typed, and nothing saved.
    labels = {"first_response_minutes": "First response", "next_response_minutes": "Next response"}
    for bad in ("0", "525601", "soon", None):
        for field in ("first_response_minutes", "next_response_minutes"):
            data = form | targets
            if bad is None:
                del data[field]
            else:
                data[field] = bad
            refused = portal.post("/admin/sla/policies", data=data)
            assert refused.status_code == 422, (field, bad)
            assert (
                f"{labels[field]}: write a whole number of business minutes from 1 to 525,600."
                in refused.text
            )
            if bad is not None:
                assert f'name="{field}" type="number" min="1" required' in refused.text
                assert f'value="{bad}"' in refused.text
    assert world.db.execute(
        "select next_response_minutes from public.sla_policies where plan_id = %s and priority = 'high'",
        (world.plan_id,),
    ).fetchone() == (45,)
