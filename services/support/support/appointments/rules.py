"""Appointment rules, pure (§3.4, §3.7): confirmed at least N working days ahead, to the hour;
sooner only as urgent with a reason; the call one hour before arrival; brand customers first.

「至少在预约5个工作日以前」「要求细化到小时」「在上门前1小时再次联系客户」「按品牌客户优先的原则」
「服务人员需在用户同意的前提下改约」.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..workcal.rules import WorkCalendar, local_date, working_days_between


def on_the_hour(cal: WorkCalendar, starts_at: datetime) -> bool:
    local = starts_at.astimezone(cal.tz)
    return local.minute == 0 and local.second == 0 and local.microsecond == 0


def schedule_errors(
    cal: WorkCalendar,
    now: datetime,
    starts_at: datetime,
    min_working_days: int,
    urgent: bool,
    urgent_reason: str | None,
) -> dict[str, str]:
    """Why ``starts_at`` may not be booked now (empty when it may)."""
    errors: dict[str, str] = {}
    if not on_the_hour(cal, starts_at):
        errors["starts_at"] = "Appointments are made to the hour (minutes and seconds 0)."
    elif starts_at <= now:
        errors["starts_at"] = "The appointment must be in the future."
    elif not urgent:
        ahead = working_days_between(cal, local_date(cal, now), local_date(cal, starts_at))
        if ahead < min_working_days:
            errors["starts_at"] = (
                f"Confirm at least {min_working_days} working days ahead "
                f"(this is {ahead}); sooner only as urgent with a reason."
            )
    if urgent and not (urgent_reason or "").strip():
        errors["urgent_reason"] = "An urgent appointment needs the reason."
    return errors


def reschedule_errors(
    cal: WorkCalendar,
    now: datetime,
    starts_at: datetime,
    current: datetime,
    consent: dict[str, object] | None,
) -> dict[str, str]:
    """A reschedule needs the customer's recorded consent (who agreed, how); the consented time
    needs no notice period, since the customer chose it, but stays to the hour and in the future."""
    errors: dict[str, str] = {}
    if not consent or not consent.get("by") or not consent.get("channel"):
        errors["consent"] = "Rescheduling needs the customer's consent: who agreed and how."
    if not on_the_hour(cal, starts_at):
        errors["starts_at"] = "Appointments are made to the hour (minutes and seconds 0)."
    elif starts_at <= now:
        errors["starts_at"] = "The appointment must be in the future."
    elif starts_at == current:
        errors["starts_at"] = "That is the current time of the appointment."
    return errors


def remind_at(starts_at: datetime, minutes: int) -> datetime:
    return starts_at - timedelta(minutes=minutes)


def overlaps(a: datetime, b: datetime, duration_minutes: int) -> bool:
    """Two visits of one technician collide if they start less than a visit's length apart."""
    return abs(a - b) < timedelta(minutes=duration_minutes)


@dataclass(frozen=True)
class Slot:
    id: str
    starts_at: datetime
    priority_customer: bool
    urgent: bool


def scheduling_order(slots: Iterable[Slot]) -> list[Slot]:
    """Urgent first, then brand / high-grade customers, then by time (§3.7 brand customers first)."""
    return sorted(slots, key=lambda s: (not s.urgent, not s.priority_customer, s.starts_at, s.id))


def busy(existing: Sequence[datetime], starts_at: datetime, duration_minutes: int) -> bool:
    return any(overlaps(other, starts_at, duration_minutes) for other in existing)
