"""The attempt limits on the other doors (app/rate_limits.py): reset links and reset requests, invitation links
and invitations sent. Each limited attempt gets the clear message in the person's language and Retry-After."""

from __future__ import annotations

import logging
import secrets

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import SECRET, World, csrf_of, sign_in
from test_auth_flows import _set_token

from app.database import Database
from app.rate_limits import RateLimits, Scope
from app.settings import Settings


def test_a_reset_link_takes_five_passwords_then_says_to_wait(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    _set_token(db, "recovery_token", member.id, "reset-token-abcdefgh")
    form = {"token": "reset-token-abcdefgh", "password": "short", "csrf_token": csrf_of(portal)}
    assert [portal.post("/auth/reset", data=form).status_code for _ in range(5)] == [400] * 5
    form["password"] = "a much longer password"
    limited = portal.post("/auth/reset", data=form, headers={"Accept-Language": "fr-BE"})
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 300
    assert "Trop de tentatives. Patientez 5 minutes et réessayez." in limited.text
    assert 'name="password"' in limited.text  # the form stays, to use once the wait is over


def test_unusable_invitation_links_count_against_the_address(portal: TestClient, world: World) -> None:
    guesses = [portal.get(f"/auth/invite?token={secrets.token_urlsafe(24)}").status_code for _ in range(20)]
    assert guesses == [410] * 20
    limited = portal.get(
        f"/auth/invite?token={secrets.token_urlsafe(24)}", headers={"Accept-Language": "nl-BE"}
    )
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 300
    assert "Te veel pogingen. Wacht 5 minuten en probeer opnieuw." in limited.text


def test_reset_requests_are_limited_per_address_and_still_answer_the_same(
    portal: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    email = world.people["member_a"].email
    answers = [
        portal.post("/auth/forgot", data={"email": email, "csrf_token": csrf_of(portal)}) for _ in range(6)
    ]
    # The same page every time (no oracle of the limit or the account), but only 5 links were sent.
    assert [a.status_code for a in answers] == [200] * 6
    assert all("If an account uses that address" in a.text for a in answers)
    sent = [r for r in caplog.records if "password reset link for" in r.getMessage()]
    assert len(sent) == 5


def test_an_inviter_sends_at_most_thirty_invitations_an_hour(
    portal: TestClient, world: World, db: psycopg.Connection, portal_settings: Settings
) -> None:
    admin = world.people["admin_a"]
    db.execute("update public.profiles set language = 'fr' where id = %s", (admin.id,))  # pages in French
    sign_in(portal, admin)

    def invite(email: str) -> httpx.Response:
        form = {"email": email, "first_name": "Nina", "surname": "New", "csrf_token": csrf_of(portal)}
        return portal.post(
            "/team/invite", data=form, headers={"Accept-Language": "fr-BE"}, follow_redirects=False
        )

    assert invite("first@example.test").status_code == 303  # a real invitation counts
    # 28 more invitations, as another portal instance would count them (same database, same secret).
    other_instance = Database(portal_settings.database_url, min_size=1, max_size=1)
    other_instance.open()
    try:
        limits = RateLimits(other_instance, SECRET)
        for _ in range(28):
            assert limits.attempt(Scope.INVITATION_SENDING, account=str(admin.id), client_ip=None).admitted
    finally:
        other_instance.close()
    assert invite("thirtieth@example.test").status_code == 303
    limited = invite("one-too-many@example.test")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 3600
    # (the apostrophe as the page escapes it)
    assert "Trop d&#39;invitations envoyées. Patientez 60 minutes et réessayez." in limited.text
    pending = db.execute("select email from private.invitations order by email").fetchall()
    assert "one-too-many@example.test" not in {row[0] for row in pending}  # nothing saved
    # Another inviter is not affected.
    portal.cookies.clear()
    sign_in(portal, world.person("admin2_a", "client_admin", "a"))
    assert invite("someone@example.test").status_code == 303
