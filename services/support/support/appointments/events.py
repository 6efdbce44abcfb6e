"""Events published by appointments (docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from ..contract_fields import CustomerData, _maybe, _text, _time
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


# --- published contracts ----------------------------------------------------------------------


class AppointmentData(Schema):
    appointment_id = _text()
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    technician_id = _maybe()
    starts_at = _time()
    kind = _text()
    urgent = fields.Boolean(required=True)
    priority_customer = fields.Boolean(required=True)
    customer = fields.Nested(CustomerData, required=True)
    at = _time()
    previous_starts_at = fields.DateTime(metadata={"description": "only on rescheduled"})


class ReminderData(Schema):
    appointment_id = _text()
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    technician_id = _maybe()
    starts_at = _time()
    customer = fields.Nested(CustomerData, required=True)
    at = _time()


publishes(APPOINTMENT_SCHEDULED, AppointmentData, subject="the appointment id",
          summary="A technician visit was booked")
publishes(APPOINTMENT_RESCHEDULED, AppointmentData, subject="the appointment id",
          summary="A technician visit moved to another time")
publishes(APPOINTMENT_CANCELLED, AppointmentData, subject="the appointment id",
          summary="A technician visit was cancelled")
publishes(APPOINTMENT_REMINDER_DUE, ReminderData, subject="the appointment id",
          summary="Time for the pre-arrival call to the customer")
