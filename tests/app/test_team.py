"""A client admin manages their own company: the members
page, invitations through the shared flow, roles, deactivation with a confirmation step, ticket sharing; and
nobody else gets any of it: not a client member, not another company's admin, not staff."""

from __future__ import annotations

import logging

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in


@pytest.fixture
def other_admin(world: World):
    return world.person("boss_b", "client_admin", "b")


def post(portal: TestClient, url: str, **data: str):
    return portal.post(url, data={"csrf_token": csrf_of(portal), **data}, follow_redirects=False)


def test_a_client_admin_sees_their_members_with_role_invitation_and_access(
    portal: TestClient, world: World
) -> None:
    sign_in(portal, world.people["admin_a"])
    page = portal.get("/team")
    assert page.status_code == 200
    assert "Member Tester" in page.text and "Admin Tester" in page.text
    assert "Client member" in page.text and "accepted" in page.text
    assert "member_b@example.test" not in page.text  # another company's people never show


def test_a_client_admin_invites_a_colleague_through_the_shared_invitation_flow(
    portal: TestClient, world: World, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    sign_in(portal, world.people["admin_a"])
    invited = post(portal, "/team/invite", email="Nina@Example.test", first_name="Nina", surname="New")
    assert invited.status_code == 303 and invited.headers["location"] == "/team"
    profile = db.execute(
        "select organization_id, role from public.profiles where email = 'nina@example.test'"
    ).fetchone()
    assert profile == (world.orgs["a"], "client_member")
    assert "Nina New" in portal.get("/team").text
    again = post(portal, "/team/invite", email="nina@example.test", first_name="Nina", surname="New")
    assert again.status_code == 409 and "already has an account" in again.text
    assert 'value="nina@example.test"' in again.text and 'id="form-errors"' in again.text  # the form, kept
    bad = post(portal, "/team/invite", email="not an address", first_name="N", surname="N")
    assert bad.status_code == 422 and 'value="not an address"' in bad.text


def test_a_client_admin_changes_a_colleagues_role_but_not_their_own(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member, me = world.people["member_a"], world.people["admin_a"]
    sign_in(portal, me)
    assert post(portal, f"/team/people/{member.id}/role", role="client_admin").status_code == 303
    assert (
        db.execute("select role from public.profiles where id = %s", (member.id,)).fetchone()[0]
        == "client_admin"
    )
    assert post(portal, f"/team/people/{member.id}/role", role="client_member").status_code == 303
    assert post(portal, f"/team/people/{member.id}/role", role="agent").status_code == 422
    assert post(portal, f"/team/people/{me.id}/role", role="client_member").status_code == 409
    assert (
        db.execute("select role from public.profiles where id = %s", (member.id,)).fetchone()[0]
        == "client_member"
    )


def test_deactivation_takes_a_confirmation_step_and_can_be_undone(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, world.people["admin_a"])
    unconfirmed = post(portal, f"/team/people/{member.id}/access")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/team/people/{member.id}/deactivate"
    assert (
        db.execute("select deactivated_at from public.profiles where id = %s", (member.id,)).fetchone()[0]
        is None
    )
    confirm = portal.get(unconfirmed.headers["location"])
    assert confirm.status_code == 200 and "Deactivate Member Tester?" in confirm.text
    assert post(portal, f"/team/people/{member.id}/access", confirm="true").status_code == 303
    assert db.execute("select deactivated_at from public.profiles where id = %s", (member.id,)).fetchone()[0]
    assert post(portal, f"/team/people/{member.id}/access", active="true").status_code == 303
    assert (
        db.execute("select deactivated_at from public.profiles where id = %s", (member.id,)).fetchone()[0]
        is None
    )


def test_a_client_admin_switches_ticket_sharing_for_their_own_company_only(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["admin_a"])
    assert post(portal, "/team/sharing", shared="true").status_code == 303
    shared = dict(db.execute("select id, shared_tickets from public.organizations").fetchall())
    assert shared == {world.orgs["a"]: True, world.orgs["b"]: False}
    assert 'id="shared" aria-describedby="shared-help" checked' in portal.get("/team").text
    assert post(portal, "/team/sharing").status_code == 303
    assert (
        db.execute(
            "select shared_tickets from public.organizations where id = %s", (world.orgs["a"],)
        ).fetchone()[0]
        is False
    )


@pytest.mark.parametrize("who", ["member_a", "agent"])
def test_a_client_member_and_staff_are_refused_the_company_page_and_its_actions(
    portal: TestClient, world: World, db: psycopg.Connection, who: str
) -> None:
    colleague = world.people["admin_a"]
    sign_in(portal, world.people[who])
    assert portal.get("/team").status_code == 403
    assert post(portal, "/team/sharing", shared="true").status_code == 403
    assert post(portal, f"/team/people/{colleague.id}/role", role="client_member").status_code == 403
    assert post(portal, f"/team/people/{colleague.id}/access", confirm="true").status_code == 403
    assert (
        post(portal, "/team/invite", email="x@example.test", first_name="X", surname="Y").status_code == 403
    )
    assert db.execute("select count(*) from public.organizations where shared_tickets").fetchone()[0] == 0
    assert db.execute(
        "select role, deactivated_at from public.profiles where id = %s", (colleague.id,)
    ).fetchone() == ("client_admin", None)


def test_another_companys_admin_cannot_touch_this_companys_people(
    portal: TestClient, world: World, db: psycopg.Connection, other_admin
) -> None:
    member = world.people["member_a"]
    sign_in(portal, other_admin)
    assert "member_a@example.test" not in portal.get("/team").text
    assert post(portal, f"/team/people/{member.id}/role", role="client_admin").status_code == 404
    assert post(portal, f"/team/people/{member.id}/access", confirm="true").status_code == 404
    assert portal.get(f"/team/people/{member.id}/deactivate").status_code == 404
    assert post(portal, "/team/sharing", shared="true").status_code == 303  # their own company, B
    shared = dict(db.execute("select id, shared_tickets from public.organizations").fetchall())
    assert shared == {world.orgs["a"]: False, world.orgs["b"]: True}
    assert db.execute(
        "select role, deactivated_at from public.profiles where id = %s", (member.id,)
    ).fetchone() == ("client_member", None)


def test_every_team_action_confirms_once(portal: TestClient, world: World, db: psycopg.Connection) -> None:
    member = world.people["member_a"]
    sign_in(portal, world.people["admin_a"])

    def confirmed(response, message: str) -> None:
        assert response.status_code == 303 and response.headers["location"] == "/team"
        page = portal.get("/team").text.replace("&#39;", "'")
        assert 'role="status"' in page and message in page
        assert message not in portal.get("/team").text  # once

    confirmed(
        post(portal, "/team/invite", email="ida@example.test", first_name="Ida", surname="New"),
        "The invitation was sent.",
    )
    confirmed(
        post(portal, f"/team/people/{member.id}/role", role="client_admin"), "The person's role was changed."
    )
    confirmed(
        post(portal, f"/team/people/{member.id}/access", confirm="true"), "The person's access was changed."
    )
    confirmed(
        post(portal, f"/team/people/{member.id}/access", active="true"), "The person's access was changed."
    )
    confirmed(post(portal, "/team/sharing", shared="true"), "Ticket sharing was saved.")
    invitation_id = db.execute(
        """insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)
           values ('joe@example.test', %s, 'client_member', 'Joe', 'Pending', repeat('a', 64))
           returning id""",
        (world.orgs["a"],),
    ).fetchone()[0]
    assert "Joe Pending" in portal.get("/team").text  # the shared pending-invitations table
    asked = post(portal, f"/team/invitations/{invitation_id}/cancel")  # one click only asks
    assert asked.status_code == 200 and "Cancel this invitation?" in asked.text
    assert 'href="/team"' in asked.text and 'name="confirmed" value="yes"' in asked.text
    assert db.execute("select count(*) from private.invitations where id = %s", (invitation_id,)).fetchone()[
        0
    ]
    confirmed(
        post(portal, f"/team/invitations/{invitation_id}/cancel", confirmed="yes"),
        "The invitation was cancelled.",
    )
    assert not db.execute(
        "select count(*) from private.invitations where id = %s", (invitation_id,)
    ).fetchone()[0]
