"""Pure greeting rules: which occasions are due on a local date, and who gets what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from ..policy.rules import NotifyPolicy

WEEKLY, HOLIDAY, CHRISTMAS, NEW_YEAR_GIFT = "weekly", "holiday", "christmas", "new_year_gift"
KINDS = (WEEKLY, HOLIDAY, CHRISTMAS, NEW_YEAR_GIFT)
# Which template (event type, channel) drafts each kind; gifts are a task list, not a message.
TEMPLATE = {
    WEEKLY: ("greeting.key_customer.v1", "sms"),
    HOLIDAY: ("greeting.holiday.v1", "sms"),
    CHRISTMAS: ("greeting.christmas.v1", "email"),
}


@dataclass(frozen=True)
class Occasion:
    kind: str
    key: str  # unique per occasion: with the account, what makes a draft once-only
    label: str


@lru_cache(maxsize=8)
def _china(year: int) -> dict[date, str]:
    """First day of each official holiday of ``year`` (make-up rest days and bridge days left out)."""
    first: dict[str, date] = {}
    for day, name in sorted(holidays.country_holidays("CN", years=year, language="zh_CN").items()):
        if "休息日" in name or "补假" in name:
            continue
        label = name.replace("农历", "")
        if label not in first or (day - first[label]).days > 10:
            first[label] = day
    return {d: n for n, d in first.items()}


def china_holidays_between(start: date, end: date) -> list[tuple[date, str]]:
    out = []
    for year in range(start.year, end.year + 1):
        out += [(d, n) for d, n in _china(year).items() if start <= d <= end]
    return sorted(out)


def due_occasions(local: datetime, policy: NotifyPolicy) -> list[Occasion]:
    """The greeting occasions to draft for on ``local`` (the organisation's local time)."""
    today = local.date()
    out: list[Occasion] = []
    if today.weekday() == policy.greeting_weekday:
        iso = today.isocalendar()
        out.append(Occasion(WEEKLY, f"weekly:{iso.year}-W{iso.week:02d}", "周末问候"))
    for day, name in china_holidays_between(
        today, today + timedelta(days=policy.holiday_greeting_days_before)
    ):
        out.append(Occasion(HOLIDAY, f"holiday:{day.isoformat()}", name))
    christmas = date(today.year, 12, 25)
    if christmas - timedelta(days=policy.christmas_card_days_before) <= today < christmas:
        out.append(Occasion(CHRISTMAS, f"christmas:{today.year}", "圣诞节"))
    if today.month == 12:
        out.append(Occasion(NEW_YEAR_GIFT, f"new_year_gift:{today.year}", f"{today.year + 1}年新年礼物"))
    return out


def recipients(kind: str, key_customer: bool, status: str, has_mobile: bool, has_email: bool) -> bool:
    """Weekly and holiday SMS go to key customers (§4.2 signed / about to sign / key-tracked /
    long-term important); cards and gifts to every active customer (§4.2 cards go out widely)."""
    if status != "active":
        return False
    if kind in (WEEKLY, HOLIDAY):
        return key_customer and has_mobile
    if kind == CHRISTMAS:
        return has_email
    return True
