"""The SLA clock as pure functions: due times, warnings and breaches from a ticket's history.

Semantics (Zendesk's "requester wait" and Zammad's escalation, see docs/sla.md):
- Three targets per priority, in business minutes of the plan's calendar: **first response** (from creation
  to the first public staff reply), **next response** (from the oldest customer reply that staff have not yet
  answered, once the first response is given) and **resolution** (from creation to resolved/closed).
- The clocks run only while the ticket is `new` or `open`. `pending` (waiting on the customer) pauses them;
  `resolved`/`closed` stops them, and a reopened ticket resumes where it stopped (time spent resolved is not
  counted). A pause never resets a clock: it shifts the due time by exactly the paused business time.
- Reassignment changes nothing: assignment events are accepted and ignored by design.
- A target is `warning` when at most `warning_minutes` business minutes remain, `breached` when none remain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.calendar import ONE_MINUTE, BusinessCalendar, CalendarError

ACTIVE_STATUSES = frozenset({"new", "open"})
DONE_STATUSES = frozenset({"resolved", "closed"})
STATUSES = frozenset({"new", "open", "pending", "resolved", "closed"})
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
DEFAULT_WARNING_MINUTES = 15


class EventKind(StrEnum):
    CREATED = "created"
    STATUS = "status"  # the ticket's status became `status`
    AGENT_REPLY = "agent_reply"  # a public (non-internal) message by staff
    CUSTOMER_REPLY = "customer_reply"  # a message by a client
    ASSIGNED = "assigned"  # ignored by the clock: reassignment never resets it


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"  # the clock is not running and time remains
    MET = "met"  # the target was reached in time


# Most urgent first; used by urgency_key() and by SlaReport.state.
_STATE_RANK = {SlaState.BREACHED: 0, SlaState.WARNING: 1, SlaState.OK: 2, SlaState.PAUSED: 3, SlaState.MET: 4}


@dataclass(frozen=True)
class TicketEvent:
    kind: EventKind
    at: datetime
    status: str | None = None
    assignee_id: str | None = None


@dataclass(frozen=True)
class SlaTargets:
    """One sla_policies row (plan x priority), in business minutes."""

    first_response_minutes: int
    next_response_minutes: int
    resolution_minutes: int
    warning_minutes: int = DEFAULT_WARNING_MINUTES

    def minutes(self, target: Target) -> int:
        if target is Target.FIRST_RESPONSE:
            return self.first_response_minutes
        if target is Target.NEXT_RESPONSE:
            return self.next_response_minutes
        return self.resolution_minutes


@dataclass(frozen=True)
class TargetClock:
    target: Target
    started_at: datetime
    due_at: datetime | None  # None while paused before the target is reached (unknown until it resumes)
    met_at: datetime | None
    state: SlaState
    remaining: timedelta  # business time left (negative once breached)
    elapsed: timedelta  # business time counted so far (paused time excluded)

    @property
    def remaining_minutes(self) -> int:
        """Whole business minutes left, rounded towards zero (negative: minutes overdue)."""
        return int(self.remaining / ONE_MINUTE)

    @property
    def open(self) -> bool:
        return self.met_at is None


@dataclass(frozen=True)
class SlaReport:
    first_response: TargetClock
    next_response: TargetClock | None
    resolution: TargetClock
    status: str

    @property
    def clocks(self) -> list[TargetClock]:
        return [c for c in (self.first_response, self.next_response, self.resolution) if c is not None]

    @property
    def open_clocks(self) -> list[TargetClock]:
        return [c for c in self.clocks if c.open]

    @property
    def state(self) -> SlaState:
        """The worst open clock; with none open, `breached` if any target was met late, else `met`."""
        if self.open_clocks:
            return min((c.state for c in self.open_clocks), key=_STATE_RANK.__getitem__)
        return SlaState.BREACHED if any(c.state is SlaState.BREACHED for c in self.clocks) else SlaState.MET

    @property
    def next_due(self) -> datetime | None:
        """The earliest due time among the open clocks (what the queue shows)."""
        dues = [c.due_at for c in self.open_clocks if c.due_at is not None]
        return min(dues) if dues else None


def _ordered(events: Iterable[TicketEvent], now: datetime) -> list[TicketEvent]:
    history = sorted(
        (e for e in events if e.at <= now), key=lambda e: e.at
    )  # stable: same-instant order kept
    if not history or history[0].kind is not EventKind.CREATED:
        raise ValueError("a ticket history starts with exactly one `created` event (at or before `now`)")
    for event in history:
        if event.kind is EventKind.STATUS and event.status not in STATUSES:
            raise ValueError(f"unknown ticket status {event.status!r} at {event.at.isoformat()}")
    return history


def active_segments(history: Sequence[TicketEvent]) -> list[tuple[datetime, datetime | None]]:
    """The periods in which the clocks run (status new/open); the last one is open-ended if still running."""
    segments: list[tuple[datetime, datetime | None]] = []
    status = history[0].status or "new"
    running_since = history[0].at if status in ACTIVE_STATUSES else None
    for event in history[1:]:
        if event.kind is not EventKind.STATUS or event.status is None:
            continue
        if running_since is not None and event.status not in ACTIVE_STATUSES:
            if event.at > running_since:
                segments.append((running_since, event.at))
            running_since = None
        elif running_since is None and event.status in ACTIVE_STATUSES:
            running_since = event.at
        status = event.status
    if running_since is not None:
        segments.append((running_since, None))
    return segments


def _clock(
    target: Target,
    start: datetime,
    stop: datetime | None,
    targets: SlaTargets,
    segments: Sequence[tuple[datetime, datetime | None]],
    calendar: BusinessCalendar,
    now: datetime,
) -> TargetClock:
    goal = targets.minutes(target) * ONE_MINUTE
    horizon = min(stop, now) if stop is not None else now
    due: datetime | None = None
    remaining_goal = goal
    elapsed = timedelta(0)
    for seg_start, seg_end in segments:
        s = max(seg_start, start)
        if seg_end is not None and seg_end <= s:
            continue
        # Elapsed: counted time up to the horizon (the stop or now).
        counted_end = horizon if seg_end is None else min(seg_end, horizon)
        if counted_end > s:
            elapsed += calendar.business_time_between(s, counted_end)
        # Due: where the goal is reached if the clock keeps running as it did.
        if due is None:
            span = None if seg_end is None else calendar.business_time_between(s, seg_end)
            if span is None or remaining_goal <= span:
                due = calendar.add_business_time(s, remaining_goal)
            else:
                remaining_goal -= span
    remaining = goal - elapsed
    met_at = stop if stop is not None and stop <= now else None
    if met_at is not None:
        state = SlaState.MET if remaining >= timedelta(0) else SlaState.BREACHED
    elif remaining <= timedelta(0):
        state = SlaState.BREACHED
    elif due is None:
        state = SlaState.PAUSED
    elif remaining <= targets.warning_minutes * ONE_MINUTE:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return TargetClock(target, start, due, met_at, state, remaining, elapsed)


def evaluate(
    events: Iterable[TicketEvent], targets: SlaTargets, calendar: BusinessCalendar, now: datetime
) -> SlaReport:
    """The SLA of one ticket at `now` from its history (events after `now` are ignored)."""
    if now.tzinfo is None:
        raise CalendarError("now must be timezone-aware")
    history = _ordered(events, now)
    segments = active_segments(history)
    created = history[0].at

    status = history[0].status or "new"
    done_since: datetime | None = created if status in DONE_STATUSES else None
    first_reply: datetime | None = None
    awaiting_since: datetime | None = None
    for event in history[1:]:
        if event.kind is EventKind.STATUS and event.status:
            if event.status in DONE_STATUSES and status not in DONE_STATUSES:
                done_since = event.at
            elif event.status not in DONE_STATUSES:
                done_since = None
            status = event.status
        elif event.kind is EventKind.AGENT_REPLY:
            first_reply = first_reply or event.at
            awaiting_since = None
        elif event.kind is EventKind.CUSTOMER_REPLY and first_reply is not None and awaiting_since is None:
            awaiting_since = event.at

    first = _clock(Target.FIRST_RESPONSE, created, first_reply, targets, segments, calendar, now)
    resolution = _clock(Target.RESOLUTION, created, done_since, targets, segments, calendar, now)
    next_response = None
    if awaiting_since is not None and status not in DONE_STATUSES:
        next_response = _clock(Target.NEXT_RESPONSE, awaiting_since, None, targets, segments, calendar, now)
    return SlaReport(first, next_response, resolution, status)


def urgency_key(report: SlaReport, priority: str = "normal") -> tuple[int, float, int, float]:
    """Sort key for the agent queue (ascending = most urgent first).

    Breached before warning before running before paused before done; then the earliest due time; then the
    higher priority; then the least business time remaining (orders paused tickets, which have no due time).
    """
    due = report.next_due
    remaining = min((c.remaining for c in report.open_clocks), default=timedelta.max)
    return (
        _STATE_RANK[report.state],
        due.timestamp() if due is not None else math.inf,
        PRIORITY_RANK.get(priority, len(PRIORITY_RANK)),
        remaining.total_seconds(),
    )
