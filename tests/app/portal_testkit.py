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

PASSWORD = "correct horse battery"
_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
SECRET = "test-session-secret-" + "x" * 40
_enterprise = iter(range(19_000_000, 19_999_999, 7))


def _enterprise_number() -> str:
    first = next(_enterprise)
    digits = f"{first:08d}{97 - first % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


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
            calendar = self.db.execute(
                "insert into public.business_calendars (name) values ('Test calendar') returning id"
            ).fetchone()[0]
            self.plan_id = self.db.execute(
                "insert into public.sla_plans (code, name, calendar_id) values ('test', 'Test', %s) returning id",
                (calendar,),
            ).fetchone()[0]
        org_id = self.db.execute(
            """insert into public.organizations (name, enterprise_number, contract_start, sla_plan_id, shared_tickets)
               values (%s, %s, '2025-01-01', %s, %s) returning id""",
            (f"Org {key}", _enterprise_number(), self.plan_id, shared),
        ).fetchone()[0]
        self.orgs[key] = org_id
        return org_id

    def person(self, key: str, role: str, org: str | None = None, *, totp: bool = False) -> Person:
        user_id = uuid.uuid4()
        email = f"{key}@example.test"
        self.db.execute(
            """insert into auth.users (id, email, encrypted_password, email_confirmed_at)
               values (%s, %s, %s, now())""",
            (user_id, email, _HASH),
        )
        organization_id = self.orgs[org] if org else None
        self.db.execute(
            """insert into public.profiles (id, organization_id, role, first_name, surname, email)
               values (%s, %s, %s, %s, %s, %s)""",
            (user_id, organization_id, role, key.split("_")[0].capitalize(), "Tester", email),
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
        self.db.execute(
            "insert into public.agent_assignments (agent_id, organization_id) values (%s, %s)",
            (self.people[agent].id, self.orgs[org]),
        )

    def ticket(
        self, key: str, requester: str, *, subject: str | None = None, priority: str = "normal"
    ) -> uuid.UUID:
        person = self.people[requester]
        ticket_id = self.db.execute(
            """insert into public.tickets (organization_id, requester_id, subject, description, priority)
               values (%s, %s, %s, 'Details of the problem.', %s) returning id""",
            (person.organization_id, person.id, subject or f"Ticket {key}", priority),
        ).fetchone()[0]
        self.tickets[key] = ticket_id
        return ticket_id

    def message(self, ticket: str, author: str, body: str, *, internal: bool = False) -> uuid.UUID:
        return self.db.execute(
            "insert into public.ticket_messages (ticket_id, author_id, body, internal) values (%s, %s, %s, %s) returning id",
            (self.tickets[ticket], self.people[author].id, body, internal),
        ).fetchone()[0]


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
