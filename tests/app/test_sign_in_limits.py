"""Sign-in limits and the sign-in audit entry: a company behind one office address is not locked out by its
own successful sign-ins, guessing from one address is, and each sign-in is one audit row (staff included,
whose sign-in takes a password and a TOTP code)."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient
from portal_testkit import PASSWORD, World, csrf_of, sign_in


def _attempt(portal: TestClient, email: str, password: str) -> int:
    response = portal.post(
        "/auth/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    return response.status_code


def test_thirty_successful_sign_ins_from_one_office_address_all_succeed(
    portal: TestClient, world: World
) -> None:
    colleagues = [world.person(f"colleague{n}_a", "client_member", "a") for n in range(30)]
    statuses = []
    for person in colleagues:
        statuses.append(_attempt(portal, person.email, PASSWORD))
        portal.cookies.clear()
    assert statuses == [303] * 30


def test_twenty_failures_from_one_address_lock_that_address_even_for_a_right_password(
    portal: TestClient, world: World
) -> None:
    targets = [world.person(f"target{n}_a", "client_member", "a") for n in range(21)]
    failures = [_attempt(portal, person.email, "wrong password") for person in targets[:20]]
    assert failures == [401] * 20  # one attempt per account: only the address limit can stop the next one
    response = portal.post(
        "/auth/sign-in",
        data={"email": targets[20].email, "password": PASSWORD, "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_successes_in_between_do_not_reset_the_failures_of_an_address(
    portal: TestClient, world: World
) -> None:
    member = world.people["member_a"]
    targets = [world.person(f"guess{n}_a", "client_member", "a") for n in range(20)]
    for index, person in enumerate(targets):
        assert _attempt(portal, person.email, "wrong password") == 401
        if index == 10:
            assert _attempt(portal, member.email, PASSWORD) == 303
            portal.cookies.clear()
    assert _attempt(portal, member.email, PASSWORD) == 429


def test_the_per_account_limit_still_counts_every_attempt(portal: TestClient, world: World) -> None:
    email = world.people["member_a"].email
    assert [_attempt(portal, email, "wrong password") for _ in range(6)] == [401] * 5 + [429]


def _sign_in_rows(db: psycopg.Connection, person_id: object) -> list[tuple]:
    return db.execute(
        "select object_table, object_id from public.audit_log where actor_id = %s and action = 'sign_in'",
        (person_id,),
    ).fetchall()


def test_a_staff_sign_in_with_password_and_totp_is_one_audit_row(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    agent = world.people["agent"]
    sign_in(portal, agent)  # password, then the TOTP code: one session
    rows = _sign_in_rows(db, agent.id)
    assert len(rows) == 1 and rows[0][0] == "auth_sessions" and rows[0][1] is not None


def test_a_client_sign_in_is_one_audit_row(portal: TestClient, world: World, db: psycopg.Connection) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    assert len(_sign_in_rows(db, member.id)) == 1


def test_a_staff_password_without_the_code_is_not_yet_a_sign_in(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    agent = world.people["agent"]
    assert _attempt(portal, agent.email, PASSWORD) == 303
    assert _sign_in_rows(db, agent.id) == []
