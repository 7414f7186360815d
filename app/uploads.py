"""Attachments on the way in: read and check every file before anything is written, then store the bytes
after the rows are committed (see app.storage for why that order)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import UploadFile
from psycopg import Connection

from app.filetypes import RejectedFile, check_upload
from app.i18n import lazy_gettext
from app.queries import attachments as attachment_rows
from app.storage import AttachmentStorage

MAX_FILES = 10


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    data: bytes
    sha256: str


def present(files: list[UploadFile] | None) -> list[UploadFile]:
    """The files actually chosen (an empty file input still posts one nameless part)."""
    return [f for f in files or [] if f.filename]


async def check_files(files: list[UploadFile] | None, max_bytes: int) -> list[CheckedFile]:
    chosen = present(files)
    if len(chosen) > MAX_FILES:
        raise RejectedFile(lazy_gettext("Attach at most {count} files at a time.", count=MAX_FILES))
    checked = []
    for upload in chosen:
        data = await upload.read(max_bytes + 1)
        name, kind = check_upload(upload.filename or "", data, max_bytes)
        checked.append(CheckedFile(name, kind.content_type, data, hashlib.sha256(data).hexdigest()))
    return checked


def insert_rows(
    conn: Connection[Any],
    files: list[CheckedFile],
    *,
    ticket: dict[str, Any],
    message_id: uuid.UUID | None,
    internal: bool,
) -> list[tuple[dict[str, Any], CheckedFile]]:
    return [
        (
            attachment_rows.insert_attachment(
                conn,
                ticket_id=ticket["id"],
                organization_id=ticket["organization_id"],
                message_id=message_id,
                internal=internal,
                file_name=f.name,
                content_type=f.content_type,
                size_bytes=len(f.data),
                sha256=f.sha256,
            ),
            f,
        )
        for f in files
    ]


def store_bytes(
    storage: AttachmentStorage,
    claims: dict[str, Any],
    token: str,
    rows: list[tuple[dict[str, Any], CheckedFile]],
) -> None:
    for row, f in rows:
        storage.save(claims, token, row["storage_path"], f.data, f.content_type, f.sha256)
