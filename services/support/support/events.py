"""Contracts: the events support publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

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
