"""Events published by appointments (docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..tickets.events import iso
from ..tickets.models import Ticket
from .models import Appointment

APPOINTMENT_SCHEDULED = "support.appointment.scheduled.v1"
APPOINTMENT_RESCHEDULED = "support.appointment.rescheduled.v1"
APPOINTMENT_CANCELLED = "support.appointment.cancelled.v1"
APPOINTMENT_REMINDER_DUE = "support.appointment.reminder_due.v1"
PUBLISHED = (APPOINTMENT_SCHEDULED, APPOINTMENT_RESCHEDULED, APPOINTMENT_CANCELLED, APPOINTMENT_REMINDER_DUE)


def appointment_payload(
    appt: Appointment,
    ticket: Ticket,
    customer: dict[str, Any],
    at: datetime,
    previous_starts_at: datetime | None = None,
) -> dict[str, Any]:
    out = {
        "appointment_id": appt.id,
        "ticket_id": appt.ticket_id,
        "code": ticket.code,
        "account_id": appt.account_id,
        "technician_id": appt.technician_id,
        "starts_at": iso(appt.starts_at),
        "kind": appt.kind,
        "urgent": appt.urgent,
        "priority_customer": appt.priority_customer,
        "customer": customer,
        "at": iso(at),
    }
    if previous_starts_at is not None:
        out["previous_starts_at"] = iso(previous_starts_at)
    return out


def reminder_payload(
    appt: Appointment, ticket: Ticket, customer: dict[str, Any], at: datetime
) -> dict[str, Any]:
    return {
        "appointment_id": appt.id,
        "ticket_id": appt.ticket_id,
        "code": ticket.code,
        "technician_id": appt.technician_id,
        "starts_at": iso(appt.starts_at),
        "customer": customer,
        "at": iso(at),
    }
