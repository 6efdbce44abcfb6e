"""Major faults (§3.8): the report (time, place, symptoms, handling plan) tells the departments,
the account owner, the responsible manager and management at once; tracking notes until it is
over; then the fault analysis report goes to the customer and the business department."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authn import Principal
from eventbus import ServiceBus

from ..errors import Conflict, Invalid, NotFound
from ..policy.service import current_policy
from ..readmodel import service as accounts
from ..readmodel.models import KnownAccount
from ..tickets import service as tickets
from ..tickets.models import Ticket
from . import events
from .models import FaultUpdate, MajorFault


def report(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> MajorFault:
    if session.scalar(select(MajorFault.id).where(MajorFault.ticket_id == ticket.id)):
        raise Conflict("this ticket's major fault is already reported")
    if body["occurred_at"] > now:
        raise Invalid({"occurred_at": "A fault cannot have occurred in the future."})
    policy = current_policy(session)
    fault = MajorFault(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        account_id=ticket.account_id,
        occurred_at=body["occurred_at"],
        place=body["place"],
        symptoms=body["symptoms"],
        plan=body["plan"],
        status="open",
        reported_by=principal.sub,
        reported_at=now,
        version=1,
    )
    session.add(fault)
    session.flush()
    if not ticket.major:
        ticket.major = True
        tickets.escalate_major(session, bus, ticket, policy, principal.sub, now)
    account = session.get(KnownAccount, ticket.account_id)
    bus.emit(
        session,
        events.MAJOR_FAULT_REPORTED,
        events.reported_payload(
            fault, ticket, account.owner_id if account else None, list(policy.major_fault_roles), now
        ),
        subject=fault.id,
    )
    return fault


def get(session: Session, fault_id: str, lock: bool = False) -> MajorFault:
    fault = session.get(MajorFault, fault_id, with_for_update=lock)
    if fault is None:
        raise NotFound(f"no major fault {fault_id}")
    return fault


def track(
    session: Session, bus: ServiceBus, fault: MajorFault, principal: Principal, note: str, now: datetime
) -> FaultUpdate:
    if fault.status != "open":
        raise Conflict("the fault is analysed and closed")
    update = FaultUpdate(fault_id=fault.id, at=now, by=principal.sub, note=note)
    session.add(update)
    fault.version += 1
    ticket = session.get(Ticket, fault.ticket_id)
    assert ticket is not None
    bus.emit(
        session,
        events.MAJOR_FAULT_UPDATED,
        events.updated_payload(fault, ticket, note, principal.sub, now),
        subject=fault.id,
    )
    return update


def issue_analysis(
    session: Session,
    bus: ServiceBus,
    fault: MajorFault,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> MajorFault:
    if fault.status != "open":
        raise Conflict("the analysis is already issued")
    for name in ("impact", "handling", "cause", "corrective_action", "preventive_action"):
        setattr(fault, name, body[name])
    fault.status, fault.analysed_at, fault.analysed_by = "analysed", now, principal.sub
    fault.version += 1
    ticket = session.get(Ticket, fault.ticket_id)
    assert ticket is not None
    account = session.get(KnownAccount, fault.account_id)
    bus.emit(
        session,
        events.MAJOR_FAULT_ANALYSIS_ISSUED,
        events.analysis_payload(
            fault, ticket, account.owner_id if account else None, accounts.customer(account), now
        ),
        subject=fault.id,
    )
    return fault


def updates(session: Session, fault_id: str) -> list[FaultUpdate]:
    return list(
        session.scalars(select(FaultUpdate).where(FaultUpdate.fault_id == fault_id).order_by(FaultUpdate.id))
    )
