"""Reads what the SLA clock needs (calendar, targets, ticket history) with a connection the caller provides.

The portal passes its RLS-scoped transaction (app/database.py), so a client only ever gets the SLA of tickets
they may see; the worker passes its service connection. Nothing here opens a connection or a pool.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from app.domain.calendar import BusinessCalendar, CalendarError
from app.domain.sla import (
    DEFAULT_WARNING_MINUTES,
    EventKind,
    SlaReport,
    SlaTargets,
    TicketEvent,
    evaluate,
    urgency_key,
)


@dataclass(frozen=True)
class TicketSla:
    ticket_id: uuid.UUID
    organization_id: uuid.UUID
    assignee_id: uuid.UUID | None
    priority: str
    status: str
    report: SlaReport

    @property
    def urgency(self) -> tuple[int, float, int, float]:
        return urgency_key(self.report, self.priority)


def load_calendar(conn: psycopg.Connection, calendar_id: uuid.UUID) -> BusinessCalendar:
    """The calendar with its weekly hours and extra closing days (the `holidays` rows)."""
    # Tuple rows whatever the connection's row factory (the portal's connections return dicts).
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute(
        "select c.name, c.time_zone from public.business_calendars as c where c.id = %s", (calendar_id,)
    ).fetchone()
    if row is None:
        raise CalendarError(f"business calendar {calendar_id} does not exist (or is not visible to you)")
    name, time_zone = row
    hours: dict[int, list[tuple[Any, Any]]] = {}
    for day, opens, closes in cur.execute(
        """select h.day_of_week, h.opens_at, h.closes_at from public.business_hours as h
           where h.calendar_id = %s order by h.day_of_week, h.opens_at""",
        (calendar_id,),
    ):
        hours.setdefault(day, []).append((opens, closes))
    if not hours:
        raise CalendarError(
            f"business calendar {name!r} has no opening hours: add public.business_hours rows for it"
        )
    closed: set[date] = {
        r[0]
        for r in cur.execute(
            "select h.day from public.holidays as h where h.calendar_id = %s", (calendar_id,)
        )
    }
    return BusinessCalendar(
        hours={d: tuple(v) for d, v in hours.items()}, time_zone=time_zone, closed_days=frozenset(closed)
    )


def history_of(row: dict[str, Any]) -> list[TicketEvent]:
    """The clock's events rebuilt from tickets + private.ticket_sla_clocks (see db/schema/0201)."""
    events = [TicketEvent(EventKind.CREATED, row["created_at"], status="new")]
    periods = list(row["paused_periods"] or [])
    for index, period in enumerate(periods):
        last = index == len(periods) - 1
        still_paused = period.upper is None
        status = row["status"] if last and still_paused else "pending"
        events.append(TicketEvent(EventKind.STATUS, period.lower or row["created_at"], status=status))
        if not still_paused:
            events.append(TicketEvent(EventKind.STATUS, period.upper, status="open"))
    if row["first_response_at"] is not None:
        events.append(TicketEvent(EventKind.AGENT_REPLY, row["first_response_at"]))
        awaiting = row["awaiting_reply_since"]
        if awaiting is not None and awaiting >= row["first_response_at"]:
            events.append(TicketEvent(EventKind.CUSTOMER_REPLY, awaiting))
    return events


_TICKETS = """
select t.id, t.organization_id, t.assignee_id, t.priority, t.status, t.created_at, t.first_response_at,
    c.paused_periods, c.awaiting_reply_since, p.calendar_id, s.first_response_minutes, s.next_response_minutes,
    s.resolution_minutes
from public.tickets as t
inner join public.organizations as o on t.organization_id = o.id
inner join public.sla_plans as p on o.sla_plan_id = p.id
left join public.sla_policies as s on s.plan_id = p.id and s.priority = t.priority
left join private.ticket_sla_clocks as c on c.ticket_id = t.id
where (%(ids)s::uuid[] is null or t.id = any(%(ids)s::uuid[]))
    and (not %(open_only)s or t.status not in ('resolved', 'closed'))
"""


def ticket_slas(
    conn: psycopg.Connection,
    now: datetime,
    ticket_ids: Sequence[uuid.UUID] | None = None,
    *,
    open_only: bool = False,
    warning_minutes: int = DEFAULT_WARNING_MINUTES,
) -> dict[uuid.UUID, TicketSla]:
    """The SLA of the given tickets (or of every ticket the connection can see), keyed by ticket id.

    Tickets whose plan has no policy for their priority get no entry (no target, no clock).
    """
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _TICKETS, {"ids": list(ticket_ids) if ticket_ids is not None else None, "open_only": open_only}
        ).fetchall()
    return slas_from_rows(rows, lambda calendar_id: load_calendar(conn, calendar_id), now, warning_minutes)


def slas_from_rows(
    rows: Iterable[dict[str, Any]],
    load_calendar_by_id: Callable[[uuid.UUID], BusinessCalendar],
    now: datetime,
    warning_minutes: int = DEFAULT_WARNING_MINUTES,
) -> dict[uuid.UUID, TicketSla]:
    """Evaluate rows shaped like `_TICKETS` (the portal under RLS, the notifier through its own function).

    Each calendar is loaded once; tickets whose plan has no policy for their priority get no entry.
    """
    calendars: dict[uuid.UUID, BusinessCalendar] = {}
    result: dict[uuid.UUID, TicketSla] = {}
    for row in rows:
        if row["first_response_minutes"] is None:
            continue
        if row["calendar_id"] not in calendars:
            calendars[row["calendar_id"]] = load_calendar_by_id(row["calendar_id"])
        targets = SlaTargets(
            first_response_minutes=row["first_response_minutes"],
            next_response_minutes=row["next_response_minutes"],
            resolution_minutes=row["resolution_minutes"],
            warning_minutes=warning_minutes,
        )
        report = evaluate(history_of(row), targets, calendars[row["calendar_id"]], now)
        result[row["id"]] = TicketSla(
            row["id"], row["organization_id"], row["assignee_id"], row["priority"], row["status"], report
        )
    return result


def agent_queue(conn: psycopg.Connection, now: datetime) -> list[TicketSla]:
    """Open tickets the connection can see, most urgent first (breached, warning, earliest due, priority)."""
    return sorted(ticket_slas(conn, now, open_only=True).values(), key=lambda t: t.urgency)
