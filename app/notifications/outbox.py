"""The outbox's send loop: claim due rows, send each once, record the outcome, retry with backoff.

Exactly-once, step by step (docs/notifications.md has the argument in full):
1. `claim()` takes due rows with `for update skip locked` and marks them `sending` with a lease
   (`locked_until`) in its own short transaction: two workers never take the same row.
2. The e-mail goes to Brevo outside any transaction, keyed by the row id (idempotency key, tag, custom header).
3. The outcome is recorded in a new transaction: `Accepted` -> `sent` (with Brevo's message id); `NotSent`
   -> `queued` again after a backoff (or `failed` when permanent or out of attempts); `Unknown` -> `queued`
   with `ambiguous_since` set.
4. A row that is ambiguous (an earlier attempt may have reached Brevo), or whose lease expired while
   `sending` (the worker died mid-send), is never resent blindly: the next attempt first asks Brevo's events
   log for our tag. Found -> `sent`; not found -> resend with the SAME idempotency key; lookup failed -> wait.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row

from app.notifications.brevo_client import Accepted, Email, LookupFailedError, NotSent, SendOutcome, Unknown
from app.notifications.templates import TemplateError, render_params, template_name


class MailClient(Protocol):
    def send(self, email: Email) -> SendOutcome: ...

    def find_message(self, notification_id: uuid.UUID, to_email: str, since: Any) -> str | None: ...


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12  # 30 s, 1, 2, 4 ... 60 min: about 8 hours of Brevo outage before `failed`
    lease: timedelta = timedelta(minutes=5)
    batch_size: int = 50

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """Exponential, capped, with "equal jitter" (half fixed, half random) so retries spread out."""
        delay = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return delay / 2 + delay / 2 * rng.random()


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    kind: str
    template: str
    recipient_email: str
    language: str
    params: dict[str, Any]
    attempts: int
    ambiguous_since: datetime | None


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    confirmed: int = 0  # ambiguous rows found in Brevo's log (not resent)
    retried: int = 0
    failed: int = 0


ConnFactory = Callable[[], psycopg.Connection]

_CLAIM = """
with due as (
    select n.id
    from private.notifications as n
    where
        (n.status = 'queued' and n.next_attempt_at <= %(now)s)
        or (n.status = 'sending' and n.locked_until <= %(now)s)
    order by n.next_attempt_at, n.created_at
    limit %(limit)s
    for update skip locked
)
update private.notifications as n
set
    status = 'sending',
    attempts = n.attempts + 1,
    locked_until = %(lease_end)s,
    last_attempt_at = %(now)s,
    -- a lease that expired while sending means the worker died mid-send: the e-mail may be out
    ambiguous_since = case
        when n.status = 'sending' then coalesce(n.ambiguous_since, n.last_attempt_at, %(now)s)
        else n.ambiguous_since
    end
from due
where n.id = due.id
returning n.id, n.kind, n.template_key as template, n.recipient_email::text as recipient_email, n.language, n.params,
    n.attempts, n.ambiguous_since
"""


def claim(conn: psycopg.Connection, now: datetime, policy: RetryPolicy) -> list[Claimed]:
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _CLAIM, {"now": now, "limit": policy.batch_size, "lease_end": now + policy.lease}
        ).fetchall()
    return [Claimed(**row) for row in rows]


def mark_sent(conn: psycopg.Connection, row: Claimed, message_id: str, now: datetime) -> None:
    """Record Brevo's acceptance. Unconditional on ownership: knowing an e-mail went out is always right."""
    with conn.transaction():
        conn.execute(
            """update private.notifications as n
               set status = case when n.status in ('queued', 'sending', 'failed') then 'sent' else n.status end,
                   brevo_message_id = coalesce(n.brevo_message_id, %(message_id)s),
                   sent_at = coalesce(n.sent_at, %(now)s), locked_until = null, last_error = null
               where n.id = %(id)s""",
            {"id": row.id, "message_id": message_id, "now": now},
        )


def reschedule(
    conn: psycopg.Connection,
    row: Claimed,
    now: datetime,
    *,
    error: str,
    delay: timedelta,
    ambiguous: bool,
    final: bool,
) -> None:
    """Back to `queued` after `delay` (or `failed` when `final`), only if this worker still owns the row."""
    with conn.transaction():
        conn.execute(
            """update private.notifications as n
               set status = case when %(final)s then 'failed' else 'queued' end,
                   next_attempt_at = %(next)s, locked_until = null, last_error = %(error)s,
                   ambiguous_since = case
                       when %(ambiguous)s then coalesce(n.ambiguous_since, %(attempted)s)
                       else n.ambiguous_since
                   end
               where n.id = %(id)s and n.status = 'sending' and n.attempts = %(attempts)s""",
            {
                "final": final,
                "next": now + delay,
                "error": error[:1000],
                "ambiguous": ambiguous,
                "attempted": now,
                "id": row.id,
                "attempts": row.attempts,
            },
        )


def build_email(row: Claimed, template_ids: dict[str, int], portal_url: str) -> Email:
    name = template_name(row.template, row.language)
    return Email(
        notification_id=row.id,
        template=name,
        template_id=template_ids.get(name),
        to_email=row.recipient_email,
        to_name=row.params.get("first_name"),
        params=render_params(row.template, row.language, row.params, portal_url),
        kind=row.kind,
    )


@dataclass
class Outbox:
    """Everything one pass needs: where the DB is, how to send, and the rules."""

    conn_factory: ConnFactory
    client: MailClient
    template_ids: dict[str, int]
    portal_url: str
    policy: RetryPolicy = RetryPolicy()
    rng: random.Random | None = None
    require_template_ids: bool = True

    def _retry(self, conn: psycopg.Connection, row: Claimed, now: datetime, **kw: Any) -> str:
        out_of_attempts = row.attempts >= self.policy.max_attempts
        final = kw.pop("permanent", False) or out_of_attempts
        delay = self.policy.backoff(row.attempts, self.rng or random.Random())  # noqa: S311 (jitter, not secrets)
        retry_after = kw.pop("retry_after", None)
        if retry_after is not None:
            delay = max(delay, retry_after)
        reschedule(conn, row, now, delay=delay, final=final, **kw)
        return "failed" if final else "retried"

    def process(self, conn: psycopg.Connection, row: Claimed, now: datetime) -> str:
        """Send one claimed row; returns what happened: sent, confirmed, retried or failed."""
        if row.ambiguous_since is not None:
            try:
                found = self.client.find_message(row.id, row.recipient_email, row.ambiguous_since.date())
            except LookupFailedError as exc:
                return self._retry(
                    conn, row, now, error=f"checking Brevo before a resend: {exc}", ambiguous=True
                )
            if found is not None:
                mark_sent(conn, row, found, now)
                return "confirmed"
        try:
            email = build_email(row, self.template_ids, self.portal_url)
            if self.require_template_ids and email.template_id is None:
                raise TemplateError(f"no Brevo template id for {email.template} in BREVO_TEMPLATE_IDS")
        except TemplateError as exc:
            return self._retry(conn, row, now, error=str(exc), ambiguous=False)
        outcome = self.client.send(email)
        if isinstance(outcome, Accepted):
            mark_sent(conn, row, outcome.message_id, now)
            return "sent"
        if isinstance(outcome, NotSent):
            return self._retry(
                conn,
                row,
                now,
                error=outcome.error,
                ambiguous=False,
                permanent=not outcome.retryable,
                retry_after=outcome.retry_after,
            )
        assert isinstance(outcome, Unknown)
        return self._retry(conn, row, now, error=outcome.error, ambiguous=True)

    def run_once(self, now: datetime) -> RunStats:
        stats = RunStats()
        with self.conn_factory() as conn:
            rows = claim(conn, now, self.policy)
            stats.claimed = len(rows)
            for row in rows:
                result = self.process(conn, row, now)
                setattr(stats, result, getattr(stats, result) + 1)
        return stats
