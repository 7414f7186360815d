"""Fault injection: the outbox against a fake Brevo on loopback that fails, times out, crashes and recovers.

The proof: across any schedule of faults, every queued notification ends `sent` and the fake Brevo accepted
each outbox id exactly once (zero lost, zero duplicates), with Brevo's own idempotency switched OFF.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from fake_brevo import SEND_FAULTS, FakeBrevo, FaultTransport, WorkerCrashError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_testkit import World
from pytest_httpserver import HTTPServer

from app.notifications.brevo_client import Accepted, BrevoClient, Email, SendOutcome
from app.notifications.outbox import RetryPolicy
from app.notifications.templates import KIND_TEMPLATE, template_name
from app.notifications.worker import run_once

POLICY = RetryPolicy(
    base=timedelta(seconds=30), cap=timedelta(minutes=10), max_attempts=40, lease=timedelta(minutes=5)
)
TEMPLATE_IDS = {
    template_name(t, lang): i
    for i, (t, lang) in enumerate(
        (t, lang) for t in sorted(set(KIND_TEMPLATE.values())) for lang in ("en", "fr", "nl")
    )
}


@pytest.fixture
def fake_brevo() -> Iterator[tuple[FakeBrevo, HTTPServer]]:
    fake = FakeBrevo()
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.expect_request("/v3/smtp/email", method="POST").respond_with_handler(fake.send_handler)
    server.expect_request("/v3/smtp/statistics/events", method="GET").respond_with_handler(
        fake.events_handler
    )
    server.start()
    yield fake, server
    fake.release.set()
    server.clear()
    if server.is_running():
        server.stop()


class CrashingClient:
    """The real client; after a `crash_after_accept` send it raises as if the worker process died."""

    def __init__(self, client: BrevoClient, transport: FaultTransport) -> None:
        self.client, self.transport = client, transport

    def send(self, email: Email) -> SendOutcome:
        outcome = self.client.send(email)
        if isinstance(outcome, Accepted) and self.transport.crash_next:
            self.transport.crash_next = False
            raise WorkerCrashError(str(email.notification_id))
        return outcome

    def find_message(self, notification_id: uuid.UUID, to_email: str, since: object) -> str | None:
        return self.client.find_message(notification_id, to_email, since)  # type: ignore[arg-type]


def enqueue(db: psycopg.Connection, world: World, count: int) -> list[uuid.UUID]:
    db.execute("delete from private.notifications")
    people = [world.people["member_a"].id, world.people["admin_a"].id, world.people["agent"].id]
    for i in range(count):
        db.execute(
            "select private.enqueue_notification(%s, 'agent_reply', 'agent_reply', %s, %s, 'ticket_replies', %s)",
            (
                f"test:{uuid.uuid4()}",
                people[i % len(people)],
                world.tickets["a1"],
                json.dumps(
                    {"ticket_id": str(world.tickets["a1"]), "subject": "Printer", "agent_name": "Ann"}
                ),
            ),
        )
    return [r[0] for r in db.execute("select id from private.notifications where status = 'queued'")]


def drive(database: str, client: object, start: datetime, seed: int, max_passes: int = 80) -> datetime:
    """Run passes with a clock that jumps past every backoff and lease; a crash ends a pass like a dead process."""
    now = start
    rng = random.Random(seed)
    for _ in range(max_passes):
        with contextlib.suppress(WorkerCrashError):  # a crash ends the pass like a dead process
            run_once(
                lambda: psycopg.connect(database, autocommit=True),
                client,  # type: ignore[arg-type]
                now,
                template_ids=TEMPLATE_IDS,
                portal_url="https://portal.example.test",
                policy=POLICY,
                rng=rng,
            )
        with psycopg.connect(database) as conn:
            left = conn.execute(
                "select count(*) from private.notifications where status in ('queued', 'sending')"
            ).fetchone()[0]
        if not left:
            return now
        now += POLICY.cap + POLICY.lease + timedelta(seconds=1)
    raise AssertionError("the outbox did not drain")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    count=st.integers(1, 5),
    send_faults=st.lists(st.sampled_from(SEND_FAULTS), max_size=14),
    lookup_faults=st.lists(st.sampled_from(["ok", "http500"]), max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_notification_is_sent_exactly_once_whatever_brevo_does(
    db: psycopg.Connection,
    database: str,
    world: World,
    fake_brevo: tuple[FakeBrevo, HTTPServer],
    count: int,
    send_faults: list[str],
    lookup_faults: list[str],
    seed: int,
) -> None:
    """Invariant: after any fault schedule (5xx before/after acceptance, 429, timeouts after acceptance,
    refused connections, a worker crash between acceptance and bookkeeping) followed by recovery, every
    outbox row is `sent` with Brevo's message id, and Brevo accepted each row exactly once."""
    fake, server = fake_brevo
    fake.reset(send_faults, lookup_faults)
    ids = enqueue(db, world, count)
    transport = FaultTransport(fake)
    client = BrevoClient(
        api_key="test-key",
        base_url=server.url_for("/v3"),
        timeout=httpx.Timeout(2.0, read=0.1),
        transport=transport,
    )
    try:
        drive(database, CrashingClient(client, transport), datetime.now(UTC), seed)
    finally:
        client.close()
    rows = db.execute("select id, status, brevo_message_id from private.notifications").fetchall()
    assert {r[1] for r in rows} == {"sent"}
    assert all(r[2] for r in rows)
    assert {uuid.UUID(k): v for k, v in fake.accepted.items()} == dict.fromkeys(ids, 1)
    # What Brevo accepted is exactly what we recorded.
    assert {r[2] for r in rows} == set(fake.tags.values())


def test_a_timeout_after_acceptance_is_checked_in_brevos_log_and_never_resent(
    db: psycopg.Connection, database: str, world: World, fake_brevo: tuple[FakeBrevo, HTTPServer]
) -> None:
    fake, server = fake_brevo
    fake.reset(["timeout_after_accept"], [])
    [notification] = enqueue(db, world, 1)
    transport = FaultTransport(fake)
    client = BrevoClient(
        api_key="test-key",
        base_url=server.url_for("/v3"),
        timeout=httpx.Timeout(2.0, read=0.1),
        transport=transport,
    )
    now = datetime.now(UTC)
    kwargs = {
        "template_ids": TEMPLATE_IDS,
        "portal_url": "https://p.example.test",
        "policy": POLICY,
        "rng": random.Random(1),
    }
    first = run_once(lambda: psycopg.connect(database, autocommit=True), client, now, **kwargs)
    assert first.retried == 1
    status, ambiguous, error = db.execute(
        "select status, ambiguous_since is not null, last_error from private.notifications"
    ).fetchone()
    assert (status, ambiguous) == ("queued", True)
    assert "no answer from Brevo" in error
    second = run_once(
        lambda: psycopg.connect(database, autocommit=True), client, now + timedelta(hours=1), **kwargs
    )
    assert second.confirmed == 1 and second.sent == 0
    assert fake.accepted == {str(notification): 1}
    assert fake.requests == {str(notification): 1}
    client.close()


def test_a_429_waits_at_least_retry_after_and_a_400_fails_without_retrying(
    db: psycopg.Connection, database: str, world: World, fake_brevo: tuple[FakeBrevo, HTTPServer]
) -> None:
    fake, server = fake_brevo
    fake.reset(["http429"], [])
    enqueue(db, world, 1)
    client = BrevoClient(api_key="test-key", base_url=server.url_for("/v3"), transport=FaultTransport(fake))
    now = datetime.now(UTC)
    run_once(
        lambda: psycopg.connect(database, autocommit=True),
        client,
        now,
        template_ids=TEMPLATE_IDS,
        portal_url="https://p.example.test",
        policy=POLICY,
        rng=random.Random(2),
    )
    next_at, ambiguous = db.execute(
        "select next_attempt_at, ambiguous_since from private.notifications"
    ).fetchone()
    assert next_at >= now + timedelta(seconds=120)
    assert ambiguous is None
    # A template id Brevo does not know is a 400: permanent, so `failed` at once.
    server.clear()
    server.expect_request("/v3/smtp/email", method="POST").respond_with_json(
        {"code": "invalid_parameter", "message": "Template not found"}, status=400
    )
    db.execute("update private.notifications set next_attempt_at = %s", (now,))
    run_once(
        lambda: psycopg.connect(database, autocommit=True),
        client,
        now,
        template_ids=TEMPLATE_IDS,
        portal_url="https://p.example.test",
        policy=POLICY,
        rng=random.Random(2),
    )
    status, error = db.execute("select status, last_error from private.notifications").fetchone()
    assert status == "failed"
    assert "Template not found" in error
    client.close()
