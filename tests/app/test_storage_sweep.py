"""The storage sweeper deletes queued objects, rows and bytes, as its system account and nothing else.

Locally against the local byte store; for production against a local server that follows Supabase's
documented API: `POST /auth/v1/token?grant_type=password` answers an access token, and `DELETE
/storage/v1/object/{bucket}` with `{"prefixes": [...]}` deletes, as the token's identity under the
storage.objects policies of the real test database, the objects it may and answers them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import portal_testkit
import psycopg
import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from app import storage_cli
from app.auth.supabase import SupabaseAuth
from app.auth.tokens import AUDIENCE, LOCAL_ISSUER, TokenVerifier
from app.database import Database
from app.storage import LocalStorage, SupabaseStorage
from app.storage_sweep import SWEEPER_SYSTEM, SweeperError, local_session, sign_in, sweep

SECRET = "a-test-signing-secret-of-at-least-32-bytes!"
SWEEPER_EMAIL = "storage-sweeper@my.nexk.test"
SWEEPER_PASSWORD = "a long generated password"


def object_path() -> str:
    return "/".join(str(uuid.uuid4()) for _ in range(3))


def store(db: psycopg.Connection, root: Path, *, queued: bool) -> str:
    """An object with its bytes in the local store; queued for deletion or not."""
    path = object_path()
    db.execute(
        "insert into storage.objects (bucket_id, name, metadata) values ('attachments', %s, '{}')", (path,)
    )
    if queued:
        db.execute(
            "insert into private.storage_deletions (bucket_id, name, reason) values ('attachments', %s, 'erasure')",
            (path,),
        )
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(b"bytes")
    return path


def objects(db: psycopg.Connection) -> set[str]:
    return {r[0] for r in db.execute("select name from storage.objects where bucket_id = 'attachments'")}


@pytest.fixture
def pool(database: str, pg_server: Any) -> Iterator[Database]:
    """The portal's pool: the `nexk_portal` login, which cannot bypass RLS."""
    pool = Database(pg_server.portal_url(database), min_size=1, max_size=2)
    pool.open()
    yield pool
    pool.close()


def test_the_local_sweep_deletes_the_queued_objects_rows_and_bytes_and_leaves_the_rest(
    db: psycopg.Connection, pool: Database, tmp_path: Path
) -> None:
    gone = [store(db, tmp_path, queued=True) for _ in range(3)]
    kept = store(db, tmp_path, queued=False)

    result = sweep(pool, LocalStorage(tmp_path, pool), local_session())

    assert (result.queued, result.deleted, result.errors) == (3, 3, [])
    assert objects(db) == {kept}
    assert [p for p in gone if (tmp_path / p).exists()] == []
    assert (tmp_path / kept).read_bytes() == b"bytes"
    # A second run finds nothing to do.
    assert sweep(pool, LocalStorage(tmp_path, pool), local_session()).queued == 0


def test_the_sweep_works_in_batches_until_the_queue_is_empty(
    db: psycopg.Connection, pool: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.storage_sweep.BATCH_SIZE", 2)
    for _ in range(5):
        store(db, tmp_path, queued=True)
    result = sweep(pool, LocalStorage(tmp_path, pool), local_session())
    assert (result.queued, result.deleted) == (5, 5)
    assert objects(db) == set()


class FakeSupabase:
    """GoTrue's password grant and Storage's bulk delete, over the real database's policies."""

    def __init__(self, server: HTTPServer, pool: Database, app_metadata: dict[str, Any]) -> None:
        self.pool = pool
        self.app_metadata = app_metadata
        self.verifier = TokenVerifier(secret=SECRET)
        self.storage_down = False
        self.deleted_bytes: list[str] = []
        server.expect_request("/auth/v1/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/storage/v1/object/attachments", method="DELETE").respond_with_handler(
            self.delete
        )

    def token(self, request: Request) -> Response:
        body = json.loads(request.data)
        if request.args.get("grant_type") != "password" or request.headers.get("apikey") != "publishable":
            return Response(json.dumps({"error": "bad request"}), status=400)
        if (body.get("email"), body.get("password")) != (SWEEPER_EMAIL, SWEEPER_PASSWORD):
            return Response(json.dumps({"error_code": "invalid_credentials"}), status=400)
        now = int(time.time())
        claims = {
            "iss": LOCAL_ISSUER,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "role": "authenticated",
            "aal": "aal1",
            "app_metadata": self.app_metadata,
            "iat": now,
            "exp": now + 3600,
        }
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        # GoTrue's password grant answers the session: access and refresh tokens, expiry, the user.
        session = {"access_token": token, "refresh_token": "r", "expires_at": now + 3600, "user": {}}
        return Response(json.dumps(session))

    def delete(self, request: Request) -> Response:
        if self.storage_down:
            return Response(json.dumps({"error": "internal"}), status=500)
        claims = self.verifier.verify(request.headers["Authorization"].removeprefix("Bearer "))
        prefixes = json.loads(request.data)["prefixes"]
        with self.pool.rls_transaction(claims) as conn:
            conn.execute("select set_config('storage.allow_delete_query', 'true', true)")
            rows = conn.execute(
                "delete from storage.objects where bucket_id = 'attachments' and name = any(%s) returning name",
                (prefixes,),
            ).fetchall()
        self.deleted_bytes += [r["name"] for r in rows]
        return Response(json.dumps([{"name": r["name"], "bucket_id": "attachments"} for r in rows]))


def supabase_sweep(server: HTTPServer, pool: Database, email: str | None = SWEEPER_EMAIL) -> Any:
    base = server.url_for("").rstrip("/")
    with httpx.Client() as client:
        auth = SupabaseAuth(base, "publishable", client=client)
        session = sign_in(auth, email, SWEEPER_PASSWORD, TokenVerifier(secret=SECRET))
        return sweep(pool, SupabaseStorage(base, "publishable", client=client), session)


def test_in_production_the_sweeper_signs_in_and_deletes_through_the_storage_api(
    httpserver: HTTPServer, db: psycopg.Connection, pool: Database, tmp_path: Path
) -> None:
    fake = FakeSupabase(httpserver, pool, {"nexk_system": SWEEPER_SYSTEM})
    gone = {store(db, tmp_path, queued=True) for _ in range(2)}
    kept = store(db, tmp_path, queued=False)

    result = supabase_sweep(httpserver, pool)

    assert (result.queued, result.deleted, result.errors) == (2, 2, [])
    assert set(fake.deleted_bytes) == gone
    assert objects(db) == {kept}


def test_a_batch_storage_refuses_stays_queued_and_is_reported(
    httpserver: HTTPServer, db: psycopg.Connection, pool: Database, tmp_path: Path
) -> None:
    fake = FakeSupabase(httpserver, pool, {"nexk_system": SWEEPER_SYSTEM})
    fake.storage_down = True
    path = store(db, tmp_path, queued=True)

    result = supabase_sweep(httpserver, pool)

    assert result.deleted == 0 and result.errors and "500" in result.errors[0]
    assert objects(db) == {path}
    assert db.execute("select count(*) from private.storage_deletions").fetchone()[0] == 1


def test_an_account_without_the_sweeper_claim_is_refused_before_anything_is_deleted(
    httpserver: HTTPServer, db: psycopg.Connection, pool: Database, tmp_path: Path
) -> None:
    FakeSupabase(httpserver, pool, {"provider": "email"})
    path = store(db, tmp_path, queued=True)
    with pytest.raises(SweeperError, match="not the storage sweeper account"):
        supabase_sweep(httpserver, pool)
    assert objects(db) == {path}


def test_wrong_or_missing_credentials_say_what_to_set(httpserver: HTTPServer, pool: Database) -> None:
    FakeSupabase(httpserver, pool, {"nexk_system": SWEEPER_SYSTEM})
    with pytest.raises(SweeperError, match="could not sign in"):
        supabase_sweep(httpserver, pool, email="someone@else.test")
    with pytest.raises(SweeperError, match="NEXK_STORAGE_SWEEPER_EMAIL and NEXK_STORAGE_SWEEPER_PASSWORD"):
        supabase_sweep(httpserver, pool, email=None)


def test_the_storage_sweep_cron_needs_the_cron_secret_then_sweeps(
    portal: TestClient, db: psycopg.Connection, portal_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRON_SECRET", "cron-secret-for-tests")
    root = portal_settings.uploads_dir
    path = store(db, root, queued=True)
    assert portal.get("/api/cron/storage-sweep").status_code == 401
    assert portal.get("/api/cron/storage-sweep", headers={"Authorization": "Bearer wrong"}).status_code == 401
    done = portal.get("/api/cron/storage-sweep", headers={"Authorization": "Bearer cron-secret-for-tests"})
    assert done.status_code == 200, done.text
    assert done.json() == {"queued": 1, "deleted": 1, "errors": []}
    assert objects(db) == set() and not (root / path).exists()


def test_an_erasure_an_admin_fulfils_in_the_portal_deletes_the_persons_files_at_once(
    portal: TestClient, world: Any, db: psycopg.Connection, portal_settings: Any
) -> None:
    member = world.people["member_a"]
    ticket = world.ticket("erased", "member_a")
    portal_testkit.sign_in(portal, member)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    uploaded = portal.post(
        f"/tickets/{ticket}/messages",
        data={"body": "see attached", "intent": "public", "csrf_token": portal_testkit.csrf_of(portal)},
        files=[("files", ("mine.png", png, "application/octet-stream"))],
    )
    assert uploaded.status_code == 200, uploaded.text
    path = db.execute(
        "select storage_path from public.attachments where ticket_id = %s", (ticket,)
    ).fetchone()[0]
    assert (portal_settings.uploads_dir / path).read_bytes() == png
    request_id = db.execute("select private.dsr_open(%s, 'erasure')", (member.id,)).fetchone()[0]
    portal.cookies.clear()
    portal_testkit.sign_in(portal, world.person("boss", "admin", totp=True))

    done = portal.post(
        f"/admin/dsr/{request_id}/erase",
        data={"csrf_token": portal_testkit.csrf_of(portal), "confirmed": "yes"},
        follow_redirects=False,
    )

    assert done.status_code == 303, done.text
    assert not (portal_settings.uploads_dir / path).exists()
    assert db.execute("select count(*) from storage.objects where name = %s", (path,)).fetchone()[0] == 0


def test_the_storage_cli_shows_the_backlog_then_sweeps_it(
    db: psycopg.Connection, database: str, pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXK_DATABASE_URL", database)
    monkeypatch.setenv("NEXK_PORTAL_DATABASE_URL", pg_server.portal_url(database))
    monkeypatch.setenv("NEXK_HOME", str(tmp_path))
    monkeypatch.setenv("NEXK_SESSION_SECRET", SECRET)
    path = store(db, tmp_path / "uploads", queued=True)

    status = CliRunner().invoke(storage_cli.app, ["status"])
    assert status.exit_code == 0, status.output
    assert "erasure" in status.output and "1" in status.output

    swept = CliRunner().invoke(storage_cli.app, ["sweep"])
    assert swept.exit_code == 0, swept.output
    assert "1 of 1 queued objects deleted" in swept.output
    assert objects(db) == set() and not (tmp_path / "uploads" / path).exists()
    assert "empty" in CliRunner().invoke(storage_cli.app, ["status"]).output
