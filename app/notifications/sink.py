"""Local development: a mail client that writes each e-mail as JSON under `.nexk/mail-sink/` instead of sending.

It honours the same contract as BrevoClient (one file per outbox id, so a retried send overwrites nothing and
is found by `find_message`), which makes the worker's exactly-once rules visible locally too. The portal's
mail sink page calls `list_sent()`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.notifications.brevo_client import Accepted, Email, SendOutcome

DEFAULT_SINK_DIR = Path(".nexk/mail-sink")


@dataclass(frozen=True)
class SinkedEmail:
    notification_id: str
    message_id: str
    template: str
    kind: str
    to_email: str
    params: dict[str, Any]
    stored_at: datetime


@dataclass
class SinkClient:
    directory: Path = DEFAULT_SINK_DIR

    def _path(self, notification_id: uuid.UUID | str) -> Path:
        return self.directory / f"{notification_id}.json"

    def send(self, email: Email) -> SendOutcome:
        path = self._path(email.notification_id)
        message_id = f"<sink-{email.notification_id}@mail-sink.local>"
        if path.exists():  # the same outbox row again: already "sent", exactly like Brevo's idempotency key
            return Accepted(json.loads(path.read_text("utf-8"))["message_id"])
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {
            "notification_id": str(email.notification_id),
            "message_id": message_id,
            "template": email.template,
            "kind": email.kind,
            "to_email": email.to_email,
            "params": email.params,
            "stored_at": datetime.now(UTC).isoformat(),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), "utf-8")
        tmp.replace(path)
        return Accepted(message_id)

    def find_message(self, notification_id: uuid.UUID, to_email: str, since: date) -> str | None:
        path = self._path(notification_id)
        return json.loads(path.read_text("utf-8"))["message_id"] if path.exists() else None

    def close(self) -> None:
        return None


def list_sent(directory: Path = DEFAULT_SINK_DIR, limit: int = 200) -> list[SinkedEmail]:
    """What would have been sent, newest first (for the portal's local mail sink page)."""
    if not directory.is_dir():
        return []
    emails = []
    for path in directory.glob("*.json"):
        record = json.loads(path.read_text("utf-8"))
        emails.append(
            SinkedEmail(
                notification_id=record["notification_id"],
                message_id=record["message_id"],
                template=record["template"],
                kind=record["kind"],
                to_email=record["to_email"],
                params=record["params"],
                stored_at=datetime.fromisoformat(record["stored_at"]),
            )
        )
    emails.sort(key=lambda e: e.stored_at, reverse=True)
    return emails[:limit]
