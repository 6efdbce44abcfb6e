"""Events published by return visits (payloads: docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..tickets.events import iso
from .models import ReturnVisit

RETURN_VISIT_DUE = "support.return_visit.due.v1"
RETURN_VISIT_OVERDUE = "support.return_visit.overdue.v1"
RETURN_VISIT_RECORDED = "support.return_visit.recorded.v1"
PUBLISHED = (RETURN_VISIT_DUE, RETURN_VISIT_OVERDUE, RETURN_VISIT_RECORDED)


def due_payload(
    visit: ReturnVisit, code: str, account_owner_id: str | None, customer: dict[str, Any], at: datetime
) -> dict[str, Any]:
    return {
        "visit_id": visit.id,
        "ticket_id": visit.ticket_id,
        "project_id": visit.project_id,
        "account_id": visit.account_id,
        "code": code,
        "reason": visit.reason,
        "member": visit.member,
        "agent_id": visit.agent_id,
        "due_at": iso(visit.due_at),
        "account_owner_id": account_owner_id,
        "customer": customer,
        "at": iso(at),
    }


def recorded_payload(visit: ReturnVisit, at: datetime) -> dict[str, Any]:
    return {
        "visit_id": visit.id,
        "ticket_id": visit.ticket_id,
        "project_id": visit.project_id,
        "account_id": visit.account_id,
        "result": visit.result,
        "agent_id": visit.recorded_by,
        "follow_up_ticket_id": visit.follow_up_ticket_id,
        "at": iso(at),
    }
