"""Security plumbing: headers on every response, cookies, CSRF, refresh, friendly errors, and the
request model (nexk_portal login, transaction-local claims that never leak across pooled connections)."""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from app.database import Database, UnsafeLoginError
from app.security import (
    HEADERS,
    VERCEL_JSON,
    csrf_token_is_valid,
    new_csrf_token,
    vercel_header_rules,
)
from app.settings import Settings


@pytest.mark.parametrize(
    "path", ["/auth/sign-in", "/tickets", "/api/tickets", "/static/portal.css", "/nowhere"]
)
def test_every_response_carries_the_security_headers(portal: TestClient, path: str) -> None:
    headers = portal.get(path, follow_redirects=False).headers
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_vercel_json_sends_exactly_the_headers_the_portal_sends() -> None:
    """One policy: vercel.json's header block is generated from app/security.py's HEADERS; any hand edit of
    either side (a directive, a token like preload, a header added or dropped) fails here."""
    config = json.loads(VERCEL_JSON.read_text(encoding="utf-8"))
    assert config["headers"] == vercel_header_rules(), (
        "vercel.json's headers differ from app/security.py's HEADERS: change HEADERS, then run "
        "`python -m app.security` to regenerate vercel.json"
    )


@pytest.mark.parametrize("path", ["/auth/sign-in", "/static/portal.css", "/nowhere", "/api/tickets"])
def test_the_portal_sends_each_header_with_the_single_policys_value(portal: TestClient, path: str) -> None:
    headers = portal.get(path, follow_redirects=False).headers
    assert {name: headers.get(name) for name in HEADERS} == HEADERS
    assert "preload" not in headers["strict-transport-security"]  # deliberate: app/security.py says why


def test_templates_contain_no_inline_script_or_style(portal: TestClient) -> None:
    page = portal.get("/auth/sign-in").text
    assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_session_cookies_are_httponly_samesite_and_secure(portal_settings: Settings, world: World) -> None:
    from app.main import create_app

    secure = portal_settings.model_copy(update={"secure_cookies": True})
    with TestClient(
        create_app(secure), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        sign_in(client, world.people["member_a"])
        response = client.post(
            "/auth/sign-in",
            data={
                "email": world.people["member_a"].email,
                "password": "correct horse battery",
                "csrf_token": csrf_of(client),
            },
            follow_redirects=False,
        )
        cookies = {
            v.split("=", 1)[0]: v.lower() for k, v in response.headers.multi_items() if k == "set-cookie"
        }
        assert sorted(cookies) == ["nexk_access", "nexk_csrf", "nexk_refresh"]  # a new CSRF token per sign-in
        for name in ("nexk_access", "nexk_refresh"):
            assert (
                "httponly" in cookies[name] and "secure" in cookies[name] and "samesite=lax" in cookies[name]
            )
        assert "httponly" in cookies["nexk_csrf"] and "secure" in cookies["nexk_csrf"]
        assert "samesite=strict" in cookies["nexk_csrf"]


def _replace_cookie(client: TestClient, name: str, value: str) -> None:
    domain = next(c.domain for c in client.cookies.jar if c.name == name)
    client.cookies.set(name, value, domain=domain, path="/")


def test_expired_access_token_is_refreshed_transparently(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    _replace_cookie(portal, "nexk_access", "expired.or.garbage")
    response = portal.get("/tickets")
    assert response.status_code == 200 and "Printer on fire" in response.text
    assert portal.cookies["nexk_access"] != "expired.or.garbage"


def test_a_replayed_refresh_token_ends_the_session(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    old_refresh = portal.cookies["nexk_refresh"]
    _replace_cookie(portal, "nexk_access", "x")
    assert portal.get("/tickets").status_code == 200  # rotates the refresh token
    _replace_cookie(portal, "nexk_access", "x")
    _replace_cookie(portal, "nexk_refresh", old_refresh)
    assert portal.get("/tickets", follow_redirects=False).status_code == 303


def test_csrf_token_from_another_secret_or_session_is_rejected() -> None:
    token = new_csrf_token("a" * 40, "session-1")
    assert csrf_token_is_valid("a" * 40, token, token, "session-1")
    assert not csrf_token_is_valid("b" * 40, token, token, "session-1")
    assert not csrf_token_is_valid("a" * 40, token, new_csrf_token("a" * 40, "session-1"), "session-1")
    assert not csrf_token_is_valid("a" * 40, token, token, "session-2")
    assert not csrf_token_is_valid("a" * 40, token, token, "")  # nor before sign-in
    anonymous = new_csrf_token("a" * 40, "")
    assert csrf_token_is_valid("a" * 40, anonymous, anonymous, "")
    assert not csrf_token_is_valid("a" * 40, anonymous, anonymous, "session-1")


def test_server_errors_render_a_friendly_page_without_a_traceback(
    portal: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.queries import tickets

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tickets, "list_tickets", explode)
    sign_in(portal, world.people["member_a"])
    response = portal.get("/tickets")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_open_redirects_are_not_followed_after_sign_in(portal: TestClient, world: World) -> None:
    response = portal.post(
        "/auth/sign-in",
        data={
            "email": world.people["member_a"].email,
            "password": "correct horse battery",
            "next": "//evil.example/",
            "csrf_token": csrf_of(portal),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_the_pool_refuses_a_login_that_bypasses_rls(database: str) -> None:
    owner = Database(database, min_size=1, max_size=1)
    with pytest.raises(UnsafeLoginError, match="postgres itself has SUPERUSER"):
        owner.open()
    owner.close()


def test_claims_are_transaction_local_and_never_leak_to_the_next_request(
    portal_settings: Settings, world: World
) -> None:
    """Invariant: after an RLS transaction ends, the pooled connection is back to `nexk_portal` with no claims."""
    database = Database(portal_settings.database_url, min_size=1, max_size=1)
    database.open()
    try:
        with database.rls_transaction(world.people["member_a"].claims()) as conn:
            assert conn.execute("select current_user as u").fetchone()["u"] == "authenticated"
        with database._pool.connection() as conn:  # the same single connection, outside any RLS transaction
            row = conn.execute(
                "select current_user as u, current_setting('request.jwt.claims', true) as c"
            ).fetchone()
        assert row["u"] == "nexk_portal" and not row["c"]
        with database.rls_transaction(None) as conn:
            assert conn.execute("select current_user as u").fetchone()["u"] == "anon"
            assert json.loads(
                conn.execute("select current_setting('request.jwt.claims') as c").fetchone()["c"]
            ) == {"role": "anon"}
    finally:
        database.close()


def test_get_pages_run_in_read_only_transactions(portal_settings: Settings, world: World) -> None:
    database = Database(portal_settings.database_url, min_size=1, max_size=1)
    database.open()
    try:
        with (
            pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
            database.rls_transaction(world.people["admin_a"].claims(), read_only=True) as conn,
        ):
            conn.execute("update public.tickets set priority = 'low'")
    finally:
        database.close()
