"""Sessions end everywhere at sign-out, and the CSRF defence is bound to the session and to the portal's origin.

Two portal instances on one database stand for two processes (or two Vercel instances): each has its own
memory of live sessions (app/auth/live_sessions.py), so a sign-out in one is honoured by the other within
LIVE_SECONDS, which the tests cross by advancing that instance's clock rather than sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import jwt
import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, SECRET, Person, World, bearer, csrf_of, sign_in

from app.auth import AuthSession
from app.auth.live_sessions import LIVE_SECONDS
from app.auth.local import LocalAuth
from app.auth.supabase import SupabaseAuth
from app.auth.tokens import mint_access_token
from app.main import create_app
from app.security import CROSS_SITE_REFUSED, FORM_EXPIRED
from app.settings import Settings
from db.testing import impersonate, jwt_claims

EVIL = "https://evil.test"


@pytest.fixture
def other_instance(portal_settings: Settings) -> Iterator[TestClient]:
    """A second portal process on the same database, with its own caches."""
    with TestClient(create_app(portal_settings), raise_server_exceptions=False) as client:
        yield client


def _advance_clock(client: TestClient, seconds: float) -> None:
    live = client.app.state.live_sessions  # type: ignore[attr-defined]
    start = live.clock()
    live.clock = lambda: start + seconds


def _set_cookie(client: TestClient, name: str, value: str) -> None:
    """Replace a cookie as the browser would hold it (TestClient's jar files testserver as testserver.local)."""
    client.cookies.delete(name)
    client.cookies.set(name, value, domain="testserver.local", path="/")


def _with_access_cookie(client: TestClient, token: str) -> TestClient:
    client.cookies.clear()
    _set_cookie(client, "nexk_access", token)
    return client


def _sign_out(client: TestClient) -> None:
    response = client.post("/auth/sign-out", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303


def test_a_signed_out_access_token_is_refused_as_cookie_and_bearer_in_every_process(
    portal: TestClient, other_instance: TestClient, world: World
) -> None:
    """After sign-out, the old access token (still unexpired, correctly signed) opens nothing: at once in the
    process that signed out, within LIVE_SECONDS in any other, as a cookie and as an API bearer token."""
    sign_in(portal, world.people["member_a"])
    token = portal.cookies["nexk_access"]
    stolen = {"Authorization": f"Bearer {token}"}
    # The other process has seen the session alive, and remembers it.
    assert _with_access_cookie(other_instance, token).get("/tickets").status_code == 200
    assert other_instance.get("/api/tickets", headers=stolen).status_code == 200

    _sign_out(portal)

    thief = TestClient(portal.app, raise_server_exceptions=False)
    assert _with_access_cookie(thief, token).get("/tickets", follow_redirects=False).status_code == 303
    assert thief.get("/api/tickets", headers=stolen).status_code == 401
    # The other process may honour what it remembers for at most LIVE_SECONDS, never longer.
    _advance_clock(other_instance, LIVE_SECONDS + 0.01)
    response = _with_access_cookie(other_instance, token).get("/tickets", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/sign-in")
    assert other_instance.get("/api/tickets", headers=stolen).status_code == 401


def test_a_sign_out_ends_only_that_session_other_sessions_of_the_person_go_on(
    portal: TestClient, other_instance: TestClient, world: World
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    sign_in(other_instance, member)  # the same person in another browser
    api_token = bearer(member)  # and a third session, used by an API client

    _sign_out(portal)

    _advance_clock(other_instance, LIVE_SECONDS + 0.01)
    assert other_instance.get("/tickets").status_code == 200
    assert other_instance.get("/api/tickets", headers=api_token).status_code == 200
    assert portal.get("/tickets", follow_redirects=False).status_code == 303


def test_a_bearer_token_whose_session_ended_or_never_existed_is_refused(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    headers = bearer(member)
    assert portal.get("/api/tickets", headers=headers).status_code == 200
    db.execute("delete from auth.sessions where user_id = %s", (member.id,))  # GoTrue's global logout
    _advance_clock(portal, LIVE_SECONDS + 0.01)
    response = portal.get("/api/tickets", headers=headers)
    assert response.status_code == 401 and response.json()["detail"]
    # A correctly signed token naming a session that was never recorded (or no session at all) opens nothing.
    for session_id in (str(uuid.uuid4()), ""):
        token, _ = mint_access_token(
            SECRET,
            user_id=str(member.id),
            email=member.email,
            session_id=session_id,
            aal="aal1",
            amr=[],
            lifetime=600,
        )
        assert portal.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def _local_auth(portal_settings: Settings) -> LocalAuth:
    auth = LocalAuth(portal_settings.auth_database_url or "", portal_settings.session_secret)
    auth.open()
    return auth


def _sessions_of(db: psycopg.Connection, person: Person) -> set[uuid.UUID]:
    return {r[0] for r in db.execute("select id from auth.sessions where user_id = %s", (person.id,))}


@pytest.mark.parametrize("scope", ["local", "others", "global"])
def test_the_local_emulation_signs_out_with_gotrues_three_scopes(
    portal_settings: Settings, world: World, db: psycopg.Connection, scope: str
) -> None:
    """As GoTrue's POST /logout?scope=: local deletes the caller's session, others every other session of the
    user, global all of them; another person's sessions are never touched."""
    auth = _local_auth(portal_settings)
    try:
        member, colleague = world.people["member_a"], world.people["admin_a"]
        mine = [auth.sign_in_password(member.email, PASSWORD, ip=None, user_agent=None) for _ in range(3)]
        auth.sign_in_password(colleague.email, PASSWORD, ip=None, user_agent=None)
        ids = _sessions_of(db, member)
        current = uuid.UUID(_claims(mine[0].access_token)["session_id"])
        auth.sign_out(mine[0], scope)  # type: ignore[arg-type]
        expected = {"local": ids - {current}, "others": {current}, "global": set()}[scope]
        assert _sessions_of(db, member) == expected
        assert len(_sessions_of(db, colleague)) == 1
    finally:
        auth.close()


def _claims(token: str) -> dict[str, str]:
    return jwt.decode(token, options={"verify_signature": False})


def test_the_supabase_adapter_asks_gotrue_to_end_this_session_only() -> None:
    """GoTrue's logout defaults to scope=global (every device); the portal's sign-out sends scope=local."""
    seen: list[httpx.Request] = []

    def gotrue(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    auth = SupabaseAuth(
        "https://project.supabase.co",
        "publishable",
        client=httpx.Client(transport=httpx.MockTransport(gotrue)),
    )
    auth.sign_out(AuthSession("access", "refresh", 0, str(uuid.uuid4()), "aal1", False))
    assert [(r.method, r.url.path, dict(r.url.params)) for r in seen] == [
        ("POST", "/auth/v1/logout", {"scope": "local"})
    ]
    assert seen[0].headers["authorization"] == "Bearer access"


def test_session_is_live_answers_the_callers_own_session_only(world: World, db: psycopg.Connection) -> None:
    """Invariant: private.session_is_live() is true exactly when auth.sessions holds the JWT's session_id for
    the JWT's sub and its not_after has not passed; it says nothing about anyone else's session."""
    member, colleague = world.people["member_a"], world.people["admin_a"]
    live, expired, theirs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    db.execute(
        """insert into auth.sessions (id, user_id, not_after) values
           (%s, %s, null), (%s, %s, now() - interval '1 second'), (%s, %s, now() + interval '1 hour')""",
        (live, member.id, expired, member.id, theirs, colleague.id),
    )

    def answer(claims: dict[str, object]) -> bool:
        with impersonate(db, claims):
            return db.execute("select private.session_is_live()").fetchone()[0]

    assert answer(jwt_claims(member.id, session_id=live)) is True
    assert answer(jwt_claims(member.id, session_id=expired)) is False
    assert answer(jwt_claims(member.id, session_id=theirs)) is False  # someone else's session id
    assert answer(jwt_claims(member.id, session_id="not-a-uuid")) is False
    assert answer({"role": "authenticated", "sub": str(member.id)}) is False  # no session_id claim
    db.execute("delete from auth.sessions where id = %s", (live,))
    assert answer(jwt_claims(member.id, session_id=live)) is False
    with pytest.raises(psycopg.errors.InsufficientPrivilege), impersonate(db, None):
        db.execute("select private.session_is_live()")


# -- CSRF ---------------------------------------------------------------------------------------------------
def _save_profile(client: TestClient, csrf: str, **headers: str) -> httpx.Response:
    return client.post(
        "/profile",
        data={"first_name": "Mallory", "surname": "Tester", "csrf_token": csrf},
        headers=headers,
        follow_redirects=False,
    )


def _first_name(db: psycopg.Connection, person: Person) -> str:
    return db.execute("select first_name from public.profiles where id = %s", (person.id,)).fetchone()[0]


def test_an_anonymous_visitors_csrf_token_is_refused_for_a_signed_in_victim(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    """The cross-site request forgery attack: the attacker fetches a page anonymously, keeps its CSRF token,
    plants it in the victim's browser and makes it post, from https://evil.test, with the victim's session.
    Refused, with or without the evil Origin, and the profile is unchanged."""
    attacker = TestClient(portal.app, raise_server_exceptions=False)
    anonymous_token = csrf_of(attacker)
    victim = world.people["member_a"]
    sign_in(portal, victim)
    _set_cookie(portal, "nexk_csrf", anonymous_token)

    refused = _save_profile(portal, anonymous_token, Origin=EVIL)
    assert refused.status_code == 403 and "another website" in refused.text
    refused = _save_profile(portal, anonymous_token)  # the same-site variant: the token alone is refused
    assert refused.status_code == 403 and "reload the page" in refused.text
    assert _first_name(db, victim) == "Member"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Origin": EVIL}, CROSS_SITE_REFUSED),
        ({"Origin": "null"}, CROSS_SITE_REFUSED),  # sandboxed frames and some redirects send "null"
        ({"Origin": "http://testserver.evil.test"}, CROSS_SITE_REFUSED),
        ({"Referer": f"{EVIL}/page"}, CROSS_SITE_REFUSED),  # no Origin: the Referer's origin counts
        ({"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"}, CROSS_SITE_REFUSED),
    ],
)
def test_a_state_changing_request_from_another_site_is_refused_even_with_the_right_token(
    portal: TestClient, world: World, db: psycopg.Connection, headers: dict[str, str], message: str
) -> None:
    victim = world.people["member_a"]
    sign_in(portal, victim)
    response = _save_profile(portal, csrf_of(portal), **headers)
    assert response.status_code == 403
    assert message.split(",")[0] in response.text
    assert _first_name(db, victim) == "Member"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Referer": "http://testserver/profile"},
        {},  # neither header (a non-browser client): the bound token decides
    ],
)
def test_the_portals_own_form_with_the_sessions_token_is_accepted(
    portal: TestClient, world: World, db: psycopg.Connection, headers: dict[str, str]
) -> None:
    victim = world.people["member_a"]
    sign_in(portal, victim)
    assert _save_profile(portal, csrf_of(portal), **headers).status_code == 303
    assert _first_name(db, victim) == "Mallory"


def test_the_csrf_token_changes_at_sign_in_and_at_sign_out(portal: TestClient, world: World) -> None:
    anonymous = csrf_of(portal)
    sign_in(portal, world.people["member_a"])
    signed_in = portal.cookies["nexk_csrf"]
    assert signed_in != anonymous
    page = portal.get("/profile").text
    assert f'value="{signed_in}"' in page and f'value="{anonymous}"' not in page
    _sign_out(portal)
    portal.get("/auth/sign-in")
    assert portal.cookies["nexk_csrf"] not in (anonymous, signed_in)
    # The signed-out session's token opens no anonymous form either.
    _set_cookie(portal, "nexk_csrf", signed_in)
    response = portal.post(
        "/auth/forgot", data={"email": "x@example.test", "csrf_token": signed_in}, follow_redirects=False
    )
    assert response.status_code == 403 and FORM_EXPIRED.split(" (")[0] in response.text
