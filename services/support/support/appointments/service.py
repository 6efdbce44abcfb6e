"""Appointments: book (≥ N working days ahead, to the hour; urgent with a reason), reschedule with
the customer's recorded consent, cancel; the reminder one hour before arrival, sent once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from authn import Principal
from eventbus import ServiceBus

from ..db import claim_notice
from ..errors import Conflict, Invalid, NotFound
from ..policy.rules import SupportPolicy
from ..policy.service import current_policy
from ..readmodel import service as accounts
from ..readmodel.models import KnownAccount
from ..sla.service import business_calendar
from ..tickets import rules as ticket_rules
from ..tickets import service as tickets
from ..tickets.models import Ticket
from . import events, rules
from .models import Appointment, AppointmentChange

BATCH = 200


def _technician_free(
    session: Session,
    policy: SupportPolicy,
    technician_id: str,
    starts_at: datetime,
    except_id: str | None = None,
) -> None:
    span = timedelta(minutes=policy.appointment_duration_minutes)
    others = [
        a.starts_at
        for a in session.scalars(
            select(Appointment).where(
                Appointment.technician_id == technician_id,
                Appointment.status == "scheduled",
                Appointment.starts_at > starts_at - span,
                Appointment.starts_at < starts_at + span,
            )
        )
        if a.id != except_id
    ]
    if rules.busy(others, starts_at, policy.appointment_duration_minutes):
        raise Conflict(
            f"{technician_id} has another visit within "
            f"{policy.appointment_duration_minutes} minutes of that time"
        )


def get(session: Session, appointment_id: str, lock: bool = False) -> Appointment:
    appt = session.get(Appointment, appointment_id, with_for_update=lock)
    if appt is None:
        raise NotFound(f"no appointment {appointment_id}")
    return appt


def schedule(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> Appointment:
    policy = current_policy(session)
    if ticket.kind not in policy.appointment_kinds:
        raise Invalid({"ticket_id": f"Visits are booked for {', '.join(policy.appointment_kinds)} tickets."})
    if ticket.status not in ticket_rules.ACTIVE:
        raise Conflict(f"the ticket is {ticket.status}")
    cal = business_calendar(policy, now)
    errors = rules.schedule_errors(
        cal,
        now,
        body["starts_at"],
        policy.appointment_min_working_days,
        body["urgent"],
        body.get("urgent_reason"),
    )
    if errors:
        raise Invalid(errors)
    _technician_free(session, policy, body["technician_id"], body["starts_at"])
    account = session.get(KnownAccount, ticket.account_id)
    appt = Appointment(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        account_id=ticket.account_id,
        kind=ticket.kind,
        starts_at=body["starts_at"],
        technician_id=body["technician_id"],
        urgent=body["urgent"],
        urgent_reason=body.get("urgent_reason"),
        priority_customer=accounts.is_priority_customer(account, policy.priority_grades),
        status="scheduled",
        created_by=principal.sub,
        created_at=now,
        updated_at=now,
        version=1,
        remind_at=rules.remind_at(body["starts_at"], policy.appointment_reminder_minutes),
    )
    session.add(appt)
    session.add(
        AppointmentChange(
            appointment_id=appt.id,
            at=now,
            by=principal.sub,
            action="schedule",
            to_starts_at=appt.starts_at,
            note=body.get("note"),
        )
    )
    session.flush()
    if ticket.assignee_id is None:  # the technician who goes works the ticket
        tickets.transition(
            session,
            bus,
            ticket,
            tickets.Actor(principal.sub),
            "assign",
            f"visit booked for {appt.starts_at.isoformat()}",
            now,
            assignee_id=appt.technician_id,
        )
    bus.emit(
        session,
        events.APPOINTMENT_SCHEDULED,
        events.appointment_payload(appt, ticket, accounts.customer(account), now),
        subject=appt.id,
    )
    return appt


def reschedule(
    session: Session,
    bus: ServiceBus,
    appt: Appointment,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> Appointment:
    if appt.status != "scheduled":
        raise Conflict(f"the appointment is {appt.status}")
    policy = current_policy(session)
    cal = business_calendar(policy, now)
    errors = rules.reschedule_errors(cal, now, body["starts_at"], appt.starts_at, body.get("consent"))
    if errors:
        raise Invalid(errors)
    technician = body.get("technician_id") or appt.technician_id
    _technician_free(session, policy, technician, body["starts_at"], except_id=appt.id)
    previous = appt.starts_at
    consent = body["consent"]
    appt.starts_at, appt.technician_id = body["starts_at"], technician
    appt.remind_at = rules.remind_at(appt.starts_at, policy.appointment_reminder_minutes)
    appt.version += 1
    appt.updated_at = now
    session.add(
        AppointmentChange(
            appointment_id=appt.id,
            at=now,
            by=principal.sub,
            action="reschedule",
            from_starts_at=previous,
            to_starts_at=appt.starts_at,
            consent_by=consent["by"],
            consent_channel=consent["channel"],
            consent_at=consent.get("at") or now,
            note=body.get("note"),
        )
    )
    ticket = session.get(Ticket, appt.ticket_id)
    assert ticket is not None
    bus.emit(
        session,
        events.APPOINTMENT_RESCHEDULED,
        events.appointment_payload(
            appt, ticket, accounts.customer(session.get(KnownAccount, appt.account_id)), now, previous
        ),
        subject=appt.id,
    )
    return appt


def cancel(
    session: Session,
    bus: ServiceBus,
    appt: Appointment,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
) -> Appointment:
    if appt.status != "scheduled":
        raise Conflict(f"the appointment is {appt.status}")
    appt.status, appt.remind_at = "cancelled", None
    appt.version += 1
    appt.updated_at = now
    session.add(
        AppointmentChange(
            appointment_id=appt.id,
            at=now,
            by=principal.sub,
            action="cancel",
            from_starts_at=appt.starts_at,
            note=body["reason"],
        )
    )
    ticket = session.get(Ticket, appt.ticket_id)
    assert ticket is not None
    bus.emit(
        session,
        events.APPOINTMENT_CANCELLED,
        events.appointment_payload(
            appt, ticket, accounts.customer(session.get(KnownAccount, appt.account_id)), now
        ),
        subject=appt.id,
    )
    return appt


def changes(session: Session, appointment_id: str) -> list[AppointmentChange]:
    return list(
        session.scalars(
            select(AppointmentChange)
            .where(AppointmentChange.appointment_id == appointment_id)
            .order_by(AppointmentChange.id)
        )
    )


def run_reminders(
    session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime, batch: int = BATCH
) -> Counter[str]:
    """The technician's call one hour before arrival: one event per appointment time."""
    emitted: Counter[str] = Counter()
    while True:
        with session_factory() as session, session.begin():
            rows = list(
                session.scalars(
                    select(Appointment)
                    .where(Appointment.status == "scheduled", Appointment.remind_at <= now)
                    .order_by(Appointment.remind_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for appt in rows:
                appt.remind_at = None
                if appt.starts_at <= now:
                    continue  # booked or moved too late for a reminder; nothing to say now
                key = f"appointment:{appt.id}:{appt.starts_at.isoformat()}"
                if claim_notice(session, key, "appointment.reminder", appt.id, now):
                    ticket = session.get(Ticket, appt.ticket_id)
                    if ticket is not None:
                        bus.emit(
                            session,
                            events.APPOINTMENT_REMINDER_DUE,
                            events.reminder_payload(
                                appt,
                                ticket,
                                accounts.customer(session.get(KnownAccount, appt.account_id)),
                                now,
                            ),
                            subject=appt.id,
                        )
                        emitted[events.APPOINTMENT_REMINDER_DUE] += 1
        if len(rows) < batch:
            return emitted
