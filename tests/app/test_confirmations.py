"""Destructive admin actions take two steps and work without JavaScript: the first POST (the button in the
list) changes nothing and answers a page that says what will happen, with a form to confirm and a way back;
only the confirmed POST acts."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import Person, World, csrf_of, sign_in


@pytest.fixture
def admin(world: World) -> Person:
    return world.person("boss", "admin", totp=True)


@dataclass
class Destructive:
    """One destructive action: how to set its target up, its URL and form, and how to see it happened."""

    name: str
    setup: Callable[[World], Any]
    url: Callable[[Any], str]
    form: Callable[[Any], dict[str, str]]
    done: Callable[[psycopg.Connection, Any], bool]
    question: str


def _calendar_row(world: World, table: str, values: str) -> uuid.UUID:
    calendar = world.db.execute("select calendar_id from public.sla_plans where id = %s", (world.plan_id,))
    calendar_id = calendar.fetchone()[0]
    return world.db.execute(
        f"insert into public.{table} select gen_random_uuid(), %s, {values} returning id",
        (calendar_id,),
    ).fetchone()[0]


def _exists(db: psycopg.Connection, sql: str, *params: Any) -> bool:
    return db.execute(sql, params).fetchone()[0]


ACTIONS = [
    Destructive(
        "deactivate a person",
        lambda w: w.people["member_a"].id,
        lambda pid: f"/admin/people/{pid}/access",
        lambda pid: {"back": "/admin/staff"},
        lambda db, pid: _exists(
            db, "select deactivated_at is not null from public.profiles where id = %s", pid
        ),
        "Deactivate member_a@example.test?",
    ),
    Destructive(
        "remove an agent assignment",
        lambda w: (w.people["agent"].id, w.orgs["a"]),
        lambda _: "/admin/assignments/delete",
        lambda ids: {"agent_id": str(ids[0]), "organization_id": str(ids[1])},
        lambda db, ids: (
            not _exists(
                db,
                "select exists (select from public.agent_assignments where agent_id = %s and organization_id = %s)",
                *ids,
            )
        ),
        "Remove Agent Tester from Org a?",
    ),
    Destructive(
        "erase a person (DSR)",
        lambda w: w.db.execute(
            "select private.dsr_open(%s, 'erasure')", (w.people["member_b"].id,)
        ).fetchone()[0],
        lambda rid: f"/admin/dsr/{rid}/erase",
        lambda rid: {},
        lambda db, rid: (
            not _exists(
                db, "select exists (select from public.profiles where email = 'member_b@example.test')"
            )
        ),
        "Erase member_b@example.test for good?",
    ),
    Destructive(
        "reject a DSR request",
        lambda w: w.db.execute(
            "select private.dsr_open(%s, 'rectification')", (w.people["member_b"].id,)
        ).fetchone()[0],
        lambda rid: f"/admin/dsr/{rid}/reject",
        lambda rid: {},
        lambda db, rid: _exists(db, "select status = 'rejected' from public.dsr_requests where id = %s", rid),
        "Reject the request of member_b@example.test?",
    ),
    Destructive(
        "remove opening hours",
        lambda w: _calendar_row(w, "business_hours", "1, '08:00', '12:00'"),
        lambda hid: f"/admin/sla/hours/{hid}/delete",
        lambda hid: {},
        lambda db, hid: (
            not _exists(db, "select exists (select from public.business_hours where id = %s)", hid)
        ),
        "Remove these opening hours?",
    ),
    Destructive(
        "remove a closing day",
        lambda w: _calendar_row(w, "holidays", "'2026-12-24', 'Christmas Eve'"),
        lambda did: f"/admin/sla/holidays/{did}/delete",
        lambda did: {},
        lambda db, did: not _exists(db, "select exists (select from public.holidays where id = %s)", did),
        "Remove this closing day?",
    ),
]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_one_click_on_a_destructive_button_only_asks_and_the_confirmation_acts(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection, action: Destructive
) -> None:
    target = action.setup(world)
    sign_in(portal, admin)
    url, form = action.url(target), action.form(target)

    first = portal.post(url, data={"csrf_token": csrf_of(portal), **form}, follow_redirects=False)

    assert first.status_code == 200, first.text
    assert not action.done(db, target), "one click acted"
    assert f'<h1 id="confirm-title">{action.question}</h1>' in first.text
    assert f'action="{url}"' in first.text and 'name="confirmed" value="yes"' in first.text
    for name, value in form.items():
        assert f'name="{name}" value="{value}"' in first.text
    assert re.search(r'<a class="button secondary" href="/admin/[a-z/]*">', first.text)  # the way back

    second = portal.post(
        url, data={"csrf_token": csrf_of(portal), **form, "confirmed": "yes"}, follow_redirects=False
    )

    assert second.status_code == 303, second.text
    assert action.done(db, target)


def test_cancelling_an_invitation_asks_first(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection
) -> None:
    invitation = db.execute(
        """insert into private.invitations (email, role, first_name, surname, nonce_hash, invited_by)
           values ('someone@example.test', 'agent', 'Some', 'One', repeat('a', 64), %s) returning id""",
        (admin.id,),
    ).fetchone()[0]
    sign_in(portal, admin)
    url = f"/admin/invitations/{invitation}/cancel"
    first = portal.post(url, data={"csrf_token": csrf_of(portal), "back": "/admin/staff"})
    assert first.status_code == 200 and "Cancel this invitation?" in first.text
    assert _exists(db, "select exists (select from private.invitations where id = %s)", invitation)
    portal.post(url, data={"csrf_token": csrf_of(portal), "back": "/admin/staff", "confirmed": "yes"})
    assert not _exists(db, "select exists (select from private.invitations where id = %s)", invitation)


def test_reactivating_needs_no_confirmation(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    db.execute("update public.profiles set deactivated_at = now() where id = %s", (member.id,))
    sign_in(portal, admin)
    response = portal.post(
        f"/admin/people/{member.id}/access",
        data={"csrf_token": csrf_of(portal), "active": "true", "back": "/admin/staff"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert _exists(db, "select deactivated_at is null from public.profiles where id = %s", member.id)


def test_the_confirmation_page_is_in_the_admins_language(
    portal: TestClient, world: World, admin: Person, db: psycopg.Connection
) -> None:
    db.execute("update public.profiles set language = 'nl' where id = %s", (admin.id,))
    sign_in(portal, admin)
    page = portal.post(
        f"/admin/people/{world.people['member_a'].id}/access",
        data={"csrf_token": csrf_of(portal), "back": "/admin/staff"},
    ).text
    assert "member_a@example.test deactiveren?" in page
    assert "Annuleren, niets wijzigen" in page
