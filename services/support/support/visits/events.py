"""Events published by return visits (payloads: docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from ..contract_fields import CustomerData, _maybe, _text, _time
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


# --- published contracts ----------------------------------------------------------------------


class ReturnVisitDueData(Schema):
    visit_id = _text()
    ticket_id = _maybe()
    project_id = _maybe()
    account_id = _text()
    code = _text()
    reason = _text()
    member = fields.Boolean(required=True, allow_none=True)
    agent_id = _maybe()
    due_at = _time()
    account_owner_id = _maybe()
    customer = fields.Nested(CustomerData, required=True)
    at = _time()


class ReturnVisitRecordedData(Schema):
    visit_id = _text()
    ticket_id = _maybe()
    project_id = _maybe()
    account_id = _text()
    result = _maybe(metadata={"description": "satisfied, neutral or unsatisfied"})
    agent_id = _maybe()
    follow_up_ticket_id = _maybe()
    at = _time()


publishes(RETURN_VISIT_DUE, ReturnVisitDueData, subject="the visit id",
          summary="A return visit (回访) is due")
publishes(RETURN_VISIT_OVERDUE, ReturnVisitDueData, subject="the visit id",
          summary="A return visit is past its due time")
publishes(RETURN_VISIT_RECORDED, ReturnVisitRecordedData, subject="the visit id",
          summary="A return visit's result was recorded")
