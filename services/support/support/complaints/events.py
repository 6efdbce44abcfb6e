"""Events published by the complaint flow and the grievance rules (docs/events/support.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from ..contract_fields import _maybe, _text, _time
from ..tickets.events import iso
from ..tickets.models import Ticket
from . import rules

STEP_COMPLETED = "support.complaint.step_completed.v1"
GRIEVANCE_TRANSFERRED = "support.grievance.transferred.v1"
ACCOUNTABILITY_RECORDED = "support.complaint.accountability_recorded.v1"
PUBLISHED = (STEP_COMPLETED, GRIEVANCE_TRANSFERRED, ACCOUNTABILITY_RECORDED)


def step_payload(ticket: Ticket, step: int, by: str, at: datetime, outcome: str | None) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "step": step,
        "step_name": rules.NAMES[step],
        "label": rules.LABELS[step],
        "outcome": outcome,
        "owner_id": ticket.owner_id,
        "by": by,
        "at": iso(at),
    }


def transferred_payload(ticket: Ticket, from_department: str, role: str, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "account_id": ticket.account_id,
        "from_department": from_department,
        "to_department": ticket.queue,
        "to_user": None,
        "owner_id": ticket.owner_id,
        "role": role,
        "at": iso(at),
    }


def accountability_payload(
    ticket: Ticket, rule: str, entries: list[dict[str, Any]], currency: str, at: datetime
) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "code": ticket.code,
        "rule": rule,
        "currency": currency,
        "entries": [
            {
                "person_id": e["person_id"],
                "person_role": e["person_role"],
                "amount": f"{Decimal(e['amount']):.2f}",
            }
            for e in entries
        ],
        "at": iso(at),
    }


# --- published contracts ----------------------------------------------------------------------


class StepCompletedData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    step = fields.Integer(required=True)
    step_name = _text()
    label = _text()
    outcome = _maybe()
    owner_id = _text()
    by = _text()
    at = _time()


class TransferredData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    account_id = _text()
    from_department = _text()
    to_department = _text()
    to_user = _maybe()
    owner_id = _text()
    role = _text()
    at = _time()


class AccountabilityEntryData(Schema):
    person_id = _text()
    person_role = _text()
    amount = _text(metadata={"format": "decimal", "description": "two places"})


class AccountabilityData(Schema):
    ticket_id = _text(metadata={"format": "uuid"})
    code = _text()
    rule = _text()
    currency = _text()
    entries = fields.List(fields.Nested(AccountabilityEntryData), required=True)
    at = _time()


publishes(STEP_COMPLETED, StepCompletedData, subject="the ticket id",
          summary="A step of the nine-step complaint flow was completed")
publishes(GRIEVANCE_TRANSFERRED, TransferredData, subject="the ticket id",
          summary="A grievance was transferred to the responsible department")
publishes(ACCOUNTABILITY_RECORDED, AccountabilityData, subject="the ticket id",
          summary="Accountability (fines/compensation shares) for a complaint was recorded")
