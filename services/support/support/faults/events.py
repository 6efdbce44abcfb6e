"""Events published for major faults (docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from ..contract_fields import CustomerData, _maybe, _text, _time
from ..tickets.events import iso
from ..tickets.models import Ticket
from .models import MajorFault

MAJOR_FAULT_REPORTED = "support.major_fault.reported.v1"
MAJOR_FAULT_UPDATED = "support.major_fault.updated.v1"
MAJOR_FAULT_ANALYSIS_ISSUED = "support.major_fault.analysis_issued.v1"
PUBLISHED = (MAJOR_FAULT_REPORTED, MAJOR_FAULT_UPDATED, MAJOR_FAULT_ANALYSIS_ISSUED)


def reported_payload(
    fault: MajorFault, ticket: Ticket, account_owner_id: str | None, roles: list[str], at: datetime
) -> dict[str, Any]:
    return {
        "fault_id": fault.id,
        "ticket_id": fault.ticket_id,
        "account_id": fault.account_id,
        "code": ticket.code,
        "account_owner_id": account_owner_id,
        "owner_id": ticket.owner_id,
        "occurred_at": iso(fault.occurred_at),
        "place": fault.place,
        "symptoms": fault.symptoms,
        "plan": fault.plan,
        "roles": roles,
        "critical": True,
        "reported_by": fault.reported_by,
        "at": iso(at),
    }


def updated_payload(fault: MajorFault, ticket: Ticket, note: str, by: str, at: datetime) -> dict[str, Any]:
    return {
        "fault_id": fault.id,
        "ticket_id": fault.ticket_id,
        "account_id": fault.account_id,
        "code": ticket.code,
        "note": note,
        "by": by,
        "at": iso(at),
    }


def analysis_payload(
    fault: MajorFault, ticket: Ticket, account_owner_id: str | None, customer: dict[str, Any], at: datetime
) -> dict[str, Any]:
    return {
        "fault_id": fault.id,
        "ticket_id": fault.ticket_id,
        "account_id": fault.account_id,
        "code": ticket.code,
        "impact": fault.impact,
        "handling": fault.handling,
        "cause": fault.cause,
        "corrective_action": fault.corrective_action,
        "preventive_action": fault.preventive_action,
        "customer": customer,
        "account_owner_id": account_owner_id,
        "role": "sales_manager",
        "at": iso(at),
    }


# --- published contracts ----------------------------------------------------------------------


class FaultReportedData(Schema):
    fault_id = _text()
    ticket_id = _text(metadata={"format": "uuid"})
    account_id = _text()
    code = _text()
    account_owner_id = _maybe()
    owner_id = _text()
    occurred_at = fields.DateTime(required=True, allow_none=True)
    place = _maybe()
    symptoms = _maybe()
    plan = _maybe()
    roles = fields.List(fields.String(), required=True)
    critical = fields.Boolean(required=True)
    reported_by = _text()
    at = _time()


class FaultUpdatedData(Schema):
    fault_id = _text()
    ticket_id = _text(metadata={"format": "uuid"})
    account_id = _text()
    code = _text()
    note = _text()
    by = _text()
    at = _time()


class FaultAnalysisData(Schema):
    fault_id = _text()
    ticket_id = _text(metadata={"format": "uuid"})
    account_id = _text()
    code = _text()
    impact = _maybe()
    handling = _maybe()
    cause = _maybe()
    corrective_action = _maybe()
    preventive_action = _maybe()
    customer = fields.Nested(CustomerData, required=True)
    account_owner_id = _maybe()
    role = _text()
    at = _time()


publishes(MAJOR_FAULT_REPORTED, FaultReportedData, subject="the fault id",
          summary="A major fault was reported up the chain at once")
publishes(MAJOR_FAULT_UPDATED, FaultUpdatedData, subject="the fault id",
          summary="Progress on a major fault")
publishes(MAJOR_FAULT_ANALYSIS_ISSUED, FaultAnalysisData, subject="the fault id",
          summary="The analysis report of a major fault was issued")
