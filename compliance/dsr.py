"""Data-subject requests (GDPR Art. 15-21), from Python: the SQL functions of db/schema/0104 do the work.

This module adds what the database cannot do itself:
- the subprocessors (Art. 19 recipients) come from compliance/subprocessors.yaml and are passed in;
- the export zip holds the person's attachment bytes, fetched by a `read_bytes(storage_path)` callable
  (default: the local byte store `.nexk/uploads/<path>`; production passes a Storage API reader);
- an erasure queues the person's storage objects (db/schema/0270); the storage sweeper deletes them through
  the Storage API (app/storage_sweep.py; `nexk dsr erase` runs it at once, the portal's cron hourly);
- a request about an unknown subject is refused (P0002) and the refusal is journalled in a separate
  transaction, because the failed one rolls back (`private.dsr_log_failure`).
Every function takes the owner DSN: this is admin tooling, never a request handler.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from db.connection import connect
from db.rows import one
from nexk.errors import NexkError
from nexk.paths import state_dir

if TYPE_CHECKING:
    import psycopg
    from psycopg.types.json import Jsonb

REQUEST_TYPES = ("access", "rectification", "erasure", "restriction", "portability", "objection")
OBJECTION_PURPOSES = ("security_logging", "audience_measurement", "direct_marketing")
RECTIFIABLE_FIELDS = ("first_name", "surname", "position", "email", "phone")
_PATH = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}/[0-9a-f-]{36}$")

ReadBytes = Callable[[str], bytes | None]


class DsrError(NexkError):
    """A request that could not be carried out; the message says why and what to do."""


class UnknownSubjectError(DsrError):
    """No person matches the id or e-mail (the attempt was journalled)."""


@dataclass(frozen=True)
class Recipient:
    """Someone who received the person's data and must be told of a rectification, erasure or restriction."""

    recipient: str
    kind: str  # organization, internal, subprocessor
    reason: str


def uploads_root() -> Path:
    return state_dir() / "uploads"


def local_reader(root: Path | None = None) -> ReadBytes:
    """Reads attachment bytes from the local byte store (what app/storage.py's LocalStorage writes)."""
    base = root or uploads_root()

    def read(path: str) -> bytes | None:
        target = base / path if _PATH.match(path) else None
        return target.read_bytes() if target is not None and target.is_file() else None

    return read


def subprocessors() -> list[dict[str, str]]:
    """The Art. 19 subprocessor recipients, from the register (the one list of vendors)."""
    from nexk.subprocessors import art19_recipients

    return art19_recipients()


def _jsonb(value: object) -> Jsonb:
    # psycopg is imported when a request is handled, not with the module: `nexk dsr --help` stays fast.
    from psycopg.types.json import Jsonb

    return Jsonb(value)


@contextmanager
def _transaction(url: str, subject_ref: str | None, request_type: str) -> Iterator[psycopg.Connection]:
    """One transaction for one DSR action; an unknown subject is journalled after the rollback."""
    import psycopg

    try:
        with connect(url) as conn, conn.transaction():
            yield conn
    except psycopg.errors.NoDataFound as exc:  # SQLSTATE P0002
        message = exc.diag.message_primary or str(exc)
        with connect(url, autocommit=True) as conn:
            conn.execute("select private.dsr_log_failure(%s, %s, %s)", (subject_ref, request_type, message))
        hint = f" ({exc.diag.message_hint})" if exc.diag.message_hint else ""
        raise UnknownSubjectError(
            f"{message}{hint}. The attempt was recorded in private.dsr_events."
        ) from exc
    except (
        psycopg.errors.RaiseException,
        psycopg.errors.InvalidParameterValue,
        psycopg.errors.CheckViolation,
    ) as exc:
        hint = f" ({exc.diag.message_hint})" if exc.diag.message_hint else ""
        raise DsrError(f"{exc.diag.message_primary or exc}{hint}") from exc
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        raise DsrError(exc.diag.message_primary or str(exc)) from exc


def _subject(conn: psycopg.Connection, ref: str | uuid.UUID) -> uuid.UUID:
    return one(conn.execute("select private.dsr_find_subject(%s)", (str(ref),)).fetchone())[0]


def open_request(
    url: str,
    subject: str | uuid.UUID,
    request_type: str,
    received_at: datetime | None = None,
    notes: str | None = None,
) -> uuid.UUID:
    """Record a request; the database sets legal (1 calendar month), internal (30 days) and working due dates."""
    with _transaction(url, str(subject), request_type) as conn:
        sid = _subject(conn, subject)
        return one(
            conn.execute(
                "select private.dsr_open(%s, %s, coalesce(%s, now()), %s)",
                (sid, request_type, received_at, notes),
            ).fetchone()
        )[0]


def export(url: str, subject: str | uuid.UUID) -> dict[str, Any]:
    """Art. 15/20: the person's data as JSON (no internal notes, other people as role labels)."""
    with _transaction(url, str(subject), "access") as conn:
        sid = _subject(conn, subject)
        return one(conn.execute("select private.dsr_export(%s)", (sid,)).fetchone())[0]


def export_zip(
    url: str, subject: str | uuid.UUID, out: Path | io.BytesIO, read_bytes: ReadBytes | None = None
) -> dict[str, Any]:
    """Write `export.json` plus the person's attachments (`attachments/<id>/<file name>`) into a zip."""
    data = export(url, subject)
    reader = read_bytes or local_reader()
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in data["attachments"]:
            content = reader(item["storage_path"])
            if content is None:
                missing.append(item["id"])
                continue
            archive.writestr(f"attachments/{item['id']}/{item['file_name']}", content)
        data["attachments_missing"] = missing
        archive.writestr("export.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return data


def rectify(url: str, subject: str | uuid.UUID, changes: dict[str, str | None]) -> dict[str, Any]:
    """Art. 16: correct first_name, surname, position, email or phone."""
    with _transaction(url, str(subject), "rectification") as conn:
        sid = _subject(conn, subject)
        return one(conn.execute("select private.dsr_rectify(%s, %s)", (sid, _jsonb(changes))).fetchone())[0]


def erase(url: str, subject: str | uuid.UUID) -> dict[str, Any]:
    """Art. 17: anonymise the person everywhere; their files are queued for the storage sweeper."""
    with _transaction(url, str(subject), "erasure") as conn:
        sid = _subject(conn, subject)
        return one(
            conn.execute("select private.dsr_erase(%s, %s)", (sid, _jsonb(subprocessors()))).fetchone()
        )[0]


def restrict(url: str, subject: str | uuid.UUID, restricted: bool = True) -> dict[str, Any]:
    """Art. 18: make the person's data read-only and take it out of processing (or lift that)."""
    with _transaction(url, str(subject), "restriction") as conn:
        sid = _subject(conn, subject)
        return one(
            conn.execute(
                "select private.dsr_restrict(%s, %s, %s)", (sid, restricted, _jsonb(subprocessors()))
            ).fetchone()
        )[0]


def object_to(url: str, subject: str | uuid.UUID, purpose: str, reason: str | None = None) -> str:
    """Art. 21: record an objection to a legitimate-interest purpose; returns upheld or pending_review."""
    with _transaction(url, str(subject), "objection") as conn:
        sid = _subject(conn, subject)
        return one(conn.execute("select private.dsr_object(%s, %s, %s)", (sid, purpose, reason)).fetchone())[
            0
        ]


def complete(url: str, request_id: str | uuid.UUID, status: str = "completed") -> dict[str, Any]:
    """Close a request (completed or rejected), storing the Art. 19 recipients to inform."""
    with _transaction(url, None, "complete") as conn:
        return one(
            conn.execute(
                "select private.dsr_complete(%s, %s, %s)", (str(request_id), status, _jsonb(subprocessors()))
            ).fetchone()
        )[0]


def recipients(url: str, subject: str | uuid.UUID) -> list[Recipient]:
    """Art. 19 / 15(1)(c): the organization, agents and subprocessors that received the person's data."""
    with _transaction(url, str(subject), "recipients") as conn:
        sid = _subject(conn, subject)
        rows = conn.execute(
            "select recipient, kind, reason from private.dsr_recipients(%s, %s)",
            (sid, _jsonb(subprocessors())),
        ).fetchall()
    return [Recipient(*row) for row in rows]


def list_requests(url: str, include_closed: bool = False) -> list[dict[str, Any]]:
    """The queue, most urgent first (working due date = the earlier of legal and internal due)."""
    with connect(url) as conn:
        cur = conn.execute(
            "select r.id, r.type, r.status, r.subject_id, r.subject_email::text as subject_email, r.received_at,"
            " r.due_at, r.legal_due_at, r.internal_due_at, r.completed_at"
            " from public.dsr_requests as r"
            " where %s or r.completed_at is null"
            " order by r.due_at, r.received_at, r.id",
            (include_closed,),
        )
        assert cur.description is not None  # a SELECT always describes its columns
        names = [column.name for column in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
