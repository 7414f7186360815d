"""Business calendar: round trips, monotonicity, DST and Belgian holidays, checked against a brute-force
minute-by-minute oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import BusinessCalendar, CalendarError

BRUSSELS = ZoneInfo("Europe/Brussels")
OFFICE = BusinessCalendar.office_hours(closed_days={date(2026, 12, 24)})
# Open every day across the night, so the DST gaps (02:00-03:00) fall inside opening hours.
NIGHT_SHIFT = BusinessCalendar(
    hours={d: ((time(0, 30), time(5, 0)), (time(8, 0), time(12, 0))) for d in range(1, 8)}
)

# Instants around the interesting days of 2026: DST (29 March, 25 October), 21 July, Christmas, Easter Monday.
ANCHORS = [
    datetime(2026, 3, 27),
    datetime(2026, 10, 23),
    datetime(2026, 7, 19),
    datetime(2026, 12, 22),
    datetime(2026, 4, 3),
]
instants = st.builds(
    lambda anchor, minutes: anchor.replace(tzinfo=UTC) + timedelta(minutes=minutes),
    st.sampled_from(ANCHORS),
    st.integers(min_value=0, max_value=6 * 24 * 60),
)


def oracle_minutes(calendar: BusinessCalendar, a: datetime, b: datetime) -> int:
    """Count open minutes one UTC minute at a time (a and b on whole minutes)."""
    count, t = 0, a
    while t < b:
        local = t.astimezone(calendar.tz)
        if not calendar.is_closed_day(local.date()):
            for opens, closes in calendar.hours.get(local.isoweekday(), ()):
                if opens <= local.time().replace(tzinfo=None) < closes:
                    count += 1
                    break
        t += timedelta(minutes=1)
    return count


@settings(max_examples=40)
@given(calendar=st.sampled_from([OFFICE, NIGHT_SHIFT]), a=instants, span=st.integers(0, 4 * 24 * 60))
def test_business_minutes_match_a_minute_by_minute_count(
    calendar: BusinessCalendar, a: datetime, span: int
) -> None:
    """Invariant: business_minutes_between equals counting every real minute whose local wall-clock time is
    open; so DST transitions add or lose nothing and holidays/closing days never count."""
    b = a + timedelta(minutes=span)
    assert calendar.business_minutes_between(a, b) == oracle_minutes(calendar, a, b)


@given(calendar=st.sampled_from([OFFICE, NIGHT_SHIFT]), start=instants, minutes=st.integers(0, 20_000))
def test_adding_then_measuring_business_minutes_round_trips(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    """Invariant: business_minutes_between(s, add_business_minutes(s, m)) == m, and the result is aware."""
    due = calendar.add_business_minutes(start, minutes)
    assert due.tzinfo is not None
    assert calendar.business_minutes_between(start, due) == minutes


@given(start=instants, m1=st.integers(0, 10_000), m2=st.integers(0, 10_000))
def test_adding_more_business_minutes_never_ends_earlier(start: datetime, m1: int, m2: int) -> None:
    """Invariant: add_business_minutes is monotonic in the amount."""
    low, high = sorted((m1, m2))
    assert OFFICE.add_business_minutes(start, low) <= OFFICE.add_business_minutes(start, high)


@given(a=instants, b=instants, c=instants)
def test_business_time_is_additive_and_monotonic(a: datetime, b: datetime, c: datetime) -> None:
    """Invariant: for a <= b <= c, between(a, c) = between(a, b) + between(b, c) (so it grows with c)."""
    a, b, c = sorted((a, b, c))
    assert OFFICE.business_time_between(a, c) == OFFICE.business_time_between(
        a, b
    ) + OFFICE.business_time_between(b, c)


def test_belgian_national_day_and_christmas_do_not_count() -> None:
    monday = datetime(2026, 7, 20, 16, 0, tzinfo=BRUSSELS)  # 21 July (Tuesday) is the national holiday
    assert OFFICE.add_business_minutes(monday, 120) == datetime(2026, 7, 22, 9, 0, tzinfo=BRUSSELS)
    assert (
        OFFICE.business_minutes_between(
            datetime(2026, 12, 24, tzinfo=BRUSSELS), datetime(2026, 12, 26, tzinfo=BRUSSELS)
        )
        == 0
    )


def test_the_monday_after_each_dst_change_has_exactly_nine_business_hours() -> None:
    for monday in (date(2026, 3, 30), date(2026, 10, 26)):
        start = datetime.combine(monday, time(0), tzinfo=BRUSSELS)
        assert OFFICE.business_minutes_between(start, start + timedelta(days=1)) == 9 * 60


def test_opening_hours_inside_the_spring_dst_gap_lose_the_missing_hour() -> None:
    sunday = datetime(2026, 3, 29, 0, 0, tzinfo=BRUSSELS)
    # 00:30-05:00 on the day clocks jump from 02:00 to 03:00 is 3.5 real hours, not 4.5.
    assert NIGHT_SHIFT.business_minutes_between(sunday, sunday.replace(hour=6)) == 210


def test_a_calendar_without_hours_or_with_naive_times_is_refused() -> None:
    with pytest.raises(CalendarError, match="no opening hours"):
        BusinessCalendar(hours={})
    with pytest.raises(CalendarError, match="timezone-aware"):
        OFFICE.add_business_minutes(datetime(2026, 1, 5, 9, 0), 10)
