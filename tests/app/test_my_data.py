"""GDPR self-service: a person downloads their own data (zip: export.json and their attachments) and files
requests about themselves, always through the argument-free definer functions of db/schema/0210, which can
name nobody else."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import Person, World, csrf_of, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def as_user(database: str, pg_server: Any) -> Iterator[Any]:
    """Run SQL as a person exactly as the portal does: nexk_portal, `authenticated`, their claims."""
    with psycopg.connect(pg_server.portal_url(database)) as conn:

        def run(person: Person, sql: str, params: tuple[Any, ...] = ()) -> Any:
            with conn.transaction():
                conn.execute(
                    "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                    (json.dumps(person.claims()),),
                )
                return conn.execute(sql, params).fetchone()

        yield run


def test_a_person_downloads_a_zip_of_their_own_data_with_their_attachments(
    portal: TestClient, world: World
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    portal.post(
        f"/tickets/{world.tickets['a1']}/messages",
        data={"body": "the photo", "intent": "public", "csrf_token": csrf_of(portal)},
        files=[("files", ("photo.png", PNG, "image/png"))],
    )
    response = portal.get("/my-data/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("export.json"))
    assert data["subject_id"] == str(member.id)
    assert {t["subject"] for t in data["tickets"]} == {"Printer on fire"}
    assert "Internal: check the toner supplier" not in response.content.decode("latin-1")
    (attachment,) = data["attachments"]
    assert archive.read(f"attachments/{attachment['id']}/photo.png") == PNG
    assert data["attachments_missing"] == []


def test_a_person_files_an_erasure_request_and_sees_its_status_and_due_date(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    response = portal.post(
        "/my-data/requests",
        data={"type": "erasure", "details": "I left the company.", "csrf_token": csrf_of(portal)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = db.execute(
        "select subject_id, type, status, notes, due_at > received_at from public.dsr_requests"
    ).fetchone()
    assert row == (member.id, "erasure", "received", "I left the company.", True)
    page = portal.get("/my-data?sent=true").text
    assert "Your request was received." in page
    assert "Erasure" in page and "Received" in page
    journal = db.execute("select event_type from private.dsr_events where subject_id = %s", (member.id,))
    assert [r[0] for r in journal.fetchall()] == ["opened"]


def test_a_second_open_request_of_the_same_kind_is_refused_kindly(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    for _ in range(2):
        response = portal.post(
            "/my-data/requests", data={"type": "restriction", "csrf_token": csrf_of(portal)}
        )
    assert response.status_code == 422
    assert "You already have an open request of this kind" in response.text


def test_an_unknown_request_type_is_refused_with_a_message(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.post("/my-data/requests", data={"type": "access", "csrf_token": csrf_of(portal)})
    assert response.status_code == 422
    assert "choose what you are asking for" in response.text


def test_a_person_sees_only_their_own_requests(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    other = world.people["admin_a"]
    db.execute("select private.dsr_open(%s, 'objection', now(), 'not yours')", (other.id,))
    sign_in(portal, world.people["member_a"])
    page = portal.get("/my-data").text
    assert "You have made no requests." in page


def test_the_self_service_functions_act_for_the_caller_only(as_user: Any, world: World) -> None:
    member, other = world.people["member_a"], world.people["member_b"]
    export = as_user(member, "select private.my_dsr_export()")[0]
    assert export["subject_id"] == str(member.id)
    request_id = as_user(member, "select private.request_my_dsr('objection', 'no marketing')")[0]
    assert isinstance(request_id, uuid.UUID)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_user(member, "select private.dsr_export(%s)", (other.id,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_user(member, "select private.dsr_open(%s, 'erasure', now(), null)", (other.id,))


def test_staff_without_mfa_cannot_export_through_the_self_service_function(
    as_user: Any, world: World
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_user(world.people["agent"], "select private.my_dsr_export()")


def test_a_sign_in_is_logged_with_the_dedicated_sign_in_action(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    rows = db.execute(
        "select object_table from public.audit_log where actor_id = %s and action = 'sign_in'", (member.id,)
    ).fetchall()
    assert rows == [("auth_sessions",)]
