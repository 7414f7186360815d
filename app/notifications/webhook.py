"""Brevo's transactional webhook (infra provisions it at https://<domain>/api/webhooks/brevo with a bearer
token, BREVO_WEBHOOK_TOKEN): authenticate, parse, apply each event to the outbox idempotently.

The portal's route only does HTTP: it passes the Authorization header and the JSON body to `handle()` with a
connection of role `nexk_notifier` (`connect_notifier(notifier_dsn(local_fallback=False))`, i.e.
NEXK_WORKER_DATABASE_URL), never with service_role or any role that bypasses row level security; the
function it calls, private.record_delivery_event, is granted to nexk_notifier. Answer 401 on WebhookAuthError.
Replays and out-of-order events are harmless: the database never downgrades a status.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from nexk.routes import BREVO_WEBHOOK_PATH

WEBHOOK_PATH = BREVO_WEBHOOK_PATH
CUSTOM_PREFIX = "nexk-notification:"


class WebhookAuthError(Exception):
    """The request does not carry the bearer token infra gave Brevo."""


@dataclass(frozen=True)
class DeliveryEvent:
    event: str
    notification_id: uuid.UUID | None
    message_id: str | None
    at: datetime


def verify(authorization: str | None, expected_token: str) -> None:
    """Constant-time check of `Authorization: Bearer <token>`; raises WebhookAuthError otherwise."""
    if not expected_token:
        raise WebhookAuthError("BREVO_WEBHOOK_TOKEN is not configured: refusing every webhook call")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected_token.encode()):
        raise WebhookAuthError("missing or wrong bearer token")


def _notification_id(item: dict[str, Any]) -> uuid.UUID | None:
    custom = str(item.get("X-Mailin-custom") or item.get("x-mailin-custom") or "")
    if custom.startswith(CUSTOM_PREFIX):
        try:
            return uuid.UUID(custom.removeprefix(CUSTOM_PREFIX))
        except ValueError:
            return None
    return None


def _at(item: dict[str, Any]) -> datetime:
    for key, scale in (("ts_epoch", 1000), ("ts_event", 1), ("ts", 1)):
        value = item.get(key)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / scale, UTC)
    return datetime.now(UTC)


def parse(body: Any) -> list[DeliveryEvent]:
    """One event, or a batch (a list) when the webhook is batched; items without an event are skipped."""
    items = body if isinstance(body, list) else [body]
    events = []
    for item in items:
        if not isinstance(item, dict) or not item.get("event"):
            continue
        message_id = item.get("message-id") or item.get("messageId")
        events.append(DeliveryEvent(str(item["event"]), _notification_id(item), message_id, _at(item)))
    return events


def apply(conn: psycopg.Connection, events: list[DeliveryEvent]) -> int:
    """Record the events; returns how many matched an outbox row (unknown ones are ignored, not errors)."""
    matched = 0
    with conn.transaction():
        for event in events:
            row = conn.execute(
                "select private.record_delivery_event(%s, %s, %s, %s)",
                (event.notification_id, event.message_id, event.event, event.at),
            ).fetchone()
            matched += int(bool(row and row[0]))
    return matched


def handle(conn: psycopg.Connection, authorization: str | None, body: Any, expected_token: str) -> int:
    """Verify, parse and apply: the whole webhook for the portal's route (401 on WebhookAuthError)."""
    verify(authorization, expected_token)
    return apply(conn, parse(body))
