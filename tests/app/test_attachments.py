"""Attachments end to end through the pages: content-checked uploads, bytes under <org>/<ticket>/<id>, and
downloads only for people the attachment row's RLS lets through, always as a download."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import psycopg
from fastapi.testclient import TestClient
from portal_testkit import World, csrf_of, sign_in

from app.settings import Settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(portal: TestClient, ticket: object, name: str, data: bytes, *, internal: bool = False) -> object:
    fields = {
        "body": "see attached",
        "intent": "internal" if internal else "public",
        "csrf_token": csrf_of(portal),
    }
    return portal.post(
        f"/tickets/{ticket}/messages",
        data=fields,
        files=[("files", (name, data, "application/octet-stream"))],
    )


def test_uploaded_file_is_stored_under_org_ticket_id_with_its_sha256(
    portal: TestClient, world: World, db: psycopg.Connection, portal_settings: Settings
) -> None:
    sign_in(portal, world.people["member_a"])
    ticket = world.tickets["a1"]
    assert _upload(portal, ticket, "screen shot.png", PNG).status_code == 200
    row = db.execute(
        "select id, file_name, content_type, size_bytes, sha256, storage_path from public.attachments where ticket_id = %s",
        (ticket,),
    ).fetchone()
    assert row[1:5] == ("screen shot.png", "image/png", len(PNG), hashlib.sha256(PNG).hexdigest())
    assert row[5] == f"{world.orgs['a']}/{ticket}/{row[0]}"
    assert (portal_settings.uploads_dir / row[5]).read_bytes() == PNG
    assert db.execute("select count(*) from storage.objects where name = %s", (row[5],)).fetchone()[0] == 1


def test_download_is_an_attachment_with_nosniff(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["member_a"])
    _upload(portal, world.tickets["a1"], "report.pdf", b"%PDF-1.7\n" + b"x" * 100)
    attachment_id = db.execute("select id from public.attachments").fetchone()[0]
    response = portal.get(f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content.startswith(b"%PDF-")


def test_a_file_whose_content_does_not_match_its_name_is_refused(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = _upload(portal, world.tickets["a1"], "invoice.pdf", PNG)
    assert response.status_code == 422
    assert "rename it to end in .png" in response.text


def test_html_and_executables_are_refused(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    assert _upload(portal, world.tickets["a1"], "x.html", b"<script>alert(1)</script>").status_code == 422
    assert _upload(portal, world.tickets["a1"], "x.exe", b"MZ\x90\x00\x03\x00\x00\x00").status_code == 422


def test_files_over_10_mb_are_refused_with_the_limit_named(portal: TestClient, world: World) -> None:
    sign_in(portal, world.people["member_a"])
    response = _upload(portal, world.tickets["a1"], "big.txt", b"a" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 422
    assert "larger than 10 MB" in response.text


def test_docx_is_recognised_by_its_zip_structure(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    sign_in(portal, world.people["member_a"])
    assert _upload(portal, world.tickets["a1"], "notes.docx", buffer.getvalue()).status_code == 200
    assert (
        db.execute("select content_type from public.attachments")
        .fetchone()[0]
        .endswith("wordprocessingml.document")
    )


def test_other_organization_gets_404_for_the_download(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["member_a"])
    _upload(portal, world.tickets["a1"], "a.txt", b"hello")
    attachment_id = db.execute("select id from public.attachments").fetchone()[0]
    portal.post("/auth/sign-out", data={"csrf_token": csrf_of(portal)})
    sign_in(portal, world.people["member_b"])
    assert portal.get(f"/attachments/{attachment_id}").status_code == 404


def test_client_cannot_download_an_internal_notes_attachment(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["agent"])
    assert (
        _upload(portal, world.tickets["a1"], "diag.txt", b"internal diagnostics", internal=True).status_code
        == 200
    )
    attachment_id = db.execute("select id from public.attachments where internal").fetchone()[0]
    assert portal.get(f"/attachments/{attachment_id}").status_code == 200
    portal.post("/auth/sign-out", data={"csrf_token": csrf_of(portal)})
    sign_in(portal, world.people["member_a"])
    assert portal.get(f"/attachments/{attachment_id}").status_code == 404
    assert "diag.txt" not in portal.get(f"/tickets/{world.tickets['a1']}").text


def test_downloads_are_in_the_audit_log(portal: TestClient, world: World, db: psycopg.Connection) -> None:
    member = world.people["member_a"]
    sign_in(portal, member)
    _upload(portal, world.tickets["a1"], "a.txt", b"hello")
    attachment_id = db.execute("select id from public.attachments").fetchone()[0]
    portal.get(f"/attachments/{attachment_id}")
    logged = db.execute(
        "select count(*) from public.audit_log where actor_id = %s and action = 'read' and object_table = 'attachments' and object_id = %s",
        (member.id, attachment_id),
    ).fetchone()[0]
    assert logged == 1


def test_new_ticket_with_attachment_links_it_to_the_ticket(
    portal: TestClient, world: World, db: psycopg.Connection
) -> None:
    sign_in(portal, world.people["member_a"])
    response = portal.post(
        "/tickets",
        data={
            "subject": "Broken screen",
            "description": "see photo",
            "priority": "normal",
            "csrf_token": csrf_of(portal),
        },
        files=[("files", ("photo.png", PNG, "image/png"))],
    )
    assert response.status_code == 200
    ticket_id = re.search(r"/tickets/([0-9a-f-]{36})/messages", response.text).group(1)
    assert "photo.png" in response.text
    assert (
        db.execute("select message_id from public.attachments where ticket_id = %s", (ticket_id,)).fetchone()[
            0
        ]
        is None
    )
