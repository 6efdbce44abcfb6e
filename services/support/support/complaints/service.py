"""The complaint flow's state changes: steps in order, sign-off and approvals, the end of the flow
(⑨ counted), grievance transfers after the policy's days, accountability entries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from authn import ADMIN, Principal
from eventbus import ServiceBus

from ..db import claim_notice
from ..errors import Conflict, Forbidden, Invalid
from ..policy.rules import SupportPolicy
from ..policy.service import current_policy
from ..tickets import rules as ticket_rules
from ..tickets import service as tickets
from ..tickets.models import Ticket, TicketHistory
from ..visits import service as visits
from . import events, rules
from .models import AccountabilityEntry, Complaint, ComplaintApproval, ComplaintStep

BATCH = 200


def get_complaint(session: Session, ticket: Ticket, policy: SupportPolicy) -> Complaint:
    if ticket.kind not in policy.complaint_kinds:
        raise Conflict(f"a {ticket.kind} ticket has no complaint flow")
    complaint = session.get(Complaint, ticket.id)
    if complaint is None:
        complaint = Complaint(
            ticket_id=ticket.id, step=0, currency=policy.currency, litigation=False, version=1
        )
        session.add(complaint)
        session.flush()
    return complaint


def _signed_at(session: Session, ticket_id: str) -> datetime | None:
    return session.scalar(
        select(ComplaintStep.at)
        .where(ComplaintStep.ticket_id == ticket_id, ComplaintStep.step == rules.SIGNED)
        .order_by(ComplaintStep.id.desc())
        .limit(1)
    )


def approvals_missing(session: Session, complaint: Complaint, policy: SupportPolicy) -> tuple[str, ...]:
    if complaint.step != rules.SIGNED:
        return ()
    required = rules.required_approvals(
        policy.complaint_approval_roles, complaint.compensation, policy.money("complaint_group_gm_threshold")
    )
    signed = _signed_at(session, complaint.ticket_id)
    approved: Iterable[str] = (
        session.scalars(
            select(ComplaintApproval.role).where(
                ComplaintApproval.ticket_id == complaint.ticket_id,
                ComplaintApproval.approved.is_(True),
                ComplaintApproval.at >= signed,
            )
        )
        if signed
        else []
    )
    return rules.missing_approvals(required, approved)


def state(session: Session, complaint: Complaint, policy: SupportPolicy) -> rules.State:
    return rules.State(
        step=complaint.step,
        problem_found=complaint.problem_found,
        satisfied=complaint.satisfied,
        approvals_missing=approvals_missing(session, complaint, policy),
    )


def record_step(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> Complaint:
    """Record the next step (an out-of-order step is 409; the sign-off needs its role, 403)."""
    policy = current_policy(session)
    complaint = get_complaint(session, ticket, policy)
    step = body["step"]
    try:
        rules.check_order(state(session, complaint, policy), step)
    except rules.OutOfOrder as exc:
        raise Conflict(str(exc)) from exc
    errors = rules.step_errors(step, body)
    if errors:
        raise Invalid(errors)
    if step == rules.SIGNED and not principal.has_any(policy.complaint_sign_role, ADMIN):
        raise Forbidden(f"⑤ is signed by the {policy.complaint_sign_role}")
    outcome = _apply(complaint, step, body, policy)
    complaint.step = step
    complaint.version += 1
    data = {
        k: (str(v) if isinstance(v, Decimal) else v)
        for k, v in body.items()
        if k not in ("step", "note") and v is not None
    }
    session.add(
        ComplaintStep(
            ticket_id=ticket.id,
            step=step,
            name=rules.NAMES[step],
            at=now,
            by=principal.sub,
            note=body.get("note"),
            data=data or None,
        )
    )
    actor = tickets.actor_of(principal)
    if ticket.status in (ticket_rules.NEW, ticket_rules.ASSIGNED):
        tickets.transition(session, bus, ticket, actor, "start", f"complaint {rules.LABELS[step]}", now)
    bus.emit(
        session,
        events.STEP_COMPLETED,
        events.step_payload(ticket, step, principal.sub, now, outcome),
        subject=ticket.id,
    )
    if rules.finishes(step, body):
        _finish(session, bus, ticket, complaint, actor, step, body, policy, now)
    return complaint


def _apply(complaint: Complaint, step: int, body: dict[str, Any], policy: SupportPolicy) -> str | None:
    if step == rules.CHECKED:
        complaint.problem_found = body["problem_found"]
        return "problem_found" if complaint.problem_found else "no_problem"
    if step == rules.TRIAGED:
        complaint.category = body["category"]
        return complaint.category
    if step == rules.PLANNED:
        complaint.plan = body["plan"]
        fee = body.get("compensation")
        complaint.compensation = Decimal(fee).quantize(Decimal("0.01")) if fee is not None else None
        return None
    if step == rules.NEGOTIATED:
        complaint.satisfied = body["satisfied"]
        return "satisfied" if complaint.satisfied else "not_satisfied"
    if step == rules.LITIGATION:
        complaint.litigation = True
    return None


def _finish(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    complaint: Complaint,
    actor: tickets.Actor,
    step: int,
    body: dict[str, Any],
    policy: SupportPolicy,
    now: datetime,
) -> None:
    """The flow ended: ⑨ counts it in this month's statistics; the ticket resolves (and, with no
    problem found, closes with the explanation; otherwise its return visit is planned)."""
    complaint.finished_at = now
    complaint.counted_month = now.astimezone(policy.tz).strftime("%Y-%m")
    complaint.step = rules.COUNTED
    session.add(
        ComplaintStep(
            ticket_id=ticket.id,
            step=rules.COUNTED,
            name=rules.NAMES[rules.COUNTED],
            at=now,
            by=tickets.SYSTEM,
            note=complaint.counted_month,
            data=None,
        )
    )
    bus.emit(
        session,
        events.STEP_COMPLETED,
        events.step_payload(ticket, rules.COUNTED, tickets.SYSTEM, now, complaint.counted_month),
        subject=ticket.id,
    )
    note = body.get("note") or rules.LABELS[step]
    if ticket.status in ticket_rules.ACTIVE:
        tickets.transition(session, bus, ticket, actor, "resolve", note, now)
    if step == rules.CHECKED:
        tickets.transition(session, bus, ticket, actor, "close", note, now)
    else:
        visits.after_resolution(session, bus, ticket, now)


def approve(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> Complaint:
    """An approval of the signed plan by one of the roles it needs; a rejection sends the
    complaint back to ④ for a new plan."""
    policy = current_policy(session)
    complaint = get_complaint(session, ticket, policy)
    if complaint.step != rules.SIGNED:
        raise Conflict("approvals come after ⑤ (the signed opinion) and before ⑥")
    missing = approvals_missing(session, complaint, policy)
    role = next((r for r in missing if principal.has_any(r)), None)
    if role is None:
        raise Forbidden(f"approvals still needed: {', '.join(missing) or 'none'}")
    session.add(
        ComplaintApproval(
            ticket_id=ticket.id,
            role=role,
            by=principal.sub,
            at=now,
            approved=body["approved"],
            note=body.get("note"),
        )
    )
    if not body["approved"]:
        complaint.step = rules.TRIAGED
        complaint.version += 1
    session.flush()
    return complaint


def record_accountability(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> list[AccountabilityEntry]:
    """§3.2d: a grievance found without a formal complaint (the employee, 100), a complaint to the
    executive (the manager and the employee, 100 each) — amounts from the policy."""
    policy = current_policy(session)
    if body["rule"] == "grievance_found":
        people = [(body["employee_id"], "employee", policy.money("penalty_grievance_found"))]
    else:
        amount = policy.money("penalty_executive_complaint")
        people = [(body["employee_id"], "employee", amount), (body.get("manager_id"), "manager", amount)]
    return _entries(
        session, bus, ticket, body["rule"], people, body.get("reason"), principal.sub, policy, now
    )


def _entries(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    rule: str,
    people: list[tuple[str | None, str, Decimal]],
    reason: str | None,
    by: str,
    policy: SupportPolicy,
    now: datetime,
) -> list[AccountabilityEntry]:
    rows = [
        AccountabilityEntry(
            ticket_id=ticket.id,
            rule=rule,
            person_id=person,
            person_role=role,
            amount=amount,
            currency=policy.currency,
            reason=reason,
            at=now,
            by=by,
        )
        for person, role, amount in people
    ]
    session.add_all(rows)
    bus.emit(
        session,
        events.ACCOUNTABILITY_RECORDED,
        events.accountability_payload(
            ticket,
            rule,
            [{"person_id": r.person_id, "person_role": r.person_role, "amount": r.amount} for r in rows],
            policy.currency,
            now,
        ),
        subject=ticket.id,
    )
    return rows


def steps(session: Session, ticket_id: str) -> list[ComplaintStep]:
    return list(
        session.scalars(
            select(ComplaintStep).where(ComplaintStep.ticket_id == ticket_id).order_by(ComplaintStep.id)
        )
    )


def approvals(session: Session, ticket_id: str) -> list[ComplaintApproval]:
    return list(
        session.scalars(
            select(ComplaintApproval)
            .where(ComplaintApproval.ticket_id == ticket_id)
            .order_by(ComplaintApproval.id)
        )
    )


# -- timers -----------------------------------------------------------------------------------


def run_grievances(
    session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime, batch: int = BATCH
) -> Counter[str]:
    """Grievances not resolved within the policy's days pass to another department's staff; the
    manager is told; the 500-yuan accountability entries are recorded (§3.2d), each once."""
    emitted: Counter[str] = Counter()
    while True:
        with session_factory() as session, session.begin():
            policy = current_policy(session)
            cutoff = now - timedelta(days=policy.grievance_days)
            rows = list(
                session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.kind.in_(policy.complaint_kinds),
                        Ticket.status.in_(ticket_rules.ACTIVE),
                        Ticket.created_at <= cutoff,
                        Ticket.grievance_transferred_at.is_(None),
                    )
                    .order_by(Ticket.created_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for ticket in rows:
                ticket.grievance_transferred_at = now
                if claim_notice(session, f"grievance:{ticket.id}", "grievance.transferred", ticket.id, now):
                    _transfer(session, bus, ticket, policy, now)
                    emitted[events.GRIEVANCE_TRANSFERRED] += 1
        if len(rows) < batch:
            return emitted


def _transfer(
    session: Session, bus: ServiceBus, ticket: Ticket, policy: SupportPolicy, now: datetime
) -> None:
    from_queue = ticket.queue
    ticket.queue = rules.transfer_queue(from_queue, policy.grievance_transfer_queues)
    employee = ticket.assignee_id or ticket.owner_id
    ticket.assignee_id = None
    ticket.version += 1
    ticket.updated_at = now
    session.add(
        TicketHistory(
            ticket_id=ticket.id,
            at=now,
            actor=tickets.SYSTEM,
            action="transfer",
            from_status=ticket.status,
            to_status=ticket.status,
            note=f"not resolved within {policy.grievance_days} days",
            data={"from_queue": from_queue, "to_queue": ticket.queue},
        )
    )
    bus.emit(
        session,
        events.GRIEVANCE_TRANSFERRED,
        events.transferred_payload(ticket, from_queue, policy.grievance_notify_role, now),
        subject=ticket.id,
    )
    amount = policy.money("penalty_unresolved")
    _entries(
        session,
        bus,
        ticket,
        "unresolved_in_time",
        [(employee, "employee", amount), (None, "manager", amount)],
        f"not resolved within {policy.grievance_days} days",
        tickets.SYSTEM,
        policy,
        now,
    )
