"""Contracts: the events support publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from eventbus.contracts import publishes

from .models import Ticket

ACCOUNT_OPENED = "accounts.account.opened.v1"
TICKET_OPENED = "support.ticket.opened.v1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_opened_payload(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "kind": ticket.kind,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "created_by": ticket.created_by,
        "opened_at": _iso(ticket.created_at),
    }


class AccountOpenedIn(Schema):
    """What support reads of ``accounts.account.opened.v1`` for its read model of accounts."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(load_default=None, allow_none=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------

class TicketOpenedData(Schema):
    ticket_id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True, metadata={"description": "T-000001"})
    account_id = fields.String(required=True, metadata={"format": "uuid"})
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    priority = fields.String(required=True, metadata={"description": "low, normal, high, urgent"})
    created_by = fields.String(required=True)
    opened_at = fields.DateTime(required=True)


publishes(TICKET_OPENED, TicketOpenedData, subject="the ticket id",
          summary="A support ticket was opened for an account")
