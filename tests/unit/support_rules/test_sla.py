"""SLA clocks on business time: due times, pauses, warning, breach, escalation chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from support.policy.rules import DEFAULT_ESCALATION, SupportPolicy
from support.sla import rules
from support.sla.rules import Clock
from support.workcal.rules import WorkCalendar
from support.workcal.service import calendar_for

SH = ZoneInfo("Asia/Shanghai")
H = 3600


def at(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return calendar_for(SupportPolicy(), 2026)


def test_due_time_is_business_time(cal: WorkCalendar) -> None:
    assert rules.due_time(cal, at(3, 2, 10), 4 * H) == at(3, 2, 14)
    assert rules.due_time(cal, at(3, 2, 10), 4 * H, consumed=3 * H) == at(3, 2, 11)
    assert rules.due_time(cal, at(3, 2, 10), 4 * H, consumed=5 * H) == at(3, 2, 10)  # overdue: now
    # Spring Festival and National Day weeks
    assert rules.due_time(cal, at(2, 13, 15), 27 * H) == at(2, 25, 15)
    assert rules.due_time(cal, at(9, 30, 12), 9 * H) == at(10, 8, 12)


def test_running_clock(cal: WorkCalendar) -> None:
    clock = rules.start(4 * H, at(3, 2, 16))
    assert clock.state == rules.RUNNING
    assert rules.due_at(cal, clock) == at(3, 3, 11)
    assert rules.elapsed(cal, clock, at(3, 3, 10)) == 3 * H
    assert not rules.breached(cal, clock, at(3, 3, 11))
    assert rules.breached(cal, clock, at(3, 3, 11, 1))
    assert rules.threshold_at(cal, clock, 50) == at(3, 2, 18)
    assert rules.attained(clock) is None


def test_pause_stops_the_clock_and_resume_goes_on(cal: WorkCalendar) -> None:
    clock = rules.start(4 * H, at(3, 2, 9))
    paused = rules.pause(cal, clock, at(3, 2, 12))
    assert paused.state == rules.PAUSED and paused.consumed_seconds == 3 * H
    assert rules.due_at(cal, paused) is None and rules.threshold_at(cal, paused, 80) is None
    assert rules.elapsed(cal, paused, at(3, 9, 12)) == 3 * H  # a week waiting costs nothing
    assert rules.pause(cal, paused, at(3, 3, 12)) is paused
    resumed = rules.resume(paused, at(3, 5, 17))
    assert resumed.state == rules.RUNNING and rules.due_at(cal, resumed) == at(3, 5, 18)
    assert rules.resume(resumed, at(3, 6, 9)) is resumed


def test_meet_and_attainment(cal: WorkCalendar) -> None:
    clock = rules.start(4 * H, at(3, 2, 9))
    met = rules.meet(cal, clock, at(3, 2, 13))
    assert met.state == rules.MET and met.met_at == at(3, 2, 13) and rules.attained(met) is True
    assert rules.meet(cal, met, at(3, 2, 17)) is met
    assert rules.due_at(cal, met) is None
    late = rules.meet(cal, clock, at(3, 2, 13, 1))
    assert rules.attained(late) is False
    reopened = rules.resume(late, at(3, 4, 9))
    assert reopened.met_at is None and reopened.consumed_seconds == late.consumed_seconds
    assert rules.attained(Clock(4 * H, consumed_seconds=4 * H, met_at=at(3, 2, 13))) is True


def test_retarget_keeps_time_used(cal: WorkCalendar) -> None:
    clock = rules.pause(cal, rules.start(4 * H, at(3, 2, 9)), at(3, 2, 10))
    assert rules.retarget(clock, 2 * H).consumed_seconds == H
    assert rules.retarget(clock, 2 * H).target_seconds == 2 * H


def test_thresholds_order() -> None:
    ts = rules.thresholds(80, DEFAULT_ESCALATION)
    assert [(t.percent, t.kind, t.level, t.role) for t in ts] == [
        (80, "warning", 0, None),
        (100, "breach", 0, None),
        (100, "escalation", 1, "support_supervisor"),
        (150, "escalation", 2, "sales_gm"),
        (200, "escalation", 3, "group_gm"),
    ]


def test_plan_walks_the_thresholds(cal: WorkCalendar) -> None:
    clock = rules.start(10 * H, at(3, 2, 9))  # due Tue 3 Mar 10:00
    # 80 % of 10 h = 8 h → Mon 17:00
    p = rules.plan(cal, clock, at(3, 2, 12), 0, 80, DEFAULT_ESCALATION)
    assert p.due == [] and p.notified_percent == 0 and p.next_check_at == at(3, 2, 17)
    p = rules.plan(cal, clock, at(3, 2, 17), 0, 80, DEFAULT_ESCALATION)
    assert [d.threshold.kind for d in p.due] == ["warning"] and p.notified_percent == 80
    assert p.due[0].at == at(3, 2, 17) and p.next_check_at == at(3, 3, 10)
    p = rules.plan(cal, clock, at(3, 3, 10), 80, 80, DEFAULT_ESCALATION)
    assert [(d.threshold.kind, d.threshold.level) for d in p.due] == [("breach", 0), ("escalation", 1)]
    assert p.notified_percent == 100 and p.next_check_at == at(3, 3, 15)  # 150 % = 15 h
    p = rules.plan(cal, clock, at(3, 9, 9), 100, 80, DEFAULT_ESCALATION)
    assert [d.threshold.level for d in p.due] == [2, 3] and p.next_check_at is None
    assert p.notified_percent == 200
    assert rules.plan(cal, clock, at(3, 9, 9), 200, 80, DEFAULT_ESCALATION).due == []


def test_plan_catches_up_everything_at_once(cal: WorkCalendar) -> None:
    clock = rules.start(H, at(3, 2, 9))
    p = rules.plan(cal, clock, at(3, 20, 9), 0, 80, DEFAULT_ESCALATION)
    assert [d.threshold.kind for d in p.due] == [
        "warning",
        "breach",
        "escalation",
        "escalation",
        "escalation",
    ]
    assert [d.at for d in p.due][:2] == [at(3, 2, 9, 48), at(3, 2, 10)]


def test_paused_clock_plans_nothing(cal: WorkCalendar) -> None:
    clock = rules.pause(cal, rules.start(H, at(3, 2, 9)), at(3, 2, 9, 30))
    assert rules.plan(cal, clock, at(3, 20, 9), 0, 80, DEFAULT_ESCALATION) == rules.Plan([], 0, None)


def test_clock_helpers_reject_naive_times(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        rules.due_time(cal, datetime(2026, 3, 2, 9), H)
    assert rules.due_time(cal, datetime(2026, 3, 2, 1, tzinfo=UTC), 0) == at(3, 2, 9)


def test_next_threshold_at(cal: WorkCalendar) -> None:
    clock = rules.start(10 * H, at(3, 2, 9))
    assert rules.next_threshold_at(cal, clock, 0, 80, DEFAULT_ESCALATION) == at(3, 2, 17)
    assert rules.next_threshold_at(cal, clock, 79, 80, DEFAULT_ESCALATION) == at(3, 2, 17)
    assert rules.next_threshold_at(cal, clock, 80, 80, DEFAULT_ESCALATION) == at(3, 3, 10)
    assert rules.next_threshold_at(cal, clock, 100, 80, DEFAULT_ESCALATION) == at(3, 3, 15)
    assert rules.next_threshold_at(cal, clock, 150, 80, DEFAULT_ESCALATION) == at(3, 4, 11)
    assert rules.next_threshold_at(cal, clock, 200, 80, DEFAULT_ESCALATION) is None
    paused = rules.pause(cal, clock, at(3, 2, 10))
    assert rules.next_threshold_at(cal, paused, 0, 80, DEFAULT_ESCALATION) is None
    # already past: still the moment it came, so the timer picks the clock up at once
    late = rules.start(H, at(3, 2, 9))
    assert rules.next_threshold_at(cal, late, 0, 50, ()) == at(3, 2, 9, 30)


def test_values_are_immutable() -> None:
    import dataclasses

    clock = rules.start(H, at(3, 2, 9))
    threshold = rules.Threshold(80, rules.WARNING)
    due = rules.Due(threshold, at(3, 2, 9))
    plan = rules.Plan([due], 80, None)
    for value, field in (
        (clock, "target_seconds"),
        (threshold, "percent"),
        (due, "at"),
        (plan, "notified_percent"),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, 1)
    assert len({threshold, rules.Threshold(80, rules.WARNING)}) == 1


def test_attained_breached_and_fractional_thresholds(cal: WorkCalendar) -> None:
    early = rules.meet(cal, rules.start(4 * H, at(3, 2, 9)), at(3, 2, 12))
    assert rules.attained(early) is True and early.consumed_seconds == 3 * H
    clock = rules.start(4 * H, at(3, 2, 9))
    assert not rules.breached(cal, clock, at(3, 2, 10))
    assert not rules.breached(cal, clock, at(3, 2, 13))
    assert rules.breached(cal, clock, at(3, 2, 14))
    odd = rules.start(1001, at(3, 2, 9))
    assert rules.threshold_at(cal, odd, 50) == at(3, 2, 9) + timedelta(seconds=500.5)
