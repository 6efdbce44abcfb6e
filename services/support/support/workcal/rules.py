"""Business time, pure: which days are working days and how business seconds add up.

A :class:`WorkCalendar` is plain data (a zone, the working hours, the weekdays, and the sets of
holiday and make-up working dates); ``workcal.service`` builds it from the official calendar and
the organisation's policy. Everything here is arithmetic on that data: no clock, no I/O.

A make-up working day (调休, e.g. Saturday 2026-02-14) is a working day although it falls on a
weekend; a holiday is not a working day although it may fall on a weekday. A date that is in
both sets counts as a holiday (the policy validation refuses such input anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DAY = timedelta(days=1)
# No calendar may go this long without a working day: a misconfiguration, not a long holiday.
MAX_SEARCH_DAYS = 3660


class CalendarError(ValueError):
    """The calendar has no working time to offer (e.g. no working weekday at all)."""


@dataclass(frozen=True)
class WorkCalendar:
    tz: tzinfo
    day_start: time
    day_end: time
    weekdays: frozenset[int]  # ISO weekday numbers, Monday = 1
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up working days (调休)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.isoweekday() in self.weekdays

    def day_window(self, day: date) -> tuple[datetime, datetime]:
        """The working hours of ``day`` as aware datetimes in the calendar's zone."""
        return (
            datetime.combine(day, self.day_start, tzinfo=self.tz),
            datetime.combine(day, self.day_end, tzinfo=self.tz),
        )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment


def add_business_seconds(cal: WorkCalendar, start: datetime, seconds: float) -> datetime:
    """The moment ``seconds`` of working time after ``start`` (UTC).

    Time outside working hours does not count: from Friday 17:00 plus 2 hours is Monday 10:00
    (or later, across holidays). Zero seconds from outside working hours is the next opening.
    A target that ends exactly at closing time is due at closing time, not the next morning.
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    local = _aware(start).astimezone(cal.tz)
    day = local.date()
    remaining = float(seconds)
    for _ in range(MAX_SEARCH_DAYS):
        if cal.is_working_day(day):
            opens, closes = cal.day_window(day)
            current = max(local, opens)
            if current < closes:
                available = (closes - current).total_seconds()
                if remaining <= available:
                    return current.astimezone(UTC) + timedelta(seconds=remaining)
                remaining -= available
        day += DAY
    raise CalendarError(f"no working time within {MAX_SEARCH_DAYS} days")


def business_seconds_between(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """Working seconds in [start, end); 0 when end is not after start."""
    start_l, end_l = _aware(start).astimezone(cal.tz), _aware(end).astimezone(cal.tz)
    if end_l <= start_l:
        return 0.0
    total = 0.0
    day = start_l.date()
    last = end_l.date()
    while day <= last:
        if cal.is_working_day(day):
            opens, closes = cal.day_window(day)
            lo, hi = max(opens, start_l), min(closes, end_l)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += DAY
    return total


def add_working_days(cal: WorkCalendar, day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    found = 0
    for _ in range(MAX_SEARCH_DAYS):
        if found == count:
            return day
        day += DAY
        if cal.is_working_day(day):
            found += 1
    raise CalendarError(f"no {count} working days within {MAX_SEARCH_DAYS} days")


def working_days_between(cal: WorkCalendar, first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last`` (0 if ``last`` is not later)."""
    count = 0
    day = first + DAY
    while day <= last:
        if cal.is_working_day(day):
            count += 1
        day += DAY
    return count


def local_date(cal: WorkCalendar, moment: datetime) -> date:
    return _aware(moment).astimezone(cal.tz).date()
