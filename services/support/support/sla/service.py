"""SLA clocks of tickets: started on opening, paused while waiting for the customer, met by the
first response and the resolution, and the timers that warn, report breaches and escalate.

Every change of a clock is a row of the ledger (append-only) in the transaction of the ticket
change that caused it. The timer pass claims due clocks with ``FOR UPDATE SKIP LOCKED`` and
each notice with a unique key, so several worker replicas never send one twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus

from ..db import claim_notice
from ..policy.rules import METRICS, SupportPolicy
from ..policy.service import current_policy
from ..tickets import rules as ticket_rules
from ..tickets.events import TICKET_ESCALATED, escalated_payload, iso
from ..tickets.models import Ticket
from ..workcal.rules import WorkCalendar
from ..workcal.service import calendar_for
from . import rules
from .events import SLA_BREACHED, SLA_WARNING, sla_payload
from .models import SlaClockRow, SlaLedger

log = logging.getLogger(__name__)
BATCH = 200
FIRST_RESPONSE, RESOLUTION = METRICS


def business_calendar(policy: SupportPolicy, now: datetime) -> WorkCalendar:
    """The calendar covers a few years around ``now`` (see workcal.service)."""
    return calendar_for(policy, now.year)


def _clock(row: SlaClockRow) -> rules.Clock:
    return rules.Clock(
        target_seconds=row.target_seconds,
        consumed_seconds=row.consumed_seconds,
        running_since=row.running_since,
        met_at=row.met_at,
    )


def _store(
    session: Session,
    row: SlaClockRow,
    clock: rules.Clock,
    cal: WorkCalendar,
    policy: SupportPolicy,
    action: str,
    now: datetime,
) -> None:
    row.target_seconds = clock.target_seconds
    row.consumed_seconds = clock.consumed_seconds
    row.running_since = clock.running_since
    row.met_at = clock.met_at
    row.attained = rules.attained(clock)
    row.due_at = rules.due_at(cal, clock)
    row.next_check_at = rules.next_threshold_at(
        cal, clock, row.notified_percent, policy.sla_warning_percent, policy.escalation_chain
    )
    session.add(
        SlaLedger(
            ticket_id=row.ticket_id,
            metric=row.metric,
            action=action,
            at=now,
            due_at=row.due_at,
            consumed_seconds=clock.consumed_seconds,
        )
    )


def start_clocks(session: Session, ticket: Ticket, policy: SupportPolicy, now: datetime) -> None:
    cal = business_calendar(policy, now)
    for metric in METRICS:
        target = policy.target_minutes(ticket.kind, ticket.priority, metric) * 60
        row = SlaClockRow(
            ticket_id=ticket.id,
            metric=metric,
            target_seconds=target,
            consumed_seconds=0.0,
            notified_percent=0,
        )
        session.add(row)
        _store(session, row, rules.start(target, now), cal, policy, "start", now)


def _rows(session: Session, ticket_id: str) -> dict[str, SlaClockRow]:
    rows = session.scalars(select(SlaClockRow).where(SlaClockRow.ticket_id == ticket_id))
    return {row.metric: row for row in rows}


def on_transition(
    session: Session, ticket: Ticket, from_status: str, to_status: str, policy: SupportPolicy, now: datetime
) -> None:
    """Move the ticket's clocks with its status: any action by staff is the first response;
    waiting for the customer pauses, leaving it resumes; resolving meets; reopening resumes."""
    cal = business_calendar(policy, now)
    rows = _rows(session, ticket.id)

    def change(metric: str, new: rules.Clock, action: str) -> None:
        row = rows.get(metric)
        if row is not None and new != _clock(row):
            _store(session, row, new, cal, policy, action, now)

    for metric, row in rows.items():
        clock = _clock(row)
        if metric == FIRST_RESPONSE:
            # Answering the customer (working, asking, resolving) is the first response; an
            # internal assignment is not.
            if to_status != ticket_rules.ASSIGNED:
                change(metric, rules.meet(cal, clock, now), "met")
            continue
        if to_status == ticket_rules.WAITING:
            change(metric, rules.pause(cal, clock, now), "pause")
        elif to_status in (ticket_rules.RESOLVED, ticket_rules.CLOSED):
            change(metric, rules.meet(cal, clock, now), "met")
        elif from_status == ticket_rules.WAITING:
            change(metric, rules.resume(clock, now), "resume")
        elif from_status in (ticket_rules.RESOLVED, ticket_rules.CLOSED):
            change(metric, rules.resume(clock, now), "reopen")


def retarget(session: Session, ticket: Ticket, policy: SupportPolicy, now: datetime) -> None:
    """The ticket's kind or priority changed: new targets, the time used still counts."""
    cal = business_calendar(policy, now)
    for metric, row in _rows(session, ticket.id).items():
        target = policy.target_minutes(ticket.kind, ticket.priority, metric) * 60
        if target != row.target_seconds:
            _store(session, row, rules.retarget(_clock(row), target), cal, policy, "retarget", now)


def clocks_view(
    session: Session, ticket_id: str, policy: SupportPolicy, now: datetime
) -> list[dict[str, Any]]:
    cal = business_calendar(policy, now)
    out = []
    for metric, row in sorted(_rows(session, ticket_id).items()):
        clock = _clock(row)
        used = rules.elapsed(cal, clock, now)
        out.append(
            {
                "metric": metric,
                "state": clock.state,
                "target_minutes": row.target_seconds / 60,
                "elapsed_minutes": round(used / 60, 2),
                "due_at": iso(row.due_at),
                "met_at": iso(row.met_at),
                "breached": used > row.target_seconds,
                "attained": row.attained,
                "percent_used": round(100 * used / row.target_seconds, 1),
            }
        )
    return out


# -- timers -----------------------------------------------------------------------------------


def run_timers(
    session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime, batch: int = BATCH
) -> Counter[str]:
    """Emit every warning, breach and escalation whose moment has come, each once."""
    emitted: Counter[str] = Counter()
    while True:
        with session_factory() as session, session.begin():
            policy = current_policy(session)
            cal = business_calendar(policy, now)
            rows = list(
                session.scalars(
                    select(SlaClockRow)
                    .where(SlaClockRow.next_check_at <= now)
                    .order_by(SlaClockRow.next_check_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                _fire(session, bus, row, cal, policy, now, emitted)
        if len(rows) < batch:
            return emitted


def _fire(
    session: Session,
    bus: ServiceBus,
    row: SlaClockRow,
    cal: WorkCalendar,
    policy: SupportPolicy,
    now: datetime,
    emitted: Counter[str],
) -> None:
    clock = _clock(row)
    plan = rules.plan(
        cal, clock, now, row.notified_percent, policy.sla_warning_percent, policy.escalation_chain
    )
    ticket = session.get(Ticket, row.ticket_id)
    if ticket is not None:
        for due in plan.due:
            _notify(session, bus, ticket, row, due, policy, now, emitted)
    row.notified_percent = plan.notified_percent
    row.next_check_at = plan.next_check_at


def _notify(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    row: SlaClockRow,
    due: rules.Due,
    policy: SupportPolicy,
    now: datetime,
    emitted: Counter[str],
) -> None:
    t = due.threshold
    key = f"sla:{ticket.id}:{row.metric}:{t.kind}:{t.percent}:{t.level}"
    if not claim_notice(session, key, f"sla.{t.kind}", ticket.id, now):
        return
    if t.kind == rules.WARNING:
        bus.emit(
            session,
            SLA_WARNING,
            sla_payload(ticket, row.metric, row.due_at, t.percent, now),
            subject=ticket.id,
        )
        emitted[SLA_WARNING] += 1
    elif t.kind == rules.BREACH:
        row.breached_at = due.at
        bus.emit(
            session,
            SLA_BREACHED,
            sla_payload(ticket, row.metric, row.due_at, t.percent, now),
            subject=ticket.id,
        )
        emitted[SLA_BREACHED] += 1
    else:
        ticket.escalation_level = max(ticket.escalation_level, t.level)
        bus.emit(
            session,
            TICKET_ESCALATED,
            escalated_payload(
                ticket,
                t.level,
                str(t.role),
                None,
                f"{row.metric} SLA at {t.percent} % of target",
                now,
                metric=row.metric,
            ),
            subject=ticket.id,
        )
        emitted[TICKET_ESCALATED] += 1
    session.add(
        SlaLedger(
            ticket_id=ticket.id,
            metric=row.metric,
            action=t.kind,
            at=due.at,
            due_at=row.due_at,
            consumed_seconds=row.consumed_seconds,
        )
    )


def chain_roles(chain: tuple[Mapping[str, Any], ...]) -> list[str]:
    return [str(step["role"]) for step in chain]
