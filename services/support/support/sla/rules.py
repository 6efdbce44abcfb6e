"""SLA clocks, pure: due times on business time, pauses, warning, breach and the escalation chain.

A clock counts business seconds against a target. It runs from the ticket's opening, pauses while
the ticket waits for the customer (the time paused never counts) and stops when its metric is
met (first response: the first action by staff; resolution: resolved). A reopened ticket resumes
its resolution clock where it stopped, so a breach is never hidden by resolving and reopening.

Thresholds are shares of the target: the warning (policy, default 80 %), the breach (100 %) and
each step of the escalation chain (100 %, 150 %, 200 % by default). :func:`plan` says which of
them have come and when to look again; the scheduler emits each once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..workcal.rules import WorkCalendar, add_business_seconds, business_seconds_between

WARNING, BREACH, ESCALATION = "warning", "breach", "escalation"
RUNNING, PAUSED, MET = "running", "paused", "met"


def due_time(cal: WorkCalendar, start: datetime, target_seconds: float, consumed: float = 0.0) -> datetime:
    """When a target of ``target_seconds`` business seconds falls due for a clock that (re)started
    at ``start`` having already used ``consumed`` seconds. The pure function the SLA is built on."""
    return add_business_seconds(cal, start, max(0.0, target_seconds - consumed))


@dataclass(frozen=True)
class Clock:
    target_seconds: int
    consumed_seconds: float = 0.0  # business seconds used before ``running_since``
    running_since: datetime | None = None  # None: paused or met
    met_at: datetime | None = None

    @property
    def state(self) -> str:
        if self.met_at is not None:
            return MET
        return RUNNING if self.running_since is not None else PAUSED


def start(target_seconds: int, now: datetime) -> Clock:
    return Clock(target_seconds=target_seconds, running_since=now)


def elapsed(cal: WorkCalendar, clock: Clock, now: datetime) -> float:
    """Business seconds used so far."""
    if clock.running_since is None:
        return clock.consumed_seconds
    return clock.consumed_seconds + business_seconds_between(cal, clock.running_since, now)


def due_at(cal: WorkCalendar, clock: Clock) -> datetime | None:
    """When the target falls due if the clock keeps running; None while paused or met."""
    if clock.running_since is None:
        return None
    return due_time(cal, clock.running_since, clock.target_seconds, clock.consumed_seconds)


def threshold_at(cal: WorkCalendar, clock: Clock, percent: int) -> datetime | None:
    """When ``percent`` % of the target will have been used; None while paused or met."""
    if clock.running_since is None:
        return None
    return due_time(cal, clock.running_since, clock.target_seconds * percent / 100, clock.consumed_seconds)


def pause(cal: WorkCalendar, clock: Clock, now: datetime) -> Clock:
    if clock.running_since is None:
        return clock
    return dataclasses.replace(clock, consumed_seconds=elapsed(cal, clock, now), running_since=None)


def resume(clock: Clock, now: datetime) -> Clock:
    if clock.running_since is not None:
        return clock
    return dataclasses.replace(clock, running_since=now, met_at=None)


def meet(cal: WorkCalendar, clock: Clock, now: datetime) -> Clock:
    if clock.met_at is not None:
        return clock
    return dataclasses.replace(
        clock, consumed_seconds=elapsed(cal, clock, now), running_since=None, met_at=now
    )


def retarget(clock: Clock, target_seconds: int) -> Clock:
    """A new target (priority or kind changed); the time already used still counts."""
    return dataclasses.replace(clock, target_seconds=target_seconds)


def breached(cal: WorkCalendar, clock: Clock, now: datetime) -> bool:
    return elapsed(cal, clock, now) > clock.target_seconds


def attained(clock: Clock) -> bool | None:
    """For reports: met within target (True), met late (False), not met yet (None)."""
    if clock.met_at is None:
        return None
    return clock.consumed_seconds <= clock.target_seconds


@dataclass(frozen=True)
class Threshold:
    percent: int
    kind: str  # warning | breach | escalation
    level: int = 0  # escalation level (1..n), 0 otherwise
    role: str | None = None


def thresholds(warning_percent: int, chain: Sequence[Mapping[str, object]]) -> list[Threshold]:
    """Every threshold in the order they come (at equal percent: breach before escalation)."""
    out = [Threshold(warning_percent, WARNING), Threshold(100, BREACH)]
    out += [
        Threshold(int(str(step["percent"])), ESCALATION, level, str(step["role"]))
        for level, step in enumerate(chain, start=1)
    ]
    order = {WARNING: 0, BREACH: 1, ESCALATION: 2}
    return sorted(out, key=lambda t: (t.percent, order[t.kind], t.level))


@dataclass(frozen=True)
class Due:
    threshold: Threshold
    at: datetime  # when the threshold was reached


@dataclass(frozen=True)
class Plan:
    due: list[Due]
    notified_percent: int  # the highest percent notified after this pass
    next_check_at: datetime | None


def plan(
    cal: WorkCalendar,
    clock: Clock,
    now: datetime,
    notified_percent: int,
    warning_percent: int,
    chain: Sequence[Mapping[str, object]],
) -> Plan:
    """Which thresholds above ``notified_percent`` have come by ``now``, and when the next will.

    A paused or met clock has nothing due and nothing to wait for (its next check is set again
    when it resumes)."""
    if clock.running_since is None:
        return Plan([], notified_percent, None)
    due: list[Due] = []
    highest = notified_percent
    for t in thresholds(warning_percent, chain):
        if t.percent <= notified_percent:
            continue
        at = threshold_at(cal, clock, t.percent)
        assert at is not None  # running
        if at > now:
            return Plan(due, highest, at)
        due.append(Due(t, at))
        highest = max(highest, t.percent)
    return Plan(due, highest, None)


def next_threshold_at(
    cal: WorkCalendar,
    clock: Clock,
    notified_percent: int,
    warning_percent: int,
    chain: Sequence[Mapping[str, object]],
) -> datetime | None:
    """When the first threshold above ``notified_percent`` comes (possibly already past): the
    moment the scheduler must look at this clock again. None when paused, met or all notified."""
    if clock.running_since is None:
        return None
    for t in thresholds(warning_percent, chain):
        if t.percent > notified_percent:
            return threshold_at(cal, clock, t.percent)
    return None
