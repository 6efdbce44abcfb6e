"""Events published by the SLA timers (payloads: docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from ..contract_fields import _maybe, _text, _time
from ..tickets.events import iso
from ..tickets.models import Ticket

SLA_WARNING = "support.sla.warning.v1"
SLA_BREACHED = "support.sla.breached.v1"
PUBLISHED = (SLA_WARNING, SLA_BREACHED)


def sla_payload(
    ticket: Ticket, metric: str, due_at: datetime | None, percent: int, at: datetime
) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "metric": metric,
        "due_at": iso(due_at),
        "owner_id": ticket.owner_id,
        "assignee_id": ticket.assignee_id,
        "role": "support_supervisor",
        "kind": ticket.kind,
        "priority": ticket.priority,
        "percent": percent,
        "at": iso(at),
    }


# --- published contracts ----------------------------------------------------------------------


class SlaData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    metric = _text(metadata={"description": "first_response or resolution"})
    due_at = fields.DateTime(required=True, allow_none=True)
    owner_id = _text()
    assignee_id = _maybe()
    role = _text(metadata={"description": "the role told (support_supervisor)"})
    kind = _text()
    priority = _text()
    percent = fields.Integer(required=True, metadata={"description": "share of the target used"})
    at = _time()


publishes(SLA_WARNING, SlaData, subject="the ticket id",
          summary="A ticket used the warning share of its SLA target (business hours)")
publishes(SLA_BREACHED, SlaData, subject="the ticket id", summary="A ticket missed its SLA target")
