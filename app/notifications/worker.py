"""The notifications worker: send what the outbox holds, and enqueue SLA alerts.

It runs server-side with a privileged connection (the owner DSN, or `authenticator` switched to
service_role), like GoTrue is a separate service: it reads every ticket's SLA and writes private.notifications.
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
from datetime import UTC, datetime, timedelta

import psycopg

from app.domain.sla import SlaState
from app.domain.sla_repository import ticket_slas
from app.notifications.outbox import ConnFactory, MailClient, Outbox, RetryPolicy, RunStats

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


_RECIPIENTS = """
select p.id from public.profiles as p
where
    p.role = 'admin'
    or p.id = %(assignee)s
    or (
        %(assignee)s::uuid is null
        and p.id in (select a.agent_id from public.agent_assignments as a where a.organization_id = %(org)s)
    )
"""


def sla_scan(conn: psycopg.Connection, now: datetime, warning_minutes: int = 15) -> ScanResult:
    """Enqueue `sla_warning` / `sla_breach` for every open target at risk, once per ticket, target and due time.

    Recipients: the assignee (or, while unassigned, the agents of the organization) and every admin, each
    subject to their `notify_sla_alerts` preference and GDPR state (private.enqueue_notification).
    """
    alerts = 0
    slas = ticket_slas(conn, now, open_only=True, warning_minutes=warning_minutes)
    subjects = dict(
        conn.execute(
            "select t.id, t.subject from public.tickets as t where t.id = any(%s)", (list(slas),)
        ).fetchall()
    )
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
                for r in conn.execute(_RECIPIENTS, {"assignee": sla.assignee_id, "org": sla.organization_id})
            ]
            with conn.transaction():
                for recipient in recipients:
                    added = conn.execute(
                        "select private.enqueue_notification(%s, %s, 'sla_at_risk', %s, %s, 'sla_alerts', %s)",
                        (event_key, kind, recipient, sla.ticket_id, json.dumps(params)),
                    ).fetchone()[0]
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
