"""Build the organisation's :class:`WorkCalendar` from the official calendar and the policy.

The official China calendar (statutory holidays and the make-up working days, 调休) comes from
the ``holidays`` package (pinned in constraints.txt): it knows each year the State Council has
published, and computes the statutory holidays by rule for later years, whose make-up days are
not known until published. For such a year an admin can add the published dates to the policy
(``extra_holidays`` / ``extra_workdays``) before the library catches up. ``chinese-calendar``
was the other candidate: it has the same 2026 data (checked day by day for 2025-2026) but stops
with an error at the first year it lacks (2027 today), which would break every SLA computed in
late December.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from ..policy.rules import SupportPolicy
from .rules import WorkCalendar

YEARS_BEFORE, YEARS_AFTER = 2, 3


@lru_cache(maxsize=64)
def official_days(country: str, first_year: int, last_year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, make-up working days) of ``country`` for the years given, from the library."""
    if not country:
        return frozenset(), frozenset()
    cal = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    return frozenset(cal.keys()), frozenset(getattr(cal, "weekend_workdays", ()))


def calendar_for(policy: SupportPolicy, year: int) -> WorkCalendar:
    """The calendar around ``year`` (a few years either side, so due times computed near New
    Year or over long targets stay on the official calendar)."""
    official_h, official_w = official_days(policy.official_holidays, year - YEARS_BEFORE, year + YEARS_AFTER)
    extra_h = frozenset(date.fromisoformat(d) for d in policy.extra_holidays)
    extra_w = frozenset(date.fromisoformat(d) for d in policy.extra_workdays)
    return WorkCalendar(
        tz=policy.tz,
        day_start=policy.day_start,
        day_end=policy.day_end,
        weekdays=frozenset(policy.business_weekdays),
        # The organisation's own working days win over an official holiday, and its own closures
        # over an official make-up day.
        holidays=(official_h - extra_w) | extra_h,
        workdays=(official_w - extra_h) | extra_w,
    )
