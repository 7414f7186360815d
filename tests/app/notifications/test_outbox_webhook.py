"""Brevo's delivery webhook: bearer token, idempotent status updates, no downgrades."""

from __future__ import annotations

import json

import psycopg
import pytest
from portal_testkit import World

from app.notifications.webhook import WebhookAuthError, handle, parse, verify

TOKEN = "t" * 48


def one_queued(db: psycopg.Connection, world: World) -> str:
    db.execute("delete from private.notifications")
    db.execute(
        "select private.enqueue_notification('w1', 'agent_reply', 'agent_reply', %s, %s, 'ticket_replies', '{}')",
        (world.people["member_a"].id, world.tickets["a1"]),
    )
    return str(db.execute("select id from private.notifications").fetchone()[0])


def event(kind: str, notification: str, message_id: str = "<m1@relay>", ts: int = 1_790_000_000) -> dict:
    return {
        "event": kind,
        "message-id": message_id,
        "X-Mailin-custom": f"nexk-notification:{notification}",
        "ts_event": ts,
    }


def test_the_webhook_requires_the_bearer_token() -> None:
    verify(f"Bearer {TOKEN}", TOKEN)
    for header in (None, "", TOKEN, f"Bearer {TOKEN}x", f"Basic {TOKEN}"):
        with pytest.raises(WebhookAuthError):
            verify(header, TOKEN)
    with pytest.raises(WebhookAuthError, match="not configured"):
        verify(f"Bearer {TOKEN}", "")


def test_delivery_events_update_the_row_idempotently_and_never_downgrade(
    db: psycopg.Connection, world: World
) -> None:
    notification = one_queued(db, world)
    # Brevo's `request` may arrive before the worker recorded the send: found by the custom header.
    assert handle(db, f"Bearer {TOKEN}", event("request", notification), TOKEN) == 1
    assert db.execute("select status, brevo_message_id from private.notifications").fetchone() == (
        "sent",
        "<m1@relay>",
    )
    batch = [
        event("delivered", notification),
        event("delivered", notification),
        event("softBounce", notification),
    ]
    assert handle(db, f"Bearer {TOKEN}", batch, TOKEN) == 3
    status, delivered_at, last_event = db.execute(
        "select status, delivered_at, last_event from private.notifications"
    ).fetchone()
    assert (status, last_event) == ("delivered", "softBounce")
    assert delivered_at is not None
    handle(db, f"Bearer {TOKEN}", event("hardBounce", notification), TOKEN)
    assert db.execute("select status from private.notifications").fetchone() == ("delivered",)


def test_a_hard_bounce_fails_the_notification_and_unknown_messages_are_ignored(
    db: psycopg.Connection, world: World
) -> None:
    notification = one_queued(db, world)
    db.execute("update private.notifications set status = 'sent', brevo_message_id = '<m2@relay>'")
    bounce = {"event": "hardBounce", "message-id": "<m2@relay>", "ts_epoch": 1_790_000_000_000}
    assert handle(db, f"Bearer {TOKEN}", bounce, TOKEN) == 1
    assert db.execute("select status, last_error from private.notifications").fetchone() == (
        "failed",
        "brevo: hardBounce",
    )
    stranger = {"event": "delivered", "message-id": "<nobody@relay>"}
    assert handle(db, f"Bearer {TOKEN}", stranger, TOKEN) == 0
    assert parse(json.loads('[{"no": "event"}]')) == []
    assert notification
