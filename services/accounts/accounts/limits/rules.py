"""Pure credit-limit rules (§2.2): limit = monthly average sales * last period's on-time
performance rate * grade coefficient; and the windows they are measured over."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..credit.money import ZERO, q


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier if negative), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def sales_window(today: date, months: int) -> tuple[date, date]:
    """[start, end): the last ``months`` months up to and including today."""
    return add_months(today, -months), date.fromordinal(today.toordinal() + 1)


def previous_period(today: date, months: int) -> tuple[date, date]:
    """[start, end) of the calendar period before the current one; periods of ``months``
    months are aligned to January (months = 3: the previous quarter)."""
    first_month = ((today.month - 1) // months) * months + 1
    current_start = date(today.year, first_month, 1)
    return add_months(current_start, -months), current_start


def on_time_rate(due: Decimal, paid_on_time: Decimal, no_history: Decimal) -> Decimal:
    """Share of the amount due last period that was paid by its due date (0..1, 4 places)."""
    if due <= ZERO:
        return no_history
    return min(Decimal(1), (paid_on_time / due).quantize(Decimal("0.0001")))


@dataclass(frozen=True)
class LimitInputs:
    sales_total: Decimal
    window_months: int
    due_last_period: Decimal
    paid_on_time: Decimal
    rate: Decimal
    grade: str | None
    coefficient: Decimal

    @property
    def monthly_average(self) -> Decimal:
        return q(self.sales_total / self.window_months)

    @property
    def standard_limit(self) -> Decimal:
        return q(self.monthly_average * self.rate * self.coefficient)


def overdue_beyond(due_on: date, today: date, months: int) -> bool:
    """Default liability (§2.7): unpaid more than ``months`` months after the due date."""
    return today > add_months(due_on, months)
