"""Post/Redirect/Get everywhere and errors in the person's words: no reachable
405 page, a stored `next` that is a form's target lands on its page, a confirmation after every successful
action, and every refused form comes back with its values and a field message in en, fr and nl, never
PostgreSQL's or pydantic's English."""

from __future__ import annotations

import re
import uuid

import psycopg
import pyotp
import pytest
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, Person, World, csrf_of, sign_in
from starlette.routing import Route

from app import i18n, navigation
from app.routes.invitation_flow import ALREADY_HAS_ACCOUNT

RAW_MESSAGES = re.compile(
    r"violates|constraint|Input should|value is not|Field required|greater than|valid integer|"
    r"psycopg|Traceback",
    re.I,
)


def _flat(routes: list) -> list:
    """The routes of included routers too (FastAPI wraps each `include_router` in one entry)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _flat(inner.routes) if inner is not None else [route]
    return out


def _route_paths(portal: TestClient) -> list[str]:
    """Every POST-only path of the portal's pages (the JSON API and machine endpoints answer as APIs)."""
    app = portal.app
    paths = []
    for route in _flat(app.router.routes):  # type: ignore[attr-defined]
        if not isinstance(route, Route) or "POST" not in (route.methods or set()):
            continue
        if route.path.startswith(("/api/", "/webhooks", "/cron")) or navigation.serves_get(app, route.path):
            continue
        paths.append(route.path)
    return paths


def test_a_get_on_any_form_target_redirects_to_the_forms_page_never_405(
    portal: TestClient, world: World
) -> None:
    admin = world.person("boss", "admin", totp=True)
    sign_in(portal, admin)
    ticket = world.tickets["a1"]
    paths = _route_paths(portal)
    assert "/tickets/{ticket_id}/messages" in paths and "/admin/sla/policies" in paths
    for template in paths:
        path = re.sub(r"\{ticket_id\}", str(ticket), template)
        path = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)
        response = portal.get(path, follow_redirects=False)
        assert response.status_code == 303, (path, response.status_code)
        target = response.headers["location"]
        assert navigation.serves_get(portal.app, target), (path, target)  # type: ignore[arg-type]
    assert portal.get(f"/tickets/{ticket}/messages", follow_redirects=False).headers["location"] == (
        f"/tickets/{ticket}"
    )
    assert portal.get("/admin/sla/hours/x/delete", follow_redirects=False).headers["location"] == "/admin/sla"


def test_a_reload_of_a_refused_reply_url_shows_the_ticket(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    ticket = world.tickets["a1"]
    page = portal.get(f"/tickets/{ticket}/messages")
    assert page.status_code == 200 and "Printer on fire" in page.text
    assert str(page.url).endswith(f"/tickets/{ticket}")


@pytest.mark.parametrize("who", ["member_a", "agent"])
def test_signing_in_with_a_form_target_as_next_lands_on_its_page(
    portal: TestClient, world: World, who: str
) -> None:
    person: Person = world.people[who]
    ticket = world.tickets["a1"]
    response = portal.post(
        "/auth/sign-in",
        data={
            "email": person.email,
            "password": PASSWORD,
            "next": f"/tickets/{ticket}/messages",
            "csrf_token": csrf_of(portal),
        },
        follow_redirects=False,
    )
    location = response.headers["location"]
    if person.totp_secret:
        assert location == f"/auth/mfa?next=/tickets/{ticket}"
    else:
        assert location == f"/tickets/{ticket}"
    assert "/messages" not in location


def test_a_method_the_portal_does_not_serve_gets_a_page_in_the_profile_language_with_a_way_back(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = 'fr' where id = %s", (member.id,))
    sign_in(portal, member)
    response = portal.put(
        "/tickets", headers={"Accept-Language": "en", "X-CSRF-Token": csrf_of(portal)}, follow_redirects=False
    )
    assert response.status_code == 405
    assert _expect("fr", "That action is not available here") in response.text.replace("&#39;", "'")
    assert 'href="/"' in response.text and "Method Not Allowed" not in response.text
    assert (
        '<nav aria-label="' in response.text and 'href="/tickets"' in response.text
    )  # the portal's navigation


def test_every_successful_action_confirms_once(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    csrf = csrf_of(portal)
    saved = portal.post(
        "/profile",
        data={"first_name": "Ann", "surname": "Tester", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/profile"
    first = portal.get("/profile").text
    assert 'role="status"' in first and "Your profile was saved." in first
    assert "Your profile was saved." not in portal.get("/profile").text
    created = portal.post(
        "/tickets",
        data={"subject": "Mouse", "description": "Broken", "priority": "low", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert "Your ticket was opened." in created.text
    replied = portal.post(
        f"/tickets/{world.tickets['a1']}/messages",
        data={"body": "Thanks", "intent": "public", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert "Your reply was sent." in replied.text
    resolved = portal.post(
        f"/tickets/{world.tickets['a1']}/status",
        data={"status": "resolved", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert "The status was changed." in resolved.text


def test_a_forged_flash_cookie_shows_nothing(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    portal.cookies.set("nexk_flash", "profile_saved.0000")
    assert "Your profile was saved." not in portal.get("/profile").text


# --- Errors in the person's words, in en, fr and nl ----------------------------------------------------------


def _expect(language: str, msgid: str, **values: str) -> str:
    i18n.activate(language)
    try:
        return i18n._(msgid, **values)
    finally:
        i18n.activate("en")


def _assert_refused(response, language: str, msgid: str, kept: list[str], **values: str) -> None:
    assert response.status_code == 422, response.text[:400]
    assert f'<html lang="{language}"' in response.text
    assert _expect(language, msgid, **values) in response.text.replace("&#39;", "'")
    for value in kept:
        assert f'value="{value}"' in response.text or f">{value}</textarea>" in response.text, value
    assert not RAW_MESSAGES.search(response.text), RAW_MESSAGES.search(response.text)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_every_admin_form_refuses_bad_values_in_the_admins_language_and_keeps_them(
    portal: TestClient, world: World, db: psycopg.Connection, language: str
) -> None:
    admin = world.person("boss", "admin", totp=True)
    db.execute("update public.profiles set language = %s where id = %s", (language, admin.id))
    sign_in(portal, admin)
    csrf = csrf_of(portal)
    org = {
        "name": "Brasserie Dupont",
        "enterprise_number": "0123.456.789",
        "contract_start": "2026-01-01",
        "contract_end": "",
        "sla_plan_id": str(world.plan_id),
        "csrf_token": csrf,
    }
    _assert_refused(
        portal.post("/admin/organizations", data=org),
        language,
        "Enterprise number: this is not a valid Belgian enterprise number. Write its 10 digits, e.g. "
        "0123.456.749, and check the last two (the check number).",
        ["Brasserie Dupont", "0123.456.789"],
    )
    _assert_refused(
        portal.post(
            "/admin/organizations",
            data=org | {"enterprise_number": "0403.170.701", "contract_end": "2025-01-01"},
        ),
        language,
        "Contract end: the end date must be on or after the start date.",
        ["Brasserie Dupont", "2025-01-01"],
    )
    _assert_refused(
        portal.post(f"/admin/organizations/{world.orgs['a']}", data=org | {"contract_start": "01/02/2026"}),
        language,
        "{field}: write a date as YYYY-MM-DD.",
        ["01/02/2026"],
        field=_expect(language, "Contract start"),
    )
    targets = {"plan_id": str(world.plan_id), "priority": "high", "csrf_token": csrf}
    _assert_refused(
        portal.post(
            "/admin/sla/policies",
            data=targets
            | {"first_response_minutes": "0", "next_response_minutes": "30", "resolution_minutes": "60"},
        ),
        language,
        "{field}: write a whole number of business minutes from 1 to 525,600.",
        ["0"],
        field=_expect(language, "First response"),
    )
    _assert_refused(
        portal.post(
            "/admin/sla/policies",
            data=targets
            | {"first_response_minutes": "90", "next_response_minutes": "30", "resolution_minutes": "60"},
        ),
        language,
        "Resolution: allow at least as many minutes as for the first response.",
        ["90", "60"],
    )
    calendar = db.execute(
        "select calendar_id from public.sla_plans where id = %s", (world.plan_id,)
    ).fetchone()[0]
    hours = {"calendar_id": str(calendar), "day_of_week": "2", "csrf_token": csrf}
    _assert_refused(
        portal.post("/admin/sla/hours", data=hours | {"opens_at": "17:00", "closes_at": "08:00"}),
        language,
        "Closes at: the closing time must be later than the opening time.",
        ["17:00", "08:00"],
    )
    day = {"calendar_id": str(calendar), "csrf_token": csrf}
    assert (
        portal.post(
            "/admin/sla/holidays", data=day | {"day": "2026-07-21", "name": "Fête nationale"}
        ).status_code
        == 200
    )
    _assert_refused(
        portal.post("/admin/sla/holidays", data=day | {"day": "2026-07-21", "name": "Again"}),
        language,
        "Day: this date is already a closing day of this calendar.",
        ["2026-07-21", "Again"],
    )
    _assert_refused(
        portal.post(
            "/admin/people/invite",
            data={
                "email": "not-an-address",
                "first_name": "Zoë",
                "surname": "Peeters",
                "role": "client_member",
                "organization_id": str(world.orgs["a"]),
                "csrf_token": csrf,
            },
        ),
        language,
        "E-mail address: write an address like name@example.be.",
        ["not-an-address", "Zoë", "Peeters"],
    )
    # An address with an account: the message above the kept form (409), not an error page.
    existing = world.people["member_a"].email
    taken = portal.post(
        "/admin/people/invite",
        data={
            "email": existing,
            "first_name": "Zoë",
            "surname": "Peeters",
            "role": "client_member",
            "organization_id": str(world.orgs["a"]),
            "csrf_token": csrf,
        },
    )
    assert taken.status_code == 409 and f'value="{existing}"' in taken.text and 'value="Zoë"' in taken.text
    assert _expect(language, ALREADY_HAS_ACCOUNT, email=existing) in taken.text.replace("&#39;", "'")
    assert not RAW_MESSAGES.search(taken.text)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_every_client_form_refuses_bad_values_in_the_clients_language_and_keeps_them(
    portal: TestClient, world: World, db: psycopg.Connection, language: str
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = %s where id = %s", (language, member.id))
    sign_in(portal, member)
    csrf = csrf_of(portal)
    refused_ticket = portal.post(
        "/tickets",
        data={"subject": "   ", "description": "Screen is black", "priority": "high", "csrf_token": csrf},
    )
    _assert_refused(
        refused_ticket,
        language,
        "Subject: write a short summary of 1 to 200 characters.",
        ["Screen is black"],
    )
    # POST /tickets shares its address with the list: the address bar is set to the form's page instead.
    assert '<meta name="nexk-page-url" content="/tickets/new">' in refused_ticket.text
    refused = portal.post(
        f"/tickets/{world.tickets['a1']}/messages",
        data={"body": "   ", "intent": "public", "csrf_token": csrf},
    )
    _assert_refused(refused, language, "Message: write a reply of 1 to 20,000 characters.", [])
    _assert_refused(
        portal.post(
            "/profile",
            data={"first_name": "Ann", "surname": "Tester", "phone": "call me", "csrf_token": csrf},
        ),
        language,
        "Phone: digits, spaces and + . / ( ) - only, 6 to 25 characters (e.g. +32 2 123 45 67).",
        ["Ann", "call me"],
    )
    # A tampered request (a field the form never sends badly) still gets words, not pydantic's.
    tampered = portal.get("/tickets?page=0")
    assert tampered.status_code == 422
    assert _expect(language, "This number is too small.") in tampered.text
    assert not RAW_MESSAGES.search(tampered.text)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_client_admins_invitation_form_refuses_bad_values_in_their_language_and_keeps_them(
    portal: TestClient, world: World, db: psycopg.Connection, language: str
) -> None:
    admin = world.people["admin_a"]
    db.execute("update public.profiles set language = %s where id = %s", (language, admin.id))
    sign_in(portal, admin)
    csrf = csrf_of(portal)
    invite = {"email": "zoe@example.test", "first_name": "Zoë", "surname": "Peeters", "csrf_token": csrf}
    _assert_refused(
        portal.post("/team/invite", data=invite | {"email": "not-an-address"}),
        language,
        "E-mail address: write an address like name@example.be.",
        ["not-an-address", "Zoë", "Peeters"],
    )
    _assert_refused(
        portal.post("/team/invite", data=invite | {"first_name": "  "}),
        language,
        "First name: write between 1 and 100 characters.",
        ["zoe@example.test", "Peeters"],
    )
    too_long = "P" * 150
    _assert_refused(
        portal.post("/team/invite", data=invite | {"surname": too_long}),
        language,
        "Surname: write between 1 and 100 characters.",
        ["zoe@example.test", too_long],
    )
    # An address with an account: the message above the kept form (409), not an error page.
    taken = portal.post("/team/invite", data=invite | {"email": world.people["member_a"].email})
    assert taken.status_code == 409
    assert 'id="invite-email"' in taken.text and f'value="{world.people["member_a"].email}"' in taken.text
    assert _expect(language, ALREADY_HAS_ACCOUNT, email=world.people["member_a"].email) in taken.text.replace(
        "&#39;", "'"
    )
    assert not RAW_MESSAGES.search(taken.text)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_dsr_forms_refuse_bad_values_in_the_admins_language_and_keep_them(
    portal: TestClient, world: World, db: psycopg.Connection, language: str
) -> None:
    admin = world.person("boss", "admin", totp=True)
    db.execute("update public.profiles set language = %s where id = %s", (language, admin.id))
    member = world.people["member_a"]
    rectification = db.execute("select private.dsr_open(%s, 'rectification')", (member.id,)).fetchone()[0]
    objection = db.execute("select private.dsr_open(%s, 'objection')", (member.id,)).fetchone()[0]
    sign_in(portal, admin)
    csrf = csrf_of(portal)
    recorded = portal.post(
        "/admin/dsr",
        data={
            "subject_email": "nobody-at-example",
            "type": "erasure",
            "notes": "Phoned on Monday",
            "csrf_token": csrf,
        },
    )
    _assert_refused(
        recorded, language, "E-mail address: write an address like name@example.be.", ["nobody-at-example"]
    )
    assert ">Phoned on Monday</textarea>" in recorded.text and 'value="erasure" selected' in recorded.text
    assert '<meta name="nexk-page-url" content="/admin/dsr">' in recorded.text
    _assert_refused(
        portal.post(
            "/admin/dsr",
            data={
                "subject_email": "zoe@example.test",
                "type": "access",
                "notes": "x" * 10001,
                "csrf_token": csrf,
            },
        ),
        language,
        "Notes: at most 10,000 characters.",
        ["zoe@example.test"],
    )
    _assert_refused(
        portal.post(f"/admin/dsr/{rectification}/rectify", data={"csrf_token": csrf}),
        language,
        "Rectification: fill in at least one corrected field.",
        [],
    )
    _assert_refused(
        portal.post(
            f"/admin/dsr/{rectification}/rectify",
            data={"surname": "Peeters", "phone": "call me", "csrf_token": csrf},
        ),
        language,
        "Phone: digits, spaces and + . / ( ) - only, 6 to 25 characters (e.g. +32 2 123 45 67).",
        ["Peeters", "call me"],
    )
    _assert_refused(
        portal.post(
            f"/admin/dsr/{rectification}/rectify",
            data={"surname": "P" * 101, "email": "not-an-address", "csrf_token": csrf},
        ),
        language,
        "Surname: write between 1 and 100 characters.",
        ["P" * 101, "not-an-address"],
    )
    assert db.execute("select surname from public.profiles where id = %s", (member.id,)).fetchone()[0] == (
        "Tester"
    )  # nothing half-written
    _assert_refused(
        portal.post(
            f"/admin/dsr/{objection}/object",
            data={"purpose": "direct_marketing", "reason": "r" * 2001, "csrf_token": csrf},
        ),
        language,
        "Reason: at most 2,000 characters.",
        ["r" * 2001],
    )
    _assert_refused(
        portal.post(f"/admin/dsr/{objection}/object", data={"purpose": "astrology", "csrf_token": csrf}),
        language,
        "Purpose: choose the use the person objects to from the list.",
        [],
    )
    fixed = portal.post(
        f"/admin/dsr/{rectification}/rectify", data={"phone": "+32 2 123 45 67", "csrf_token": csrf}
    )
    assert fixed.status_code == 200 and _expect(
        language, "The person's data was rectified."
    ) in fixed.text.replace("&#39;", "'")


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_my_data_request_form_refuses_bad_values_in_the_clients_language_and_keeps_them(
    portal: TestClient, world: World, db: psycopg.Connection, language: str
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set language = %s where id = %s", (language, member.id))
    sign_in(portal, member)
    csrf = csrf_of(portal)
    long_details = "d" * 2001
    _assert_refused(
        portal.post(
            "/my-data/requests", data={"type": "erasure", "details": long_details, "csrf_token": csrf}
        ),
        language,
        "Details: at most 2,000 characters.",
        [long_details],
    )
    _assert_refused(
        portal.post("/my-data/requests", data={"type": "astrology", "details": "Please", "csrf_token": csrf}),
        language,
        "Request: choose what you are asking for from the list.",
        ["Please"],
    )
    assert (
        portal.post(
            "/my-data/requests", data={"type": "erasure", "details": "Please", "csrf_token": csrf}
        ).status_code
        == 200
    )
    _assert_refused(
        portal.post("/my-data/requests", data={"type": "erasure", "details": "Again", "csrf_token": csrf}),
        language,
        "You already have an open request of this kind: we will answer it before its due date.",
        ["Again"],
    )


def test_a_refused_sign_in_and_a_refused_code_keep_next_in_the_address_and_the_form(
    portal: TestClient, world: World
) -> None:
    ticket = world.tickets["a1"]
    target = f"/tickets/{ticket}"
    member = world.people["member_a"]
    csrf = csrf_of(portal)
    page = portal.get(f"/auth/sign-in?next={target}")
    assert f'action="/auth/sign-in?next={target}"' in page.text
    refused = portal.post(
        f"/auth/sign-in?next={target}",
        data={"email": member.email, "password": "wrong", "next": target, "csrf_token": csrf},
    )
    assert refused.status_code == 401
    # The address bar gets the sign-in page with its next (portal.js), the form posts there and keeps it.
    assert f'<meta name="nexk-page-url" content="/auth/sign-in?next={target}">' in refused.text
    assert f'action="/auth/sign-in?next={target}"' in refused.text
    assert f'name="next" value="{target}"' in refused.text
    reloaded = portal.get(f"/auth/sign-in?next={target}")  # a reload of that address
    assert reloaded.status_code == 200 and f'name="next" value="{target}"' in reloaded.text
    signed_in = portal.post(
        f"/auth/sign-in?next={target}",
        data={"email": member.email, "password": PASSWORD, "next": target, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == target


def test_a_refused_two_step_code_keeps_next(portal: TestClient, world: World) -> None:
    admin = world.person("boss", "admin", totp=True)
    csrf = csrf_of(portal)
    first = portal.post(
        "/auth/sign-in",
        data={
            "email": admin.email,
            "password": PASSWORD,
            "next": "/admin/dsr?closed=true",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    step = first.headers["location"]
    assert step == "/auth/mfa?next=/admin/dsr%3Fclosed%3Dtrue"
    assert f'action="{step}"' in portal.get(step).text
    csrf = csrf_of(portal)  # the sign-in brought a new CSRF token, bound to the new session
    refused = portal.post(step, data={"code": "000000", "next": "/admin/dsr?closed=true", "csrf_token": csrf})
    assert refused.status_code == 401
    assert f'<meta name="nexk-page-url" content="{step}">' in refused.text
    reloaded = portal.get(step)
    assert reloaded.status_code == 200 and 'name="next" value="/admin/dsr?closed=true"' in reloaded.text
    done = portal.post(
        step,
        data={
            "code": pyotp.TOTP(admin.totp_secret).now(),
            "next": "/admin/dsr?closed=true",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/dsr?closed=true"
