"""Sending an invitation again (docs/admin.md, "Invitations"): an admin at aal2 gives a person who has not
accepted yet a fresh link, the old one stops working, and the resend is audited. First the local emulation end
to end through the portal, then the Supabase adapter against a loopback stand-in that follows GoTrue's
documented POST /auth/v1/resend (200 {} whatever the address, 429 over_email_send_rate_limit)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, Person, World, csrf_of, sign_in
from pytest_httpserver import HTTPServer

from app.auth import RESEND_REFUSED, RESEND_TOO_SOON, AuthError, AuthRateLimited
from app.auth.supabase import SupabaseAuth
from db import testing_world as make

LINK = re.compile(r"invitation link for (\S+): /auth/invite\?token=(\S+)")
AUDITED = "select actor_id, action, object_id, changed_columns from public.audit_log where object_table = 'auth_users'"


@pytest.fixture
def admin(world: World) -> Person:
    return world.person("boss", "admin", totp=True)


def mailed_tokens(caplog: pytest.LogCaptureFixture, email: str) -> list[str]:
    """Every link the dev mailbox (the server log) received for an address, oldest first."""
    return [m.group(2) for r in caplog.records if (m := LINK.search(r.getMessage())) and m.group(1) == email]


def pending_person(db: psycopg.Connection, world: World, key: str, *, sent_ago: str = "2 days") -> Person:
    """An invited client member of organization A who never used their link (sent `sent_ago` ago)."""
    email = f"{key}@example.test"
    sent_at = db.execute("select now() - %s::interval", (sent_ago,)).fetchone()[0]
    user_id = make.auth_user(
        db,
        email,
        aud="authenticated",
        role="authenticated",
        confirmation_token=hashlib.sha256(b"a lost token").hexdigest(),
        confirmation_sent_at=sent_at,
    )
    make.profile(db, user_id, "client_member", world.orgs["a"], email, first_name="Pending", surname="Person")
    return Person(user_id, email, "client_member", world.orgs["a"])


def resend(portal: TestClient, person: Person, back: str = "/admin/staff") -> Any:
    return portal.post(
        f"/admin/people/{person.id}/resend-invitation",
        data={"csrf_token": csrf_of(portal), "back": back},
        follow_redirects=False,
    )


def accept(portal: TestClient, token: str) -> Any:
    return portal.post(
        "/auth/invite",
        data={"token": token, "password": "a brand new password", "csrf_token": csrf_of(portal)},
    )


def scalar(db: psycopg.Connection, sql: str, params: tuple = ()) -> Any:
    return db.execute(sql, params).fetchone()[0]


# --- The local emulation, end to end ---------------------------------------------------------------------


def test_an_invitee_whose_link_got_lost_gets_a_new_one_and_only_the_new_one_works(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    org = world.orgs["a"]
    sign_in(portal, admin)
    invited = portal.post(
        "/admin/people/invite",
        data={
            "csrf_token": csrf_of(portal),
            "email": "lost.link@example.test",
            "first_name": "Lost",
            "surname": "Link",
            "role": "client_member",
            "organization_id": str(org),
        },
        follow_redirects=False,
    )
    assert invited.status_code == 303, invited.text
    [lost] = mailed_tokens(caplog, "lost.link@example.test")
    person_id = scalar(db, "select id from public.profiles where email = 'lost.link@example.test'")
    # Days later (the first link was lost): GoTrue's one-a-minute limit is long past.
    db.execute(
        "update auth.users set confirmation_sent_at = now() - interval '2 days' where id = %s", (person_id,)
    )

    page = portal.get(f"/admin/organizations/{org}").text
    assert "not accepted yet" in page
    assert f'action="/admin/people/{person_id}/resend-invitation"' in page
    assert f'action="/admin/people/{world.people["member_a"].id}/resend-invitation"' not in page

    resent = portal.post(
        f"/admin/people/{person_id}/resend-invitation",
        data={"csrf_token": csrf_of(portal), "back": f"/admin/organizations/{org}"},
        follow_redirects=False,
    )

    assert resent.status_code == 303, resent.text
    assert resent.headers["location"] == f"/admin/organizations/{org}?resent={person_id}"
    notice = portal.get(resent.headers["location"]).text
    assert "A new invitation link was sent to lost.link@example.test" in notice
    assert scalar(db, "select confirmation_sent_at > now() - interval '1 minute' from auth.users where id = %s",
                  (person_id,))  # fmt: skip
    [first, new] = mailed_tokens(caplog, "lost.link@example.test")
    assert first == lost and new != lost
    assert db.execute(AUDITED).fetchall() == [
        (admin.id, "update", person_id, ["confirmation_sent_at", "confirmation_token"])
    ]

    admin_cookies = httpx.Cookies(portal.cookies)
    portal.cookies.clear()
    old_link = accept(portal, lost)
    assert old_link.status_code == 400 and "not valid any more" in old_link.text
    accepted = accept(portal, new)
    assert accepted.status_code == 200 and "Sign out" in accepted.text  # signed in as the new member

    portal.cookies = admin_cookies
    page = portal.get(f"/admin/organizations/{org}").text
    assert f'action="/admin/people/{person_id}/resend-invitation"' not in page
    assert "not accepted yet" not in page


def test_an_invitation_link_older_than_a_day_no_longer_works_and_a_resent_one_does(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    """As GoTrue with mailer_otp_exp = 86400 (infra): a link lives one day; the admin's resend is the way back."""
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    person = pending_person(db, world, "late.reader", sent_ago="25 hours")
    assert (
        accept(portal, "a lost token").status_code == 400
    )  # the pending person's link, a day and an hour old
    db.execute(
        "update auth.users set confirmation_sent_at = now() - interval '23 hours' where id = %s", (person.id,)
    )
    assert accept(portal, "a lost token").status_code == 200  # the same link within its day
    later = pending_person(db, world, "later.reader", sent_ago="2 days")
    sign_in(portal, admin)
    assert resend(portal, later).status_code == 303
    [fresh] = mailed_tokens(caplog, later.email)
    portal.cookies.clear()
    assert accept(portal, fresh).status_code == 200


def test_an_invitee_who_resets_the_password_instead_is_confirmed_and_the_invitation_link_is_spent(
    portal: TestClient, world: World, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    """As GoTrue's recovery: verifying a reset link confirms an unconfirmed address."""
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    person = pending_person(db, world, "forgetful", sent_ago="1 hour")
    portal.post("/auth/forgot", data={"email": person.email, "csrf_token": csrf_of(portal)})
    token = next(
        m.group(1) for r in caplog.records if (m := re.search(r"/auth/reset\?token=(\S+)", r.getMessage()))
    )
    reset = portal.post(
        "/auth/reset",
        data={"token": token, "password": "a brand new password", "csrf_token": csrf_of(portal)},
    )
    assert reset.status_code == 200, reset.text
    assert scalar(db, "select email_confirmed_at is not null from auth.users where id = %s", (person.id,))
    portal.cookies.clear()
    assert accept(portal, "a lost token").status_code == 400


def test_a_second_link_within_a_minute_is_refused_with_the_wait_message_and_nothing_changes(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    person = pending_person(db, world, "just_invited", sent_ago="10 seconds")
    token_before = scalar(db, "select confirmation_token from auth.users where id = %s", (person.id,))
    sign_in(portal, admin)

    refused = resend(portal, person)

    assert refused.status_code == 429
    assert "Wait a minute, then send the invitation again." in refused.text
    assert scalar(db, "select confirmation_token from auth.users where id = %s", (person.id,)) == token_before
    assert mailed_tokens(caplog, person.email) == []
    assert db.execute(AUDITED).fetchall() == []  # the admin's transaction was rolled back


def test_resending_to_a_person_who_already_accepted_is_refused_with_409_and_what_to_do(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    member = world.people["member_a"]  # has signed in: the address is confirmed
    sign_in(portal, admin)

    refused = resend(portal, member, back=f"/admin/organizations/{world.orgs['a']}")

    assert refused.status_code == 409
    assert "member_a@example.test has already accepted the invitation" in refused.text
    assert "Forgot your password?" in refused.text
    assert mailed_tokens(caplog, member.email) == []
    assert db.execute(AUDITED).fetchall() == []


def test_resending_to_a_deactivated_or_unknown_person_is_refused(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection
) -> None:
    person = pending_person(db, world, "gone_quiet")
    db.execute("update public.profiles set deactivated_at = now() where id = %s", (person.id,))
    sign_in(portal, admin)

    deactivated = resend(portal, person)
    unknown = resend(portal, Person(uuid.uuid4(), "x@example.test", "client_member", None))

    assert deactivated.status_code == 409 and "reactivate them first" in deactivated.text
    assert unknown.status_code == 404 and "This person does not exist." in unknown.text
    assert db.execute(AUDITED).fetchall() == []


@pytest.mark.parametrize("who", ["admin_a", "agent", "member_a"])
def test_client_admins_agents_and_members_cannot_resend_an_invitation(
    portal: TestClient, world: World, db: psycopg.Connection, who: str
) -> None:
    person = pending_person(db, world, "waiting")
    token_before = scalar(db, "select confirmation_token from auth.users where id = %s", (person.id,))
    sign_in(portal, world.people[who])

    refused = resend(portal, person)

    assert refused.status_code == 403
    assert scalar(db, "select confirmation_token from auth.users where id = %s", (person.id,)) == token_before
    assert db.execute(AUDITED).fetchall() == []


def test_an_admin_at_aal1_is_sent_to_the_mfa_step_instead_of_resending(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection
) -> None:
    person = pending_person(db, world, "waiting")
    signed_in = portal.post(
        "/auth/sign-in",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert signed_in.headers["location"].startswith("/auth/mfa")

    blocked = resend(portal, person)

    assert blocked.status_code == 303 and blocked.headers["location"].startswith("/auth/mfa")
    assert db.execute(AUDITED).fetchall() == []


def test_a_resend_without_the_csrf_token_is_refused(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection
) -> None:
    person = pending_person(db, world, "waiting")
    sign_in(portal, admin)

    forged = portal.post(
        f"/admin/people/{person.id}/resend-invitation", data={"back": "/admin/staff"}, follow_redirects=False
    )

    assert forged.status_code == 403
    assert db.execute(AUDITED).fetchall() == []


def test_the_local_backend_answers_nothing_about_unknown_or_confirmed_addresses(
    portal: TestClient, world: World, db: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    backend = portal.app.state.auth
    member = world.people["member_a"]
    before = db.execute("select confirmation_token, confirmation_sent_at from auth.users where id = %s",
                        (member.id,)).fetchone()  # fmt: skip

    backend.resend_invitation("nobody@example.test")
    backend.resend_invitation(member.email.upper())

    assert [r for r in caplog.records if r.name == "nexk.auth"] == []
    after = db.execute(
        "select confirmation_token, confirmation_sent_at from auth.users where id = %s", (member.id,)
    ).fetchone()
    assert after == before


# --- The Supabase adapter against a stand-in for GoTrue ---------------------------------------------------


def gotrue_error(status: int, code: str, message: str) -> str:
    return json.dumps({"code": status, "error_code": code, "msg": message})


def test_supabase_adapter_asks_gotrue_to_resend_the_signup_confirmation_with_the_publishable_key(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_oneshot_request(
        "/auth/v1/resend",
        method="POST",
        json={"type": "signup", "email": "nina@example.test"},
        headers={"apikey": "pk"},
    ).respond_with_json({})
    backend = SupabaseAuth(httpserver.url_for("/"), "pk")

    backend.resend_invitation("nina@example.test")

    httpserver.check_assertions()
    [(request, _response)] = httpserver.log
    assert "Authorization" not in request.headers  # no user session, no service-role key


def test_supabase_adapter_turns_gotrues_rate_limit_into_the_wait_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/auth/v1/resend", method="POST").respond_with_data(
        gotrue_error(
            429,
            "over_email_send_rate_limit",
            "For security purposes, you can only request this after 42 seconds.",
        ),
        status=429,
        content_type="application/json",
    )
    backend = SupabaseAuth(httpserver.url_for("/"), "pk")

    with pytest.raises(AuthRateLimited) as refused:
        backend.resend_invitation("nina@example.test")

    assert str(refused.value) == RESEND_TOO_SOON
    assert "Wait a minute" in str(refused.value)


def test_supabase_adapter_reports_any_other_refusal_of_gotrue(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/auth/v1/resend", method="POST").respond_with_data(
        gotrue_error(400, "email_provider_disabled", "Email logins are disabled"),
        status=400,
        content_type="application/json",
    )
    backend = SupabaseAuth(httpserver.url_for("/"), "pk")

    with pytest.raises(AuthError) as refused:
        backend.resend_invitation("nina@example.test")

    assert str(refused.value) == RESEND_REFUSED
    assert not isinstance(refused.value, AuthRateLimited)


def test_through_the_supabase_adapter_the_admin_sees_gotrues_refusal_and_nothing_is_audited(
    portal: TestClient,
    world: World,
    admin: Person,
    db: psycopg.Connection,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = pending_person(db, world, "prod_like")
    sign_in(portal, admin)
    monkeypatch.setattr(portal.app.state, "auth", SupabaseAuth(httpserver.url_for("/"), "pk"))
    httpserver.expect_oneshot_request(
        "/auth/v1/resend", method="POST", json={"type": "signup", "email": person.email}
    ).respond_with_data(
        gotrue_error(429, "over_email_send_rate_limit", "Email rate limit exceeded"),
        status=429,
        content_type="application/json",
    )
    httpserver.expect_oneshot_request(
        "/auth/v1/resend", method="POST", json={"type": "signup", "email": person.email}
    ).respond_with_data(
        gotrue_error(500, "unexpected_failure", "Error sending confirmation email"),
        status=500,
        content_type="application/json",
    )
    httpserver.expect_oneshot_request(
        "/auth/v1/resend", method="POST", json={"type": "signup", "email": person.email}
    ).respond_with_json({})

    too_soon = resend(portal, person)
    failed = resend(portal, person)
    sent = resend(portal, person)

    assert too_soon.status_code == 429 and "Wait a minute" in too_soon.text
    assert failed.status_code == 502
    assert f"The invitation for {person.email} was not sent again" in failed.text
    assert "check the e-mail settings of Supabase Auth" in failed.text
    assert sent.status_code == 303 and sent.headers["location"] == f"/admin/staff?resent={person.id}"
    assert db.execute(AUDITED).fetchall() == [
        (admin.id, "update", person.id, ["confirmation_sent_at", "confirmation_token"])
    ]
