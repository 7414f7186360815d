"""Attachment bytes: Supabase Storage in production, a local folder in dev; both behind storage.objects RLS.

Objects live in the private bucket `attachments` under `<organization_id>/<ticket_id>/<attachment id>` (the
attachment row's generated `storage_path`). Every read and write is made as the signed-in user:
- production: Storage's REST API with the user's access token (Storage applies the storage.objects policies);
- dev: the same policies, by writing/reading the storage.objects row through the RLS transaction, and the
  bytes in `.nexk/uploads/<path>`.
The attachment row is committed before the bytes are stored, because Storage checks the row from its own
connection; a failed upload therefore leaves a row whose download answers "file unavailable".
Deletion is the storage sweeper's alone (app/storage_sweep.py): `delete()` removes queued objects, row and
bytes, as Storage's API does, under the sweeper's identity (db/schema/0270, db/policies/storage_objects.sql).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Protocol

import httpx

from app.database import Database
from app.tls import https_client

BUCKET = "attachments"
_PATH = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}/[0-9a-f-]{36}$")


class StorageUnavailable(Exception):
    """The bytes could not be stored or fetched (or the policies refused them)."""


class AttachmentStorage(Protocol):
    def save(
        self, claims: dict[str, Any], token: str, path: str, data: bytes, content_type: str, sha256: str
    ) -> None: ...

    def load(self, claims: dict[str, Any], token: str, path: str) -> bytes: ...

    def delete(self, claims: dict[str, Any], token: str, paths: list[str]) -> list[str]:
        """Delete objects (rows and bytes) as the caller; returns the paths the policies let it delete."""
        ...


def _check_path(path: str) -> str:
    if not _PATH.match(path):
        raise StorageUnavailable(f"not an attachment path: {path!r}")
    return path


class LocalStorage:
    def __init__(self, root: Path, database: Database) -> None:
        self._root = root
        self._db = database

    def _file(self, path: str) -> Path:
        return self._root / _check_path(path)

    def save(
        self, claims: dict[str, Any], token: str, path: str, data: bytes, content_type: str, sha256: str
    ) -> None:
        target = self._file(path)
        metadata = json.dumps({"size": len(data), "mimetype": content_type, "sha256": sha256})
        with self._db.rls_transaction(claims) as conn:
            # As Supabase Storage does: the object row is inserted as the user, so the INSERT policy decides.
            conn.execute(
                "insert into storage.objects (bucket_id, name, owner_id, metadata) values (%s, %s, %s, %s)",
                (BUCKET, path, claims.get("sub"), metadata),
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(target)

    def load(self, claims: dict[str, Any], token: str, path: str) -> bytes:
        with self._db.rls_transaction(claims, read_only=True) as conn:
            visible = conn.execute(
                "select 1 from storage.objects as o where o.bucket_id = %s and o.name = %s", (BUCKET, path)
            ).fetchone()
        target = self._file(path)
        if visible is None or not target.is_file():
            raise StorageUnavailable(path)
        return target.read_bytes()

    def delete(self, claims: dict[str, Any], token: str, paths: list[str]) -> list[str]:
        for path in paths:
            _check_path(path)
        with self._db.rls_transaction(claims) as conn:
            # As Supabase Storage does: the flag its guard trigger wants, then a DELETE the policies filter.
            conn.execute("select set_config('storage.allow_delete_query', 'true', true)")
            deleted = [
                row["name"]
                for row in conn.execute(
                    "delete from storage.objects as o where o.bucket_id = %s and o.name = any(%s) returning o.name",
                    (BUCKET, paths),
                ).fetchall()
            ]
        # Bytes after the rows, as Storage does: a crash in between leaves a file nobody can reach, never a
        # row whose file is missing.
        for path in deleted:
            self._file(path).unlink(missing_ok=True)
        return deleted


class SupabaseStorage:
    def __init__(self, supabase_url: str, publishable_key: str, client: httpx.Client | None = None) -> None:
        self._base = f"{supabase_url.rstrip('/')}/storage/v1/object"
        self._client = client or https_client(timeout=30.0)
        self._key = publishable_key

    def _headers(self, token: str, **extra: str) -> dict[str, str]:
        return {"apikey": self._key, "Authorization": f"Bearer {token}", **extra}

    def save(
        self, claims: dict[str, Any], token: str, path: str, data: bytes, content_type: str, sha256: str
    ) -> None:
        response = self._client.post(
            f"{self._base}/{BUCKET}/{_check_path(path)}",
            content=data,
            headers=self._headers(token, **{"Content-Type": content_type, "x-upsert": "false"}),
        )
        if response.status_code >= 400:
            raise StorageUnavailable(f"upload refused ({response.status_code})")

    def load(self, claims: dict[str, Any], token: str, path: str) -> bytes:
        response = self._client.get(
            f"{self._base}/authenticated/{BUCKET}/{_check_path(path)}", headers=self._headers(token)
        )
        if response.status_code >= 400:
            raise StorageUnavailable(f"download refused ({response.status_code})")
        return response.content

    def delete(self, claims: dict[str, Any], token: str, paths: list[str]) -> list[str]:
        # DELETE /object/{bucket} with {"prefixes": [...]}: Storage deletes the rows the policies allow, then
        # the bytes, and answers with the objects it removed (at most 1000 per call).
        try:
            response = self._client.request(
                "DELETE",
                f"{self._base}/{BUCKET}",
                json={"prefixes": [_check_path(path) for path in paths]},
                headers=self._headers(token),
            )
        except httpx.HTTPError as exc:
            raise StorageUnavailable(f"Storage did not answer the delete: {exc}") from None
        if response.status_code >= 400:
            raise StorageUnavailable(f"delete refused ({response.status_code}): {response.text[:200]}")
        return [item["name"] for item in response.json()]
