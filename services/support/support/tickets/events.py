"""Events published by the tickets capability (payloads: docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from ..contract_fields import CustomerData, _maybe, _text, _time
from .models import Ticket

TICKET_OPENED = "support.ticket.opened.v1"
TICKET_ASSIGNED = "support.ticket.assigned.v1"
TICKET_HANDED_OVER = "support.ticket.handed_over.v1"
TICKET_STATUS_CHANGED = "support.ticket.status_changed.v1"
TICKET_REPEAT_CONTACT = "support.ticket.repeat_contact.v1"
TICKET_ESCALATED = "support.ticket.escalated.v1"
PUBLISHED = (
    TICKET_OPENED,
    TICKET_ASSIGNED,
    TICKET_HANDED_OVER,
    TICKET_STATUS_CHANGED,
    TICKET_REPEAT_CONTACT,
    TICKET_ESCALATED,
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def opened_payload(ticket: Ticket, account_owner_id: str | None, customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "kind": ticket.kind,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "created_by": ticket.created_by,
        "opened_at": iso(ticket.created_at),
        "owner_id": ticket.owner_id,
        "queue": ticket.queue,
        "channel": ticket.channel,
        "major": ticket.major,
        "follow_up_of": ticket.follow_up_of,
        "account_owner_id": account_owner_id,
        "customer": customer,
    }


def assigned_payload(ticket: Ticket, by: str, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "assignee_id": ticket.assignee_id,
        "queue": ticket.queue,
        "by": by,
        "at": iso(at),
    }


def handed_over_payload(ticket: Ticket, from_id: str, reason: str, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "from_id": from_id,
        "to_id": ticket.owner_id,
        "reason": reason,
        "at": iso(at),
    }


def status_changed_payload(
    ticket: Ticket, from_status: str, by: str, note: str | None, at: datetime, action: str
) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "from_status": from_status,
        "to_status": ticket.status,
        "action": action,
        "owner_id": ticket.owner_id,
        "assignee_id": ticket.assignee_id,
        "by": by,
        "note": note,
        "one_stop": ticket.one_stop,
        "at": iso(at),
    }


def repeat_contact_payload(ticket: Ticket, channel: str, count: int, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "owner_id": ticket.owner_id,
        "assignee_id": ticket.assignee_id,
        "channel": channel,
        "repeat_contacts": count,
        "at": iso(at),
    }


def escalated_payload(
    ticket: Ticket,
    level: int,
    role: str,
    user_id: str | None,
    reason: str,
    at: datetime,
    metric: str | None = None,
) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "level": level,
        "role": role,
        "user_id": user_id,
        "reason": reason,
        "metric": metric,
        "owner_id": ticket.owner_id,
        "kind": ticket.kind,
        "priority": ticket.priority,
        "at": iso(at),
    }


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------


class TicketOpenedData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text(metadata={"description": "T-000105"})
    account_id = _text()
    kind = _text()
    subject = _text()
    priority = _text(metadata={"description": "low, normal, high, urgent"})
    created_by = _text()
    opened_at = _time()
    owner_id = _text(metadata={"description": "the first responder"})
    queue = _text()
    channel = _text()
    major = fields.Boolean(required=True)
    follow_up_of = _maybe()
    account_owner_id = _maybe()
    customer = fields.Nested(CustomerData, required=True)


class TicketAssignedData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    assignee_id = _maybe()
    queue = _text()
    by = _text()
    at = _time()


class TicketHandedOverData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    from_id = _text()
    to_id = _text()
    reason = _text()
    at = _time()


class TicketStatusChangedData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    from_status = _text()
    to_status = _text()
    action = _text()
    owner_id = _text()
    assignee_id = _maybe()
    by = _text()
    note = _maybe()
    one_stop = fields.Boolean(required=True, allow_none=True)
    at = _time()


class TicketRepeatContactData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    owner_id = _text()
    assignee_id = _maybe()
    channel = _text()
    repeat_contacts = fields.Integer(required=True)
    at = _time()


class TicketEscalatedData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    level = fields.Integer(required=True)
    role = _text()
    user_id = _maybe()
    reason = _text()
    metric = _maybe()
    owner_id = _text()
    kind = _text()
    priority = _text()
    at = _time()


publishes(TICKET_OPENED, TicketOpenedData, subject="the ticket id",
          summary="A customer's contact was registered as a ticket")
publishes(TICKET_ASSIGNED, TicketAssignedData, subject="the ticket id", summary="A ticket was assigned")
publishes(TICKET_HANDED_OVER, TicketHandedOverData, subject="the ticket id",
          summary="A ticket's first responder handed it over, with a reason")
publishes(TICKET_STATUS_CHANGED, TicketStatusChangedData, subject="the ticket id",
          summary="A ticket moved through its lifecycle")
publishes(TICKET_REPEAT_CONTACT, TicketRepeatContactData, subject="the ticket id",
          summary="The customer contacted again about an open ticket")
publishes(TICKET_ESCALATED, TicketEscalatedData, subject="the ticket id",
          summary="A ticket was escalated a level up the chain")
