"""Return visits: planned on resolution and for delivered projects, recorded with the script's
answer, 一般/不满意 → a follow-up ticket for the supervisor; the due / overdue timers."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from authn import Principal
from eventbus import ServiceBus

from ..db import claim_notice
from ..errors import Conflict, Invalid, NotFound
from ..policy.service import current_policy
from ..readmodel import service as accounts
from ..readmodel.models import KnownAccount
from ..tickets import rules as ticket_rules
from ..tickets import service as tickets
from ..tickets.models import Ticket
from . import events, rules
from .models import DeliveredProject, ReturnVisit, VisitScript

BATCH = 200


def _emit_due(session: Session, bus: ServiceBus, visit: ReturnVisit, now: datetime) -> None:
    account = session.get(KnownAccount, visit.account_id)
    ticket = session.get(Ticket, visit.ticket_id) if visit.ticket_id else None
    code = ticket.code if ticket else (account.code if account else "")
    bus.emit(
        session,
        events.RETURN_VISIT_DUE,
        events.due_payload(
            visit, code, account.owner_id if account else None, accounts.customer(account), now
        ),
        subject=visit.id,
    )


def after_resolution(session: Session, bus: ServiceBus, ticket: Ticket, now: datetime) -> ReturnVisit | None:
    """Plan the return visit of a resolved ticket (members always; others as policy samples),
    due within ``return_visit_days`` of the resolution; once per ticket."""
    if ticket.kind == "follow_up":
        return None  # the follow-up of a visit is not visited again
    if session.scalar(
        select(ReturnVisit.id).where(ReturnVisit.ticket_id == ticket.id, ReturnVisit.status == "due")
    ):
        return None
    policy = current_policy(session)
    account = session.get(KnownAccount, ticket.account_id)
    member = bool(account and account.member)
    if not rules.needs_visit(ticket.id, member, policy.member_visit_percent, policy.other_visit_percent):
        return None
    visit = ReturnVisit(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        project_id=None,
        account_id=ticket.account_id,
        reason=rules.RESOLUTION,
        member=member,
        due_at=rules.due_after(ticket.resolved_at or now, policy.return_visit_days),
        agent_id=ticket.owner_id,
        status="due",
        created_at=now,
        version=1,
    )
    session.add(visit)
    session.flush()
    _emit_due(session, bus, visit, now)
    return visit


def get_visit(session: Session, visit_id: str, lock: bool = False) -> ReturnVisit:
    visit = session.get(ReturnVisit, visit_id, with_for_update=lock)
    if visit is None:
        raise NotFound(f"no return visit {visit_id}")
    return visit


def record(
    session: Session,
    bus: ServiceBus,
    visit: ReturnVisit,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> ReturnVisit:
    """Record the customer's answer. 一般 / 不满意 open a follow-up ticket for the supervisor; the
    visited ticket, if still resolved, closes (its lifecycle ends with the return visit)."""
    if visit.status != "due":
        raise Conflict("this return visit is already recorded")
    if body.get("script_id") and session.get(VisitScript, body["script_id"]) is None:
        raise Invalid({"script_id": "Unknown script."})
    visit.status, visit.result = "done", body["result"]
    visit.answers, visit.note, visit.channel = body.get("answers"), body.get("note"), body["channel"]
    visit.script_id = body.get("script_id")
    visit.recorded_at, visit.recorded_by = now, principal.sub
    visit.version += 1
    ticket = session.get(Ticket, visit.ticket_id) if visit.ticket_id else None
    if rules.needs_follow_up(visit.result):
        label = rules.LABELS[visit.result]
        origin = f" {ticket.code}" if ticket else ""
        follow = tickets.create_follow_up(
            session,
            bus,
            visit.account_id,
            ticket,
            principal.sub,
            f"回访{label}: follow-up{origin}",
            visit.note,
            now,
        )
        visit.follow_up_ticket_id = follow.id
    if ticket is not None and ticket.status == ticket_rules.RESOLVED:
        tickets.transition(
            session,
            bus,
            ticket,
            tickets.actor_of(principal),
            "close",
            f"return visit: {rules.LABELS[visit.result]}",
            now,
        )
    session.flush()
    bus.emit(session, events.RETURN_VISIT_RECORDED, events.recorded_payload(visit, now), subject=visit.id)
    return visit


# -- delivered projects -----------------------------------------------------------------------


def register_project(
    session: Session, principal: Principal, body: dict[str, Any], now: datetime
) -> DeliveredProject:
    if session.get(KnownAccount, body["account_id"]) is None:
        raise Invalid({"account_id": "Unknown account."})
    policy = current_policy(session)
    project = DeliveredProject(
        id=str(uuid.uuid4()),
        account_id=body["account_id"],
        name=body["name"],
        delivered_on=body["delivered_on"],
        visits_planned=0,
        active=True,
        created_by=principal.sub,
        created_at=now,
        next_visit_on=rules.project_visit_on(
            body["delivered_on"],
            1,
            policy.project_first_period_months,
            policy.project_first_period_every_months,
            policy.project_later_every_months,
        ),
    )
    session.add(project)
    session.flush()
    return project


# -- timers -----------------------------------------------------------------------------------


def run_due(
    session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime, batch: int = BATCH
) -> Counter[str]:
    """Plan the delivered projects' visits whose notice period has begun (due event) and tell
    about every visit past due (overdue event), each once."""
    emitted: Counter[str] = Counter()
    _plan_projects(session_factory, bus, now, batch, emitted)
    while True:
        with session_factory() as session, session.begin():
            visits = list(
                session.scalars(
                    select(ReturnVisit)
                    .where(
                        ReturnVisit.status == "due",
                        ReturnVisit.due_at < now,
                        ReturnVisit.overdue_notified_at.is_(None),
                    )
                    .order_by(ReturnVisit.due_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for visit in visits:
                visit.overdue_notified_at = now
                if claim_notice(session, f"visit:overdue:{visit.id}", "visit.overdue", visit.id, now):
                    account = session.get(KnownAccount, visit.account_id)
                    ticket = session.get(Ticket, visit.ticket_id) if visit.ticket_id else None
                    code = ticket.code if ticket else (account.code if account else "")
                    bus.emit(
                        session,
                        events.RETURN_VISIT_OVERDUE,
                        events.due_payload(
                            visit,
                            code,
                            account.owner_id if account else None,
                            accounts.customer(account),
                            now,
                        ),
                        subject=visit.id,
                    )
                    emitted[events.RETURN_VISIT_OVERDUE] += 1
        if len(visits) < batch:
            return emitted


def _plan_projects(
    session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime, batch: int, emitted: Counter[str]
) -> None:
    while True:
        with session_factory() as session, session.begin():
            policy = current_policy(session)
            today = now.astimezone(policy.tz).date()
            horizon = date.fromordinal(today.toordinal() + policy.project_visit_notice_days)
            projects = list(
                session.scalars(
                    select(DeliveredProject)
                    .where(DeliveredProject.active.is_(True), DeliveredProject.next_visit_on <= horizon)
                    .order_by(DeliveredProject.next_visit_on)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for project in projects:
                n = project.visits_planned + 1
                if claim_notice(session, f"project:{project.id}:{n}", "visit.due", project.id, now):
                    account = session.get(KnownAccount, project.account_id)
                    visit = ReturnVisit(
                        id=str(uuid.uuid4()),
                        ticket_id=None,
                        project_id=project.id,
                        account_id=project.account_id,
                        reason=rules.PROJECT,
                        member=bool(account and account.member),
                        agent_id=None,
                        status="due",
                        due_at=datetime.combine(project.next_visit_on, time(23, 59, 59), tzinfo=policy.tz),
                        created_at=now,
                        version=1,
                    )
                    session.add(visit)
                    session.flush()
                    _emit_due(session, bus, visit, now)
                    emitted[events.RETURN_VISIT_DUE] += 1
                project.visits_planned = n
                project.next_visit_on = rules.project_visit_on(
                    project.delivered_on,
                    n + 1,
                    policy.project_first_period_months,
                    policy.project_first_period_every_months,
                    policy.project_later_every_months,
                )
        if len(projects) < batch:
            return
