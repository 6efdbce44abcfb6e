"""Events published by the SLA timers (payloads: docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
