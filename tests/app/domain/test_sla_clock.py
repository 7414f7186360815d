"""The SLA clock: monotonic, pause-invariant, reassignment-invariant, and the warning/breach states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.domain.calendar import BusinessCalendar
from app.domain.sla import EventKind, SlaState, SlaTargets, Target, TicketEvent, evaluate, urgency_key

BRUSSELS = ZoneInfo("Europe/Brussels")
CAL = BusinessCalendar.office_hours()
# Three different targets, so a clock that used another clock's target would be caught.
TARGETS = SlaTargets(first_response_minutes=240, next_response_minutes=90, resolution_minutes=2400)
T0 = datetime(2026, 3, 23, 9, 0, tzinfo=BRUSSELS)  # the week before a DST change, ahead of Easter Monday
FAR = T0 + timedelta(days=120)

created = st.builds(lambda m: T0 + timedelta(minutes=m), st.integers(0, 5 * 24 * 60))


def created_event(at: datetime) -> TicketEvent:
    return TicketEvent(EventKind.CREATED, at, status="new")


def pause(start: datetime, end: datetime) -> list[TicketEvent]:
    return [
        TicketEvent(EventKind.STATUS, start, status="pending"),
        TicketEvent(EventKind.STATUS, end, status="open"),
    ]


@given(start=created, a=st.integers(0, 40_000), b=st.integers(0, 40_000))
def test_elapsed_time_grows_and_remaining_time_shrinks_as_now_advances(
    start: datetime, a: int, b: int
) -> None:
    """Invariant: for now1 <= now2, elapsed(now1) <= elapsed(now2) and remaining(now1) >= remaining(now2); the
    due time does not move while nothing happens; a breached target stays breached."""
    now1, now2 = sorted((start + timedelta(minutes=a), start + timedelta(minutes=b)))
    events = [created_event(start)]
    r1, r2 = evaluate(events, TARGETS, CAL, now1), evaluate(events, TARGETS, CAL, now2)
    for c1, c2 in zip(r1.clocks, r2.clocks, strict=True):
        assert c1.elapsed <= c2.elapsed
        assert c1.remaining >= c2.remaining
        assert c1.due_at == c2.due_at
        if c1.state is SlaState.BREACHED:
            assert c2.state is SlaState.BREACHED


@given(start=created, offset=st.integers(0, 3000), length=st.integers(1, 10_000))
def test_a_pending_period_shifts_the_due_time_by_exactly_its_business_time(
    start: datetime, offset: int, length: int
) -> None:
    """Invariant: pausing from p1 to p2 (before the due time) moves the resolution due time so that the business
    time between creation and the new due time is the target plus the paused business time: pausing never
    resets the clock and never loses or invents time."""
    plain = evaluate([created_event(start)], TARGETS, CAL, FAR).resolution
    p1 = start + timedelta(minutes=offset)
    p2 = p1 + timedelta(minutes=length)
    assert plain.due_at is not None
    if p1 >= plain.due_at:
        return
    paused = evaluate([created_event(start), *pause(p1, p2)], TARGETS, CAL, FAR).resolution
    assert paused.due_at is not None
    paused_business = CAL.business_time_between(p1, p2)
    assert (
        CAL.business_time_between(start, paused.due_at)
        == timedelta(minutes=TARGETS.resolution_minutes) + paused_business
    )
    assert paused.due_at >= plain.due_at


@given(
    start=created,
    assignments=st.lists(st.integers(0, 20_000), max_size=6),
    now=st.integers(0, 30_000),
)
def test_reassigning_a_ticket_never_changes_its_sla(
    start: datetime, assignments: list[int], now: int
) -> None:
    """Invariant: adding assignment events anywhere in the history leaves the whole report unchanged."""
    base = [created_event(start), *pause(start + timedelta(hours=30), start + timedelta(hours=50))]
    moved = base + [
        TicketEvent(EventKind.ASSIGNED, start + timedelta(minutes=m), assignee_id=f"agent-{i}")
        for i, m in enumerate(assignments)
    ]
    at = start + timedelta(minutes=now)
    assert evaluate(moved, TARGETS, CAL, at) == evaluate(base, TARGETS, CAL, at)


def test_states_go_ok_warning_breached_and_the_due_time_is_in_business_time() -> None:
    start = datetime(2026, 3, 27, 15, 0, tzinfo=BRUSSELS)  # Friday 15:00, DST starts on Sunday
    events = [created_event(start)]
    due = datetime(2026, 3, 30, 10, 0, tzinfo=BRUSSELS)  # 2 h on Friday, 2 h on Monday
    ok = evaluate(events, TARGETS, CAL, start + timedelta(hours=1))
    assert ok.first_response.due_at == due
    assert ok.first_response.state is SlaState.OK
    warning = evaluate(events, TARGETS, CAL, due - timedelta(minutes=10))
    assert warning.first_response.state is SlaState.WARNING
    assert warning.first_response.remaining_minutes == 10
    breached = evaluate(events, TARGETS, CAL, due + timedelta(minutes=30))
    assert breached.first_response.state is SlaState.BREACHED
    assert breached.first_response.remaining_minutes == -30
    assert breached.state is SlaState.BREACHED


def test_a_first_reply_meets_the_target_and_a_later_customer_reply_starts_the_next_response_clock() -> None:
    reply = T0 + timedelta(hours=1)
    customer = T0 + timedelta(hours=2)
    events = [
        created_event(T0),
        TicketEvent(EventKind.AGENT_REPLY, reply),
        TicketEvent(EventKind.CUSTOMER_REPLY, customer),
    ]
    report = evaluate(events, TARGETS, CAL, T0 + timedelta(hours=3))
    assert report.first_response.state is SlaState.MET
    assert report.first_response.met_at == reply
    assert report.next_response is not None
    assert report.next_response.started_at == customer
    assert report.next_response.due_at == CAL.add_business_minutes(customer, TARGETS.next_response_minutes)
    assert report.next_response.due_at != CAL.add_business_minutes(customer, TARGETS.first_response_minutes)


@given(
    start=created,
    reply_after=st.integers(0, 3000),
    customer_after=st.integers(1, 3000),
    now_after=st.integers(0, 6000),
    first=st.integers(1, 3000),
    other_first=st.integers(1, 3000),
    next_response=st.integers(1, 3000),
    resolution=st.integers(1, 10_000),
)
def test_the_next_response_clock_runs_on_the_next_response_target_alone(
    start: datetime,
    reply_after: int,
    customer_after: int,
    now_after: int,
    first: int,
    other_first: int,
    next_response: int,
    resolution: int,
) -> None:
    """Invariant: once a customer replies after the first response, the next-response clock is due exactly the
    next-response target (in business time) after that reply, and its whole state is unchanged whatever the
    first-response and resolution targets are."""
    reply = start + timedelta(minutes=reply_after)
    customer = reply + timedelta(minutes=customer_after)
    now = customer + timedelta(minutes=now_after)
    events = [
        created_event(start),
        TicketEvent(EventKind.AGENT_REPLY, reply),
        TicketEvent(EventKind.CUSTOMER_REPLY, customer),
    ]
    targets = SlaTargets(
        first_response_minutes=first, next_response_minutes=next_response, resolution_minutes=resolution
    )
    clock = evaluate(events, targets, CAL, now).next_response
    assert clock is not None
    assert clock.started_at == customer
    assert clock.due_at == CAL.add_business_minutes(customer, next_response)
    assert clock.remaining == timedelta(minutes=next_response) - CAL.business_time_between(customer, now)
    others = SlaTargets(
        first_response_minutes=other_first,
        next_response_minutes=next_response,
        resolution_minutes=resolution + other_first,
    )
    assert evaluate(events, others, CAL, now).next_response == clock


def test_a_pending_ticket_is_paused_and_a_resolved_one_is_met() -> None:
    pending = [created_event(T0), TicketEvent(EventKind.STATUS, T0 + timedelta(hours=1), status="pending")]
    report = evaluate(pending, TARGETS, CAL, T0 + timedelta(days=30))
    assert report.resolution.state is SlaState.PAUSED
    assert report.resolution.due_at is None
    assert report.resolution.remaining_minutes == TARGETS.resolution_minutes - 60
    resolved = [created_event(T0), TicketEvent(EventKind.STATUS, T0 + timedelta(hours=2), status="resolved")]
    done = evaluate(resolved, TARGETS, CAL, T0 + timedelta(days=30))
    assert done.resolution.state is SlaState.MET
    assert done.resolution.met_at == T0 + timedelta(hours=2)


def test_the_queue_puts_breached_before_warning_before_ok_before_paused() -> None:
    now = datetime(2026, 3, 24, 12, 0, tzinfo=UTC)
    breached = evaluate([created_event(now - timedelta(days=1))], TARGETS, CAL, now)
    warning = evaluate([created_event(now - timedelta(minutes=230))], TARGETS, CAL, now)
    fresh = evaluate([created_event(now - timedelta(minutes=5))], TARGETS, CAL, now)
    paused = evaluate(
        [
            created_event(now - timedelta(hours=1)),
            TicketEvent(EventKind.STATUS, now - timedelta(minutes=30), status="pending"),
        ],
        TARGETS,
        CAL,
        now,
    )
    queue = sorted(
        [
            ("paused", paused, "urgent"),
            ("fresh", fresh, "low"),
            ("warning", warning, "low"),
            ("breached", breached, "low"),
        ],
        key=lambda item: urgency_key(item[1], item[2]),
    )
    assert [name for name, _, _ in queue] == ["breached", "warning", "fresh", "paused"]
    assert fresh.state is SlaState.OK and paused.state is SlaState.PAUSED
    assert {c.target for c in fresh.clocks} == {Target.FIRST_RESPONSE, Target.RESOLUTION}
