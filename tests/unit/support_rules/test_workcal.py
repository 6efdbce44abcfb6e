"""The business calendar: working hours on China's official calendar, 2026 Spring Festival and
National Day weeks included (holidays and the make-up working days, 调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from support.policy.rules import SupportPolicy
from support.workcal.rules import (
    CalendarError,
    WorkCalendar,
    add_business_seconds,
    add_working_days,
    business_seconds_between,
    local_date,
    working_days_between,
)
from support.workcal.service import calendar_for, official_days

SH = ZoneInfo("Asia/Shanghai")
H = 3600


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return calendar_for(SupportPolicy(), 2026)


# -- the official calendar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday, make-up working day
        (date(2026, 2, 15), False),  # Sunday, first day of the holiday
        (date(2026, 2, 16), False),  # Monday, holiday
        (date(2026, 2, 20), False),  # Friday, holiday
        (date(2026, 2, 23), False),  # Monday, last holiday
        (date(2026, 2, 24), True),  # back to work
        (date(2026, 2, 28), True),  # Saturday, make-up working day
        (date(2026, 3, 1), False),  # an ordinary Sunday
        (date(2026, 9, 20), True),  # Sunday, make-up working day before National Day
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),  # Monday in the Golden Week
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),  # Thursday, back to work
        (date(2026, 10, 10), True),  # Saturday, make-up working day
        (date(2026, 10, 11), False),
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), False),
        (date(2026, 1, 4), True),
        (date(2026, 5, 1), False),
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),
    ],
)
def test_official_working_days_2026(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_official_days_come_from_the_library() -> None:
    holidays_, workdays = official_days("CN", 2026, 2026)
    assert date(2026, 2, 17) in holidays_ and date(2026, 10, 1) in holidays_
    assert {date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)} <= workdays
    assert official_days("", 2026, 2026) == (frozenset(), frozenset())


def test_later_years_still_have_the_statutory_holidays() -> None:
    cal = calendar_for(SupportPolicy(), 2027)
    assert not cal.is_working_day(date(2027, 10, 1)) and not cal.is_working_day(date(2027, 1, 1))


def test_policy_overrides_the_official_calendar() -> None:
    policy = SupportPolicy(extra_holidays=("2026-02-24",), extra_workdays=("2026-02-23", "2026-03-01"))
    cal = calendar_for(policy, 2026)
    assert not cal.is_working_day(date(2026, 2, 24))  # own closure over a normal day
    assert cal.is_working_day(date(2026, 2, 23))  # own working day over an official holiday
    assert cal.is_working_day(date(2026, 3, 1))  # and over a Sunday
    closed = calendar_for(SupportPolicy(extra_holidays=("2026-02-14",)), 2026)
    assert not closed.is_working_day(date(2026, 2, 14))  # own closure over an official make-up day


def test_no_official_calendar_is_plain_weekdays() -> None:
    cal = calendar_for(SupportPolicy(official_holidays=""), 2026)
    assert cal.is_working_day(date(2026, 10, 1)) and not cal.is_working_day(date(2026, 2, 14))


def test_a_holiday_that_is_also_a_workday_is_a_holiday() -> None:
    d = date(2026, 3, 2)
    cal = WorkCalendar(SH, time(9), time(18), frozenset({1, 2, 3, 4, 5}), frozenset({d}), frozenset({d}))
    assert not cal.is_working_day(d)


# -- adding business time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(2026, 3, 2, 10), 2, at(2026, 3, 2, 12)),  # inside one day
        (at(2026, 3, 2, 8), 1, at(2026, 3, 2, 10)),  # before opening: counts from 09:00
        (at(2026, 3, 2, 17), 1, at(2026, 3, 2, 18)),  # ends exactly at closing
        (at(2026, 3, 2, 17), 2, at(2026, 3, 3, 10)),  # over the night
        (at(2026, 3, 2, 19), 0, at(2026, 3, 3, 9)),  # zero from the evening: next opening
        (at(2026, 3, 2, 18), 0, at(2026, 3, 3, 9)),  # zero from closing time: next opening
        (at(2026, 3, 6, 17), 2, at(2026, 3, 9, 10)),  # Friday → Monday
        (at(2026, 3, 7, 12), 1, at(2026, 3, 9, 10)),  # from a Sunday
        (at(2026, 2, 13, 17), 2, at(2026, 2, 14, 10)),  # into the Saturday make-up day
        (at(2026, 2, 14, 17), 2, at(2026, 2, 24, 10)),  # across the whole Spring Festival
        (at(2026, 2, 14, 9), 27, at(2026, 2, 25, 18)),  # 3 working days: the 14th, 24th, 25th
        (at(2026, 9, 19, 17), 2, at(2026, 9, 20, 11)),  # Saturday (off) → Sunday make-up day
        (at(2026, 9, 18, 17), 2, at(2026, 9, 20, 10)),  # Friday → Sunday make-up day
        (at(2026, 9, 30, 17), 2, at(2026, 10, 8, 10)),  # across the Golden Week
        (at(2026, 10, 9, 17), 2, at(2026, 10, 10, 10)),  # into the Saturday make-up day
        (at(2026, 10, 10, 17), 2, at(2026, 10, 12, 10)),  # then Sunday is off again
    ],
)
def test_add_business_seconds(cal: WorkCalendar, start: datetime, hours: float, due: datetime) -> None:
    result = add_business_seconds(cal, start, hours * H)
    assert result == due and result.tzinfo == UTC


def test_add_business_seconds_keeps_sub_second_precision_and_utc(cal: WorkCalendar) -> None:
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert add_business_seconds(cal, start, 90.5) == start + timedelta(seconds=90.5)


class _NoOffset(tzinfo):
    """A zone that knows no offset: as unusable as no zone at all."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_add_business_seconds_refuses_bad_input(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_seconds(cal, datetime(2026, 3, 2, 10, tzinfo=_NoOffset()), 60)
    with pytest.raises(ValueError, match="aware"):
        add_business_seconds(cal, datetime(2026, 3, 2, 10), 60)
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(cal, at(2026, 3, 2, 10), -1)
    never = WorkCalendar(SH, time(9), time(18), frozenset())
    with pytest.raises(CalendarError):
        add_business_seconds(never, at(2026, 3, 2, 10), 60)


def test_business_seconds_between(cal: WorkCalendar) -> None:
    assert business_seconds_between(cal, at(2026, 3, 2, 10), at(2026, 3, 2, 12)) == 2 * H
    assert business_seconds_between(cal, at(2026, 3, 2, 7), at(2026, 3, 2, 20)) == 9 * H
    assert business_seconds_between(cal, at(2026, 3, 6, 17), at(2026, 3, 9, 10)) == 2 * H
    assert business_seconds_between(cal, at(2026, 2, 13, 9), at(2026, 2, 25, 9)) == 27 * H
    assert business_seconds_between(cal, at(2026, 9, 30, 12), at(2026, 10, 8, 12)) == 9 * H
    assert business_seconds_between(cal, at(2026, 3, 2, 12), at(2026, 3, 2, 12)) == 0
    assert business_seconds_between(cal, at(2026, 3, 2, 12), at(2026, 3, 2, 11)) == 0
    assert business_seconds_between(cal, at(2026, 3, 2, 18), at(2026, 3, 3, 9)) == 0
    # starting after closing time: the evening is no negative time
    assert business_seconds_between(cal, at(2026, 3, 2, 19), at(2026, 3, 3, 10)) == H
    assert business_seconds_between(cal, at(2026, 3, 2, 7), at(2026, 3, 2, 8)) == 0


def test_between_inverts_add(cal: WorkCalendar) -> None:
    start = at(2026, 2, 12, 15, 30)
    for hours in (0.5, 3, 9, 17.25, 40, 100):
        due = add_business_seconds(cal, start, hours * H)
        assert business_seconds_between(cal, start, due) == pytest.approx(hours * H)


# -- working days -----------------------------------------------------------------------------


def test_add_working_days(cal: WorkCalendar) -> None:
    assert add_working_days(cal, date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert add_working_days(cal, date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert add_working_days(cal, date(2026, 3, 5), 2) == date(2026, 3, 9)
    # Thu 12 Feb + 5: Fri 13, Sat 14 (make-up), Tue 24, Wed 25, Thu 26
    assert add_working_days(cal, date(2026, 2, 12), 5) == date(2026, 2, 26)
    # Tue 29 Sep + 5: Wed 30, Thu 8 Oct, Fri 9, Sat 10 (make-up), Mon 12
    assert add_working_days(cal, date(2026, 9, 29), 5) == date(2026, 10, 12)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(cal, date(2026, 3, 2), -1)
    with pytest.raises(CalendarError):
        add_working_days(WorkCalendar(SH, time(9), time(18), frozenset()), date(2026, 3, 2), 1)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert working_days_between(cal, date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert working_days_between(cal, date(2026, 3, 2), date(2026, 3, 1)) == 0
    assert working_days_between(cal, date(2026, 3, 2), date(2026, 3, 3)) == 1
    assert working_days_between(cal, date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert working_days_between(cal, date(2026, 2, 12), date(2026, 2, 26)) == 5
    assert working_days_between(cal, date(2026, 2, 12), date(2026, 2, 25)) == 4


def test_local_date(cal: WorkCalendar) -> None:
    assert local_date(cal, datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == date(2026, 3, 2)


def test_calendar_is_immutable_and_hashable(cal: WorkCalendar) -> None:
    import dataclasses

    field = "holidays"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cal, field, frozenset())
    assert hash(cal) == hash(dataclasses.replace(cal))
