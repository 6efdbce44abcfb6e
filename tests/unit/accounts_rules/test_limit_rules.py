"""The §2.2 credit-limit formula and its windows, as pure functions (mutation-tested)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.limits.rules import (
    LimitInputs,
    add_months,
    on_time_rate,
    overdue_beyond,
    previous_period,
    sales_window,
)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),  # clamped to the month's end
    (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
    (date(2026, 12, 15), 1, date(2027, 1, 15)),  # over the year's end
    (date(2026, 1, 15), -1, date(2025, 12, 15)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 5, 10), 12, date(2027, 5, 10)),
    (date(2026, 5, 10), 0, date(2026, 5, 10)),
])
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_sales_window_is_the_last_months_including_today() -> None:
    assert sales_window(date(2026, 12, 1), 12) == (date(2025, 12, 1), date(2026, 12, 2))
    assert sales_window(date(2026, 3, 31), 1) == (date(2026, 2, 28), date(2026, 4, 1))


@pytest.mark.parametrize(("today", "months", "expected"), [
    (date(2026, 12, 1), 3, (date(2026, 7, 1), date(2026, 10, 1))),  # previous quarter
    (date(2026, 10, 1), 3, (date(2026, 7, 1), date(2026, 10, 1))),  # first day of a quarter
    (date(2026, 9, 30), 3, (date(2026, 4, 1), date(2026, 7, 1))),  # last day of a quarter
    (date(2026, 2, 14), 3, (date(2025, 10, 1), date(2026, 1, 1))),  # over the year's end
    (date(2026, 2, 14), 1, (date(2026, 1, 1), date(2026, 2, 1))),  # previous month
    (date(2026, 8, 14), 6, (date(2026, 1, 1), date(2026, 7, 1))),  # previous half-year
])
def test_previous_period_is_aligned_to_january(today: date, months: int,
                                               expected: tuple[date, date]) -> None:
    assert previous_period(today, months) == expected


def test_on_time_rate() -> None:
    default = Decimal("0.5")
    assert on_time_rate(Decimal("0"), Decimal("0"), default) == default  # nothing was due
    assert on_time_rate(Decimal("-1"), Decimal("0"), default) == default
    assert on_time_rate(Decimal("0.01"), Decimal("0"), default) == Decimal("0")
    assert on_time_rate(Decimal("300"), Decimal("100"), default) == Decimal("0.3333")
    assert on_time_rate(Decimal("300"), Decimal("200"), default) == Decimal("0.6667")
    assert on_time_rate(Decimal("100"), Decimal("100"), default) == Decimal("1")
    assert on_time_rate(Decimal("100"), Decimal("150"), default) == Decimal("1")  # capped


def test_standard_limit_is_average_times_rate_times_coefficient() -> None:
    inputs = LimitInputs(sales_total=Decimal("120000.00"), window_months=12,
                         due_last_period=Decimal("30000"), paid_on_time=Decimal("27000"),
                         rate=Decimal("0.9"), grade="B", coefficient=Decimal("1.2"))
    assert inputs.monthly_average == Decimal("10000.00")
    assert inputs.standard_limit == Decimal("10800.00")
    odd = LimitInputs(sales_total=Decimal("100.00"), window_months=3, due_last_period=Decimal("0"),
                      paid_on_time=Decimal("0"), rate=Decimal("1"), grade=None, coefficient=Decimal("1"))
    assert odd.monthly_average == Decimal("33.33")  # two places, half up
    assert LimitInputs(Decimal("200.00"), 3, Decimal("0"), Decimal("0"), Decimal("1"), None,
                       Decimal("1")).monthly_average == Decimal("66.67")
    assert str(odd.standard_limit) == "33.33"


def test_overdue_beyond_two_months_is_strictly_after() -> None:
    due = date(2026, 1, 31)
    assert not overdue_beyond(due, date(2026, 3, 31), 2)  # exactly two months: not yet
    assert overdue_beyond(due, date(2026, 4, 1), 2)
    assert not overdue_beyond(due, date(2026, 2, 1), 2)


def test_limit_inputs_cannot_change_after_the_computation() -> None:
    """The inputs shown beside a limit are the ones it was computed from."""
    import dataclasses

    inputs = LimitInputs(Decimal("1.00"), 1, Decimal("0"), Decimal("0"), Decimal("1"), None, Decimal("1"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        inputs.rate = Decimal("2")  # type: ignore[misc]
