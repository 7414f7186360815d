"""Business time: when a support desk is open, and how many working minutes lie between two instants.

A `BusinessCalendar` is a time zone (Europe/Brussels), weekly opening intervals in local wall-clock time,
the public holidays of a country (the `holidays` package: Belgium by default) and extra closing days (the
`public.holidays` rows of the calendar). Opening intervals are turned into absolute instants per local date
and all arithmetic happens on those instants, so daylight-saving changes (last Sunday of March and of
October) never add or lose a business minute: an interval 08:00-17:00 is nine real hours on every day.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_data

ONE_MINUTE = timedelta(minutes=1)
# A calendar with open time must reach any target within this horizon; beyond it we stop looking.
MAX_SEARCH_DAYS = 3 * 366
DEFAULT_TIME_ZONE = "Europe/Brussels"


class CalendarError(ValueError):
    """The calendar cannot answer: no opening hours, a naive datetime, or an unreachable target."""


@functools.lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holiday_data.country_holidays(country, years=year).keys())


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise CalendarError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per ISO weekday (1 = Monday ... 7 = Sunday) in `time_zone`, minus holidays."""

    hours: Mapping[int, tuple[tuple[time, time], ...]]
    time_zone: str = DEFAULT_TIME_ZONE
    country: str | None = "BE"
    closed_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not any(self.hours.get(day) for day in range(1, 8)):
            raise CalendarError("the calendar has no opening hours: give at least one weekday an interval")
        for day, intervals in self.hours.items():
            if day not in range(1, 8):
                raise CalendarError(f"weekday {day} is not an ISO weekday (1 = Monday ... 7 = Sunday)")
            for opens, closes in intervals:
                if not opens < closes:
                    raise CalendarError(f"weekday {day}: {opens} must be before {closes}")
        ZoneInfo(self.time_zone)  # fail early on an unknown zone

    @classmethod
    def office_hours(
        cls,
        opens: time = time(8, 0),
        closes: time = time(17, 0),
        *,
        time_zone: str = DEFAULT_TIME_ZONE,
        country: str | None = "BE",
        closed_days: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Monday to Friday, one interval a day: the usual support desk."""
        return cls(
            hours={day: ((opens, closes),) for day in range(1, 6)},
            time_zone=time_zone,
            country=country,
            closed_days=frozenset(closed_days),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_closed_day(self, day: date) -> bool:
        """A public holiday of the country or an extra closing day of this calendar."""
        if day in self.closed_days:
            return True
        return self.country is not None and day in _public_holidays(self.country, day.year)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of a local date as UTC instants (empty on closed days)."""
        if self.is_closed_day(day):
            return []
        tz = self.tz
        result = []
        for opens, closes in sorted(self.hours.get(day.isoweekday(), ())):
            start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
            if start < end:  # an interval swallowed by a DST gap has no length
                result.append((start, end))
        return result

    def open_intervals(
        self, start: datetime, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals (UTC) that end after `start`, in order, clipped to begin at `start` at most.

        Without `until` the search stops after MAX_SEARCH_DAYS (a target no calendar should need).
        """
        begin = _aware(start, "start")
        days = MAX_SEARCH_DAYS if until is None else (_aware(until, "until") - begin).days + 3
        day = begin.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(days):
            for opens, closes in self.intervals_on(day):
                if closes > begin:
                    yield max(opens, begin), closes
            day += timedelta(days=1)

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of business time has elapsed since `start` (in the calendar's zone).

        Adding zero returns `start` unchanged; a target that ends exactly at closing time is due at closing
        time (not at the next opening).
        """
        if amount < timedelta(0):
            raise CalendarError(f"cannot add a negative business time ({amount})")
        if amount == timedelta(0):
            return _aware(start, "start").astimezone(self.tz)
        remaining = amount
        for opens, closes in self.open_intervals(start):
            available = closes - opens
            if remaining <= available:
                return (opens + remaining).astimezone(self.tz)
            remaining -= available
        raise CalendarError(f"{amount} of business time is not reached within {MAX_SEARCH_DAYS} days")

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        return self.add_business_time(start, minutes * ONE_MINUTE)

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in [a, b); zero when b is not after a."""
        begin, end = _aware(a, "a"), _aware(b, "b")
        total = timedelta(0)
        if end <= begin:
            return total
        for opens, closes in self.open_intervals(begin, end):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total

    def business_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole business minutes in [a, b) (rounded down); zero when b is not after a."""
        return self.business_time_between(a, b) // ONE_MINUTE
