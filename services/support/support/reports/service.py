"""The reports' figures, computed in the database (one aggregate pass per table and period), so
a month of a million-ticket desk stays a few index range scans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..complaints.models import AccountabilityEntry, Complaint
from ..faults.models import MajorFault
from ..policy.rules import SupportPolicy
from ..readmodel.models import KnownAccount
from ..sla.models import SlaClockRow
from ..sla.service import business_calendar
from ..tickets import rules as ticket_rules
from ..tickets.models import Ticket
from ..visits import rules as visit_rules
from ..visits.models import ReturnVisit
from ..workcal.rules import business_seconds_between
from . import rules

EXAMPLES_LIMIT = 100


def _grouped(session: Session, column: Any, *where: Any) -> dict[str, int]:
    return {
        str(k): int(n)
        for k, n in session.execute(
            select(column, func.count()).where(*where).group_by(column).order_by(column)
        )
    }


def _satisfaction(session: Session, start: datetime, end: datetime, *extra: Any) -> dict[str, Any]:
    counts = _grouped(
        session,
        ReturnVisit.result,
        ReturnVisit.status == "done",
        ReturnVisit.recorded_at >= start,
        ReturnVisit.recorded_at < end,
        *extra,
    )
    total = sum(counts.values())
    return {
        "recorded": total,
        **{
            r: {
                "label": visit_rules.LABELS[r],
                "count": counts.get(r, 0),
                "share": rules.rate(counts.get(r, 0), total),
            }
            for r in visit_rules.RESULTS
        },
    }


def complaint_statistics(session: Session, policy: SupportPolicy, month: str) -> dict[str, Any]:
    """月度客诉统计 (⑨): complaints received and counted in the month, by kind and category,
    time to resolve (business and calendar hours), satisfaction, litigation, accountability."""
    start, end = rules.month_window(month, policy.tz)
    kinds = policy.complaint_kinds
    received = _grouped(
        session, Ticket.kind, Ticket.kind.in_(kinds), Ticket.created_at >= start, Ticket.created_at < end
    )
    counted = session.execute(
        select(
            Ticket.kind,
            Complaint.category,
            Complaint.problem_found,
            Complaint.satisfied,
            Complaint.litigation,
            Complaint.compensation,
            Ticket.created_at,
            Complaint.finished_at,
        )
        .join(Ticket, Ticket.id == Complaint.ticket_id)
        .where(Complaint.counted_month == month)
    ).all()
    cal = business_calendar(policy, start)
    business, calendar_h = [], []
    by_kind: dict[str, int] = {}
    by_category = {"quality": 0, "non_quality": 0, "no_problem_found": 0}
    satisfied = not_satisfied = litigation = 0
    compensation = Decimal("0.00")
    for kind, category, problem, sat, lit, comp, created, finished in counted:
        by_kind[kind] = by_kind.get(kind, 0) + 1
        if problem is False:
            by_category["no_problem_found"] += 1
        elif category in by_category:
            by_category[category] += 1
        satisfied += sat is True
        not_satisfied += sat is False
        litigation += bool(lit)
        compensation += comp or Decimal("0")
        if created and finished:
            business.append(business_seconds_between(cal, created, finished) / 3600)
            calendar_h.append((finished - created).total_seconds() / 3600)
    open_now = (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.kind.in_(kinds), Ticket.status.in_(ticket_rules.ACTIVE), Ticket.created_at < end)
        )
        or 0
    )
    penalties = session.execute(
        select(AccountabilityEntry.rule, func.count(), func.sum(AccountabilityEntry.amount))
        .where(AccountabilityEntry.at >= start, AccountabilityEntry.at < end)
        .group_by(AccountabilityEntry.rule)
        .order_by(AccountabilityEntry.rule)
    ).all()
    complaint_tickets = select(Ticket.id).where(Ticket.kind.in_(kinds))
    return {
        "report": "月度客诉统计 monthly complaint statistics",
        "month": month,
        "timezone": policy.timezone,
        "currency": policy.currency,
        "received": {"total": sum(received.values()), "by_kind": received},
        "counted": {
            "total": len(counted),
            "by_kind": by_kind,
            "by_category": by_category,
            "negotiation": {"satisfied": satisfied, "not_satisfied": not_satisfied},
            "litigation": litigation,
            "compensation": f"{compensation:.2f}",
        },
        "time_to_resolve_business_hours": rules.hours_summary(business),
        "time_to_resolve_calendar_hours": rules.hours_summary(calendar_h),
        "satisfaction": _satisfaction(session, start, end, ReturnVisit.ticket_id.in_(complaint_tickets)),
        "open_at_month_end": open_now,
        "accountability": {
            rule: {"entries": int(n), "amount": f"{Decimal(total or 0):.2f}"} for rule, n, total in penalties
        },
    }


def _ticket_totals(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """The period's ticket counts: one range scan of the opening index, and one each of the
    resolution and closing indexes (an OR of the three windows would read the whole table)."""
    opened = session.execute(
        select(
            func.count(),
            func.count().filter(Ticket.one_stop.is_(True)),
            func.count().filter(Ticket.repeat_contacts > 0),
            func.coalesce(func.sum(Ticket.repeat_contacts), 0),
            func.count().filter(Ticket.major.is_(True)),
            func.count().filter(Ticket.escalation_level > 0),
        ).where(Ticket.created_at >= start, Ticket.created_at < end)
    ).one()
    resolved = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.resolved_at >= start, Ticket.resolved_at < end)
    )
    closed = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.closed_at >= start, Ticket.closed_at < end)
    )
    keys = (
        "opened",
        "one_stop",
        "with_repeat_contact",
        "repeat_contacts",
        "major",
        "escalated",
        "resolved",
        "closed",
    )
    return dict(zip(keys, (int(v or 0) for v in (*opened, resolved, closed)), strict=True))


def _intake(session: Session, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """Tickets opened in the period by kind, queue and channel, from one grouped scan."""
    out: dict[str, dict[str, int]] = {"by_kind": {}, "by_queue": {}, "by_channel": {}}
    rows = session.execute(
        select(Ticket.kind, Ticket.queue, Ticket.channel, func.count())
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(Ticket.kind, Ticket.queue, Ticket.channel)
    )
    for kind, queue, channel, n in rows:
        for key, value in (("by_kind", kind), ("by_queue", queue), ("by_channel", channel)):
            out[key][value] = out[key].get(value, 0) + int(n)
    return {key: dict(sorted(counts.items())) for key, counts in out.items()}


def _sla(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    rows = session.execute(
        select(
            SlaClockRow.metric,
            func.count(),
            func.count().filter(SlaClockRow.met_at.is_not(None)),
            func.count().filter(SlaClockRow.attained.is_(True)),
            func.count().filter(SlaClockRow.breached_at.is_not(None)),
        )
        .join(Ticket, Ticket.id == SlaClockRow.ticket_id)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(SlaClockRow.metric)
        .order_by(SlaClockRow.metric)
    ).all()
    return {
        metric: {
            "tickets": int(n),
            "met": int(met),
            "met_in_target": int(ok),
            "breached": int(breached),
            "attainment": rules.rate(int(ok), int(met)),
        }
        for metric, n, met, ok, breached in rows
    }


def _coverage(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Members whose tickets were resolved in the period, and how many got their return visit."""
    member_resolved = (
        select(Ticket.id)
        .join(KnownAccount, KnownAccount.account_id == Ticket.account_id)
        .where(
            KnownAccount.member.is_(True),
            Ticket.resolved_at >= start,
            Ticket.resolved_at < end,
            Ticket.kind != "follow_up",
        )
    )
    total = session.scalar(select(func.count()).select_from(member_resolved.subquery())) or 0
    visited = (
        session.scalar(
            select(func.count(func.distinct(ReturnVisit.ticket_id))).where(
                ReturnVisit.status == "done", ReturnVisit.ticket_id.in_(member_resolved)
            )
        )
        or 0
    )
    return {"member_tickets_resolved": total, "visited": visited, "coverage": rules.rate(visited, total)}


def supervision(session: Session, policy: SupportPolicy, month: str) -> dict[str, Any]:
    """服务监督报告 (month-end, to the general manager): intake, SLA attainment, one-stop and
    repeat-contact rates, return-visit coverage, satisfaction, escalations and major faults."""
    start, end = rules.month_window(month, policy.tz)
    totals = _ticket_totals(session, start, end)
    faults = (
        session.scalar(
            select(func.count())
            .select_from(MajorFault)
            .where(MajorFault.reported_at >= start, MajorFault.reported_at < end)
        )
        or 0
    )
    return {
        "report": "服务监督报告 service supervision report",
        "month": month,
        "timezone": policy.timezone,
        "intake": {"total": totals["opened"], **_intake(session, start, end)},
        "resolved": totals["resolved"],
        "closed": totals["closed"],
        "sla": _sla(session, start, end),
        "one_stop": {"tickets": totals["one_stop"], "rate": rules.rate(totals["one_stop"], totals["opened"])},
        "repeat_contact": {
            "tickets": totals["with_repeat_contact"],
            "contacts": totals["repeat_contacts"],
            "rate": rules.rate(totals["with_repeat_contact"], totals["opened"]),
        },
        "return_visits": _coverage(session, start, end),
        "satisfaction": _satisfaction(session, start, end),
        "escalations": {
            "tickets_escalated": totals["escalated"],
            "major_matters": totals["major"],
            "major_faults": faults,
        },
        "backlog": session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status.in_(ticket_rules.ACTIVE), Ticket.created_at < end)
        )
        or 0,
    }


def weekly(session: Session, policy: SupportPolicy, day: date) -> dict[str, Any]:
    """The Friday weekly summary: the week's tickets, customer feedback, breaches, faults."""
    friday, start, end = rules.week_window(day, policy.tz)
    totals = _ticket_totals(session, start, end)
    feedback = session.execute(
        select(ReturnVisit.id, ReturnVisit.result, ReturnVisit.note, ReturnVisit.account_id)
        .where(
            ReturnVisit.status == "done",
            ReturnVisit.recorded_at >= start,
            ReturnVisit.recorded_at < end,
            ReturnVisit.result != visit_rules.SATISFIED,
        )
        .order_by(ReturnVisit.recorded_at)
        .limit(EXAMPLES_LIMIT)
    ).all()
    breaches = _grouped(
        session, SlaClockRow.metric, SlaClockRow.breached_at >= start, SlaClockRow.breached_at < end
    )
    faults = session.execute(
        select(MajorFault.id, MajorFault.place, MajorFault.status)
        .where(MajorFault.reported_at >= start, MajorFault.reported_at < end)
        .order_by(MajorFault.reported_at)
    ).all()
    return {
        "report": "周报 weekly summary",
        "week_ending": friday.isoformat(),
        "timezone": policy.timezone,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tickets": totals,
        "by_kind": _grouped(session, Ticket.kind, Ticket.created_at >= start, Ticket.created_at < end),
        "sla_breaches": breaches,
        "satisfaction": _satisfaction(session, start, end),
        "feedback": [
            {"visit_id": v, "result": visit_rules.LABELS.get(r or "", r), "note": n, "account_id": a}
            for v, r, n, a in feedback
        ],
        "major_faults": [{"fault_id": f, "place": p, "status": s} for f, p, s in faults],
        "backlog": session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.status.in_(ticket_rules.ACTIVE))
        )
        or 0,
    }


def visit_summary(session: Session, policy: SupportPolicy, first: date, last: date) -> dict[str, Any]:
    """回访总结报告: the visits due in the period, how many were made and on time, coverage of
    members, the answers by branch, the follow-ups they opened, what the unhappy ones said."""
    start, end = rules.day_window(first, last, policy.tz)
    due = (ReturnVisit.due_at >= start, ReturnVisit.due_at < end)
    row = session.execute(
        select(
            func.count(),
            func.count().filter(ReturnVisit.status == "done"),
            func.count().filter(ReturnVisit.status == "done", ReturnVisit.recorded_at <= ReturnVisit.due_at),
            func.count().filter(ReturnVisit.status == "due", ReturnVisit.due_at < end),
            func.count().filter(ReturnVisit.member.is_(True)),
            func.count().filter(ReturnVisit.member.is_(True), ReturnVisit.status == "done"),
            func.count().filter(ReturnVisit.follow_up_ticket_id.is_not(None)),
        ).where(*due)
    ).one()
    total, done, on_time, open_, members, members_done, follow_ups = (int(v or 0) for v in row)
    unhappy = session.execute(
        select(ReturnVisit.id, ReturnVisit.result, ReturnVisit.note, ReturnVisit.follow_up_ticket_id)
        .where(*due, ReturnVisit.status == "done", ReturnVisit.result != visit_rules.SATISFIED)
        .order_by(ReturnVisit.recorded_at)
        .limit(EXAMPLES_LIMIT)
    ).all()
    by_reason = _grouped(session, ReturnVisit.reason, *due)
    results = _grouped(session, ReturnVisit.result, *due, ReturnVisit.status == "done")
    return {
        "report": "回访总结报告 return-visit summary",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "timezone": policy.timezone,
        "due": total,
        "done": done,
        "on_time": on_time,
        "not_done": open_,
        "on_time_rate": rules.rate(on_time, total),
        "by_reason": by_reason,
        "members": {"due": members, "done": members_done, "coverage": rules.rate(members_done, members)},
        "results": {
            r: {
                "label": visit_rules.LABELS[r],
                "count": results.get(r, 0),
                "share": rules.rate(results.get(r, 0), done),
            }
            for r in visit_rules.RESULTS
        },
        "follow_up_tickets": follow_ups,
        "unhappy": [
            {"visit_id": v, "result": visit_rules.LABELS.get(r or "", r), "note": n, "follow_up_ticket_id": f}
            for v, r, n, f in unhappy
        ],
    }
