"""Test kit for the portal tests: a small world written with the owner connection, and helpers that sign in
through the real forms or mint bearer tokens for the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import bcrypt
import psycopg
import pyotp
from fastapi.testclient import TestClient

from app.auth.tokens import mint_access_token
from db import testing_world as make

PASSWORD = "correct horse battery"
_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
SECRET = "test-session-secret-" + "x" * 40


@dataclass
class Person:
    id: uuid.UUID
    email: str
    role: str
    organization_id: uuid.UUID | None
    totp_secret: str | None = None
    # The world's owner connection: bearer() records the session its token names, as a sign-in would.
    db: psycopg.Connection | None = field(default=None, repr=False, compare=False)

    def claims(self, aal: str = "aal1") -> dict[str, Any]:
        return {"sub": str(self.id), "role": "authenticated", "aal": aal, "email": self.email}


@dataclass
class World:
    """Two client organizations (A and B), their people, an agent for A, and a few tickets."""

    db: psycopg.Connection
    people: dict[str, Person] = field(default_factory=dict)
    orgs: dict[str, uuid.UUID] = field(default_factory=dict)
    tickets: dict[str, uuid.UUID] = field(default_factory=dict)
    plan_id: uuid.UUID | None = None

    def org(self, key: str, *, shared: bool = False) -> uuid.UUID:
        if self.plan_id is None:
            self.plan_id = make.sla_plan(
                self.db, make.calendar(self.db, "Test calendar"), code="test", name="Test"
            )
        org_id = make.organization(self.db, f"Org {key}", self.plan_id, shared_tickets=shared)
        self.orgs[key] = org_id
        return org_id

    def person(self, key: str, role: str, org: str | None = None, *, totp: bool = False) -> Person:
        email = f"{key}@example.test"
        organization_id = self.orgs[org] if org else None
        user_id = make.person(
            self.db,
            email,
            role,
            organization_id,
            first_name=key.split("_")[0].capitalize(),
            surname="Tester",
            password_hash=_HASH,
            confirmed=True,
        )
        secret = None
        if totp:
            secret = pyotp.random_base32()
            self.db.execute(
                """insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, secret)
                   values (%s, %s, 'app', 'totp', 'verified', %s)""",
                (uuid.uuid4(), user_id, secret),
            )
        person = Person(user_id, email, role, organization_id, secret, self.db)
        self.people[key] = person
        return person

    def assign(self, agent: str, org: str) -> None:
        make.assign(self.db, self.people[agent].id, self.orgs[org])

    def ticket(
        self, key: str, requester: str, *, subject: str | None = None, priority: str = "normal"
    ) -> uuid.UUID:
        person = self.people[requester]
        ticket_id = make.ticket(
            self.db,
            person.organization_id,
            person.id,
            subject=subject or f"Ticket {key}",
            description="Details of the problem.",
            priority=priority,
        )
        self.tickets[key] = ticket_id
        return ticket_id

    def message(self, ticket: str, author: str, body: str, *, internal: bool = False) -> uuid.UUID:
        return make.message(self.db, self.tickets[ticket], self.people[author].id, body, internal=internal)


def sign_in(client: TestClient, person: Person) -> None:
    """Password (and TOTP for staff) through the real forms."""
    response = client.post(
        "/auth/sign-in",
        data={"email": person.email, "password": PASSWORD, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    if person.totp_secret:
        assert response.headers["location"].startswith("/auth/mfa")
        response = client.post(
            "/auth/mfa",
            # the sign-in replaced the anonymous CSRF token with one bound to the new session
            data={"code": pyotp.TOTP(person.totp_secret).now(), "csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text


def csrf_of(client: TestClient) -> str:
    if "nexk_csrf" not in client.cookies:
        client.get("/auth/sign-in")
    return client.cookies["nexk_csrf"]


def bearer(person: Person, aal: str = "aal1") -> dict[str, str]:
    """An access token of a live session (the portal refuses tokens whose session has ended)."""
    session_id = uuid.uuid4()
    assert person.db is not None, "bearer() needs a person of a World"
    person.db.execute(
        "insert into auth.sessions (id, user_id, aal) values (%s, %s, %s)", (session_id, person.id, aal)
    )
    token, _ = mint_access_token(
        SECRET,
        user_id=str(person.id),
        email=person.email,
        session_id=str(session_id),
        aal=aal,
        amr=[],
        lifetime=600,
    )
    return {"Authorization": f"Bearer {token}"}
