"""The notifications worker: send what the outbox holds, and enqueue SLA alerts.

It runs server-side as the database role `nexk_notifier` (db/schema/0203; in production the Vercel Cron route
connects with NEXK_WORKER_DATABASE_URL, see app/notifications/cron.py). That role bypasses no row level
security and reads no API table: it claims and marks private.notifications rows, and everything the SLA scan
needs comes from the security definer functions `private.notifier_*`. Locally the owner DSN works the same.
`run_once()` is one pass with an injected clock (tests drive it without sleeping); `run_forever()` is the
loop behind `nexk notifications worker`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.domain.calendar import BusinessCalendar, CalendarError
from app.domain.sla import DEFAULT_WARNING_MINUTES, SlaState
from app.domain.sla_repository import TicketSla, slas_from_rows
from app.notifications.outbox import ConnFactory, MailClient, Outbox, RetryPolicy, RunStats
from app.notifications.templates import KIND_TEMPLATE
from app.queries.rows import one

log = logging.getLogger("nexk.notifications")


def run_once(
    conn_factory: ConnFactory,
    client: MailClient,
    now: datetime,
    *,
    template_ids: dict[str, int],
    portal_url: str,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    require_template_ids: bool = True,
) -> RunStats:
    """One pass over the due outbox rows at `now`."""
    outbox = Outbox(
        conn_factory,
        client,
        template_ids,
        portal_url,
        policy or RetryPolicy(),
        rng,
        require_template_ids,
    )
    return outbox.run_once(now)


@dataclass(frozen=True)
class ScanResult:
    tickets: int
    alerts: int


def _calendar(conn: psycopg.Connection, calendar_id: uuid.UUID) -> BusinessCalendar:
    """A business calendar from private.notifier_business_calendar (the worker reads no API table)."""
    row = conn.execute("select private.notifier_business_calendar(%s)", (calendar_id,)).fetchone()
    if row is None or row[0] is None:
        raise CalendarError(f"business calendar {calendar_id} does not exist")
    data: dict[str, Any] = row[0]
    hours: dict[int, list[tuple[time, time]]] = {}
    for interval in data["hours"]:
        hours.setdefault(int(interval["day_of_week"]), []).append(
            (time.fromisoformat(interval["opens_at"]), time.fromisoformat(interval["closes_at"]))
        )
    if not hours:
        raise CalendarError(
            f"business calendar {data['name']!r} has no opening hours: add public.business_hours rows for it"
        )
    return BusinessCalendar(
        hours={day: tuple(intervals) for day, intervals in hours.items()},
        time_zone=data["time_zone"],
        closed_days=frozenset(date.fromisoformat(day) for day in data["closed_days"]),
    )


def open_ticket_slas(
    conn: psycopg.Connection, now: datetime, warning_minutes: int = DEFAULT_WARNING_MINUTES
) -> tuple[dict[uuid.UUID, TicketSla], dict[uuid.UUID, str]]:
    """The SLA of every open ticket (as app.domain.sla_repository.ticket_slas computes it) and its subject.

    The rows come from private.notifier_open_tickets(), the same columns the portal's repository reads under
    RLS; tickets whose plan has no policy for their priority have no clock and are left out.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("select * from private.notifier_open_tickets()").fetchall()
    slas = slas_from_rows(rows, lambda calendar_id: _calendar(conn, calendar_id), now, warning_minutes)
    subjects = {row["id"]: row["subject"] for row in rows if row["id"] in slas}
    return slas, subjects


def sla_scan(conn: psycopg.Connection, now: datetime, warning_minutes: int = 15) -> ScanResult:
    """Enqueue `sla_warning` (template sla_at_risk) / `sla_breach` (template sla_breach) for every open target
    at risk, once per ticket, target and due time.

    Recipients: the assignee (or, while unassigned, the agents of the organization) and every admin, each
    subject to their `notify_sla_alerts` preference and GDPR state (private.enqueue_notification).
    """
    alerts = 0
    slas, subjects = open_ticket_slas(conn, now, warning_minutes)
    for sla in slas.values():
        for clock in sla.report.open_clocks:
            if clock.state not in (SlaState.WARNING, SlaState.BREACHED) or clock.due_at is None:
                continue
            kind = "sla_warning" if clock.state is SlaState.WARNING else "sla_breach"
            event_key = (
                f"sla:{sla.ticket_id}:{clock.target}:{kind}:{clock.due_at.astimezone(UTC).isoformat()}"
            )
            params = {
                "ticket_id": str(sla.ticket_id),
                "subject": subjects.get(sla.ticket_id),
                "priority": sla.priority,
                "due_at": clock.due_at.isoformat(),
                "target": str(clock.target),
            }
            recipients = [
                r[0]
                for r in conn.execute(
                    "select private.notifier_sla_recipients(%s, %s)", (sla.assignee_id, sla.organization_id)
                )
            ]
            with conn.transaction():
                for recipient in recipients:
                    added = one(
                        conn.execute(
                            "select private.enqueue_notification(%s, %s, %s, %s, %s, 'sla_alerts', %s)",
                            (
                                event_key,
                                kind,
                                KIND_TEMPLATE[kind],
                                recipient,
                                sla.ticket_id,
                                json.dumps(params),
                            ),
                        ).fetchone()
                    )[0]
                    alerts += int(bool(added))
    return ScanResult(tickets=len(slas), alerts=alerts)


def run_forever(
    conn_factory: ConnFactory,
    client: MailClient,
    *,
    template_ids: dict[str, int],
    portal_url: str,
    poll: timedelta = timedelta(seconds=5),
    scan_every: timedelta = timedelta(minutes=1),
    stop: threading.Event | None = None,
    require_template_ids: bool = True,
) -> None:
    """Send continuously; scan SLAs every `scan_every`. Stops when `stop` is set (Ctrl-C in the CLI)."""
    stop = stop or threading.Event()
    last_scan: datetime | None = None
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 (jitter, not secrets)
    while not stop.is_set():
        now = datetime.now(UTC)
        if last_scan is None or now - last_scan >= scan_every:
            with conn_factory() as conn:
                result = sla_scan(conn, now)
            if result.alerts:
                log.info(
                    "SLA scan: %d alert(s) enqueued over %d open ticket(s)", result.alerts, result.tickets
                )
            last_scan = now
        stats = run_once(
            conn_factory,
            client,
            now,
            template_ids=template_ids,
            portal_url=portal_url,
            rng=rng,
            require_template_ids=require_template_ids,
        )
        if stats.claimed:
            log.info("outbox: %s", stats)
        stop.wait(poll.total_seconds() if not stats.claimed else 0)
