"""Return-visit rules, pure: who gets a visit, when it is due, the delivered-project cadence,
the satisfaction branches of the script.

§3.6 「必须保证在三天之内回访」 (due within 3 days of resolution), 「必须保证会员客户的100%的回访」
(every member customer), 【满意/一般/不满意】 (the script's three answers); §3.6/§3.8
「一年内项目每月回访一次」「一年以上的项目每季回访一次」 (delivered projects).
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import date, datetime, timedelta

SATISFIED, NEUTRAL, DISSATISFIED = "satisfied", "neutral", "dissatisfied"
RESULTS = (SATISFIED, NEUTRAL, DISSATISFIED)
LABELS = {SATISFIED: "满意", NEUTRAL: "一般", DISSATISFIED: "不满意"}
RESOLUTION, PROJECT = "resolution", "project"
REASONS = (RESOLUTION, PROJECT)


def sampled(key: str, percent: int) -> bool:
    """A stable ``percent`` % sample: the same key always gets the same answer."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 < percent


def needs_visit(ticket_id: str, member: bool, member_percent: int, other_percent: int) -> bool:
    """Members get a return visit at ``member_percent`` (100 % by the documents), others at
    ``other_percent`` (the documents state none: 0 % by default)."""
    return sampled(ticket_id, member_percent if member else other_percent)


def due_after(resolved_at: datetime, days: int) -> datetime:
    return resolved_at + timedelta(days=days)


def needs_follow_up(result: str) -> bool:
    """一般 or 不满意 opens a follow-up ticket for the supervisor."""
    return result in (NEUTRAL, DISSATISFIED)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def project_visit_on(
    delivered_on: date, n: int, first_period_months: int, first_every: int, later_every: int
) -> date:
    """The date of a delivered project's ``n``-th return visit (n ≥ 1): every ``first_every``
    months during its first ``first_period_months`` months, every ``later_every`` after."""
    if n < 1:
        raise ValueError("visits are numbered from 1")
    in_first = first_period_months // first_every
    if n <= in_first:
        return add_months(delivered_on, n * first_every)
    return add_months(delivered_on, first_period_months + (n - in_first) * later_every)


def overdue(due_at: datetime, now: datetime, done: bool) -> bool:
    return not done and now > due_at
