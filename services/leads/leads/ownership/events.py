"""Contracts of the ownership events leads publishes (catalogue: docs/events.md)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes
from leads.intake.models import Lead
from leads.ownership.models import OwnerChangeRow

LEAD_ASSIGNED = "leads.lead.assigned.v1"
LEAD_REASSIGNED = "leads.lead.reassigned.v1"


def assigned_payload(lead: Lead, change: OwnerChangeRow) -> dict[str, Any]:
    """The first owner of a lead (its registration, or the referrer's owner for a referral)."""
    return {
        "lead_id": lead.id,
        "code": lead.code,
        "owner_id": change.to_owner,
        "owner_team": change.to_team,
        "rule": change.rule,
        "actor": change.actor,
        "at": change.at.isoformat(),
    }


def reassigned_payload(lead: Lead, change: OwnerChangeRow) -> dict[str, Any]:
    return {
        "lead_id": lead.id,
        "code": lead.code,
        "from_owner": change.from_owner,
        "from_team": change.from_team,
        "to_owner": change.to_owner,
        "to_team": change.to_team,
        "rule": change.rule,
        "reason": change.reason,
        "actor": change.actor,
        "at": change.at.isoformat(),
    }


PUBLISHED = (LEAD_ASSIGNED, LEAD_REASSIGNED)


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------

class LeadAssignedData(Schema):
    lead_id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(required=True, allow_none=True)
    rule = fields.String(required=True)
    actor = fields.String(required=True)
    at = fields.DateTime(required=True)


class LeadReassignedData(Schema):
    lead_id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True)
    from_owner = fields.String(required=True)
    from_team = fields.String(required=True, allow_none=True)
    to_owner = fields.String(required=True)
    to_team = fields.String(required=True, allow_none=True)
    rule = fields.String(required=True)
    reason = fields.String(required=True)
    actor = fields.String(required=True)
    at = fields.DateTime(required=True)


publishes(LEAD_ASSIGNED, LeadAssignedData, subject="the lead id",
          summary="A lead got its first owner (registration, referral or rotation)")
publishes(LEAD_REASSIGNED, LeadReassignedData, subject="the lead id",
          summary="A lead moved to another owner under one of the reassignment rules")
