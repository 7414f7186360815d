"""Auth flows beyond sign-in: staff TOTP enrolment, invitations, password resets (local adapter), and the
Supabase adapter's GoTrue calls against a local fake (loopback only)."""

from __future__ import annotations

import hashlib
import json
import uuid

import jwt
import psycopg
import pyotp
import pytest
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, World, csrf_of
from pytest_httpserver import HTTPServer

from app.auth import AuthError
from app.auth.supabase import SupabaseAuth


def test_staff_without_a_factor_enrol_an_authenticator_app_before_any_page(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    newcomer = world.person("newagent", "agent")
    world.assign("newagent", "a")
    portal.post(
        "/auth/sign-in", data={"email": newcomer.email, "password": PASSWORD, "csrf_token": csrf_of(portal)}
    )
    page = portal.get("/auth/mfa").text
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    response = portal.post(  # the sign-in brought a new CSRF token, bound to the new session
        "/auth/mfa",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert portal.get("/agent/queue").status_code == 200
    status = db.execute(
        "select status::text from auth.mfa_factors where user_id = %s", (newcomer.id,)
    ).fetchone()[0]
    assert status == "verified"


def _set_token(db: psycopg.Connection, column: str, user_id: uuid.UUID, token: str) -> None:
    # As GoTrue sends a link: the token and when it was sent (the link lives mailer_otp_exp from then).
    extra = (
        ", confirmation_sent_at = now()" if column == "confirmation_token" else ", recovery_sent_at = now()"
    )
    db.execute(
        f"update auth.users set {column} = %s {extra} where id = %s",  # noqa: S608 - fixed column names
        (hashlib.sha256(token.encode()).hexdigest(), user_id),
    )


def test_invited_user_sets_a_password_and_is_signed_in(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    _set_token(db, "confirmation_token", member.id, "invite-token-123456")
    response = portal.post(
        "/auth/invite",
        data={
            # checkov:skip=CKV_SECRET_6: a made-up invitation token for the throw-away test database
            "token": "invite-token-123456",
            "password": "a brand new password",
            "csrf_token": csrf_of(portal),
        },
    )
    assert response.status_code == 200 and "Printer on fire" in response.text
    again = portal.post(
        "/auth/invite",
        data={"token": "invite-token-123456", "password": "another password!", "csrf_token": csrf_of(portal)},
    )
    assert again.status_code == 400 and "not valid any more" in again.text


def test_password_reset_replaces_the_password_once(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    _set_token(db, "recovery_token", member.id, "reset-token-abcdefgh")
    form = {"token": "reset-token-abcdefgh", "password": "short", "csrf_token": csrf_of(portal)}
    too_short = portal.post("/auth/reset", data=form)
    assert too_short.status_code == 400 and "at least 10 characters" in too_short.text
    form["password"] = "a much longer password"
    assert portal.post("/auth/reset", data=form).status_code == 200
    old = portal.post(
        "/auth/sign-in", data={"email": member.email, "password": PASSWORD, "csrf_token": csrf_of(portal)}
    )
    assert old.status_code == 401


def test_reset_request_answers_the_same_for_unknown_addresses(portal: TestClient, world: World) -> None:
    known = portal.post(
        "/auth/forgot", data={"email": world.people["member_a"].email, "csrf_token": csrf_of(portal)}
    )
    unknown = portal.post(
        "/auth/forgot", data={"email": "nobody@example.test", "csrf_token": csrf_of(portal)}
    )
    assert known.status_code == unknown.status_code == 200
    assert (
        "If an account uses that address" in known.text and "If an account uses that address" in unknown.text
    )


def _token(aal: str = "aal1") -> str:
    claims = {"sub": str(uuid.uuid4()), "aal": aal, "role": "authenticated"}
    return jwt.encode(claims, "x" * 32, algorithm="HS256")


def test_supabase_adapter_signs_in_and_verifies_totp_through_gotrue(httpserver: HTTPServer) -> None:
    factor = {"id": "f1", "factor_type": "totp", "status": "verified"}
    session = {
        "access_token": _token(),
        "refresh_token": "r1",
        "expires_at": 2_000_000_000,
        "user": {"factors": [factor]},
    }
    httpserver.expect_request(
        "/auth/v1/token", method="POST", query_string="grant_type=password", headers={"apikey": "pk"}
    ).respond_with_json(session)
    httpserver.expect_request("/auth/v1/user", method="GET").respond_with_json({"factors": [factor]})
    httpserver.expect_request("/auth/v1/factors/f1/challenge", method="POST").respond_with_json({"id": "c1"})
    upgraded = {**session, "access_token": _token("aal2")}
    httpserver.expect_request(
        "/auth/v1/factors/f1/verify", method="POST", json={"challenge_id": "c1", "code": "123456"}
    ).respond_with_json(upgraded)
    backend = SupabaseAuth(httpserver.url_for("/"), "pk")
    signed_in = backend.sign_in_password("a@b.c", "pw", ip="203.0.113.9", user_agent="ua")
    assert signed_in.has_totp and signed_in.aal == "aal1"
    assert backend.verify_totp(signed_in, "123456").aal == "aal2"


def test_supabase_adapter_turns_refusals_into_messages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/auth/v1/token", method="POST").respond_with_data(
        json.dumps({"error": "invalid_grant"}), status=400
    )
    backend = SupabaseAuth(httpserver.url_for("/"), "pk")
    with pytest.raises(AuthError, match="not correct"):
        backend.sign_in_password("a@b.c", "bad", ip=None, user_agent=None)
