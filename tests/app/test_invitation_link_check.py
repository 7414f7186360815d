"""An invitation link is checked before the password form is shown: a used or replaced link gets the
"expired or already used" page, with what to do, instead of a form that fails only after the password."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from portal_testkit import Person, World, csrf_of, sign_in
from test_invitation_flows import invite_form, mailed_token


@pytest.fixture
def admin(world: World) -> Person:
    return world.person("boss", "admin", totp=True)


def _invite(portal: TestClient, world: World, admin: Person, caplog: pytest.LogCaptureFixture) -> str:
    caplog.set_level(logging.WARNING, logger="nexk.auth")
    sign_in(portal, admin)
    invited = portal.post(
        "/admin/people/invite",
        data=invite_form(
            portal, email="nina@example.test", role="client_member", organization_id=str(world.orgs["a"])
        ),
        follow_redirects=False,
    )
    assert invited.status_code == 303, invited.text
    portal.cookies.clear()
    return mailed_token(caplog, "nina@example.test")


def test_a_fresh_invitation_link_shows_the_password_form(
    portal: TestClient, world: World, admin: Person, caplog: pytest.LogCaptureFixture
) -> None:
    token = _invite(portal, world, admin, caplog)
    page = portal.get(f"/auth/invite?token={token}")
    assert page.status_code == 200
    assert 'name="password"' in page.text


def test_a_reused_invitation_link_says_it_is_spent_before_any_password_is_asked(
    portal: TestClient, world: World, admin: Person, caplog: pytest.LogCaptureFixture
) -> None:
    token = _invite(portal, world, admin, caplog)
    accepted = portal.post(
        "/auth/invite",
        data={"token": token, "password": "a brand new password", "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    portal.cookies.clear()

    again = portal.get(f"/auth/invite?token={token}", headers={"Accept-Language": "fr-BE"})

    assert again.status_code == 410
    assert 'name="password"' not in again.text
    assert "Ce lien d'invitation a expiré ou a déjà été utilisé." in again.text
    assert 'href="/auth/sign-in"' in again.text and 'href="/auth/forgot"' in again.text


def test_an_unknown_invitation_link_says_it_is_invalid(portal: TestClient, world: World) -> None:
    page = portal.get("/auth/invite?token=not-a-real-token-at-all")
    assert page.status_code == 410
    assert "This invitation link has expired or was already used." in page.text
    assert 'name="password"' not in page.text
