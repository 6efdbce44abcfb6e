"""Contracts of the pipeline and follow-up events leads publishes (catalogue: docs/events.md).

Every stage move, outcomes and re-opening included, is a ``stage_changed``; a loss is also a
``lost``.

Kind → type mapping of the cadence reminders (``leads.cadence`` kinds):
- ``followup.due``: a nudge, the contact is due now — ``key_lead_stale`` (A lead not contacted for
  a week) and ``trade_show_unanswered_escalation`` (1 week, the manager is told too);
- ``followup.overdue``: a hard deadline of the rules has passed — ``first_contact_overdue``
  (assigned lead not contacted within a week) and ``trade_show_unanswered_breach`` (2 weeks);
- ``protection.expiring``: ``protection_expiring`` (7 days before the end);
- ``protection.expired``: ``protection_expired`` and ``protection_claimable`` (3 months, to the
  manager), told apart by ``kind``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes
from leads.intake.models import Lead
from leads.pipeline import cadence
from leads.pipeline.models import LeadFollowUp

LEAD_STAGE_CHANGED = "leads.lead.stage_changed.v1"
LEAD_LOST = "leads.lead.lost.v1"
FOLLOWUP_LOGGED = "leads.followup.logged.v1"
FOLLOWUP_DUE = "leads.followup.due.v1"
FOLLOWUP_OVERDUE = "leads.followup.overdue.v1"
PROTECTION_EXPIRING = "leads.protection.expiring.v1"
PROTECTION_EXPIRED = "leads.protection.expired.v1"

PUBLISHED = (LEAD_STAGE_CHANGED, LEAD_LOST, FOLLOWUP_LOGGED, FOLLOWUP_DUE, FOLLOWUP_OVERDUE,
             PROTECTION_EXPIRING, PROTECTION_EXPIRED)

REMINDER_TYPES: dict[str, str] = {
    cadence.KEY_LEAD_STALE: FOLLOWUP_DUE,
    cadence.FOLLOW_UP_PLANNED: FOLLOWUP_DUE,
    cadence.TRADE_SHOW_ESCALATION: FOLLOWUP_DUE,
    cadence.FIRST_CONTACT_OVERDUE: FOLLOWUP_OVERDUE,
    cadence.TRADE_SHOW_BREACH: FOLLOWUP_OVERDUE,
    cadence.PROTECTION_EXPIRING: PROTECTION_EXPIRING,
    cadence.PROTECTION_EXPIRED: PROTECTION_EXPIRED,
    cadence.PROTECTION_CLAIMABLE: PROTECTION_EXPIRED,
}


def _iso(value: datetime | None) -> str | None:
    """Always UTC, whatever zone the rules computed in (protection works in the org's timezone)."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def _lead_ref(lead: Lead) -> dict[str, Any]:
    return {"lead_id": lead.id, "code": lead.code, "owner_id": lead.owner_id, "owner_team": lead.owner_team}


def stage_changed_payload(lead: Lead, from_stage: str, at: datetime, by: str) -> dict[str, Any]:
    return {**_lead_ref(lead), "from_stage": from_stage, "to_stage": lead.stage, "status": lead.status,
            "reason": lead.lost_reason, "at": _iso(at), "by": by}


def lost_payload(lead: Lead, from_stage: str, at: datetime, by: str, note: str | None) -> dict[str, Any]:
    """``leads.lead.lost.v1`` (sent with the stage change, for consumers that want only losses)."""
    return {**_lead_ref(lead), "from_stage": from_stage, "reason": lead.lost_reason, "note": note,
            "at": _iso(at), "by": by}


def followup_payload(follow_up: LeadFollowUp, lead: Lead) -> dict[str, Any]:
    return {**_lead_ref(lead), "follow_up_id": follow_up.id, "at": _iso(follow_up.at), "by": follow_up.by,
            "channel": follow_up.channel, "summary": follow_up.summary, "outcome": follow_up.outcome,
            "next_step": follow_up.next_step, "next_date": _iso(follow_up.next_date)}


def reminder_payload(lead: Lead, reminder: cadence.Reminder) -> dict[str, Any]:
    return {**_lead_ref(lead), "kind": reminder.kind, "due_at": _iso(reminder.due_at),
            "escalate_to": reminder.escalate_to, "reminder_key": reminder.key}


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------

class _LeadRefData(Schema):
    lead_id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(required=True, allow_none=True)


class StageChangedData(_LeadRefData):
    from_stage = fields.String(required=True)
    to_stage = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "open, converted, lost, terminated"})
    reason = fields.String(required=True, allow_none=True)
    at = fields.DateTime(required=True)
    by = fields.String(required=True)


class LostData(_LeadRefData):
    from_stage = fields.String(required=True)
    reason = fields.String(required=True)
    note = fields.String(required=True, allow_none=True)
    at = fields.DateTime(required=True)
    by = fields.String(required=True)


class FollowUpLoggedData(_LeadRefData):
    follow_up_id = fields.String(required=True)
    at = fields.DateTime(required=True)
    by = fields.String(required=True)
    channel = fields.String(required=True)
    summary = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    next_step = fields.String(required=True, allow_none=True)
    next_date = fields.DateTime(required=True, allow_none=True)


class ReminderData(_LeadRefData):
    kind = fields.String(required=True, metadata={"description": "the cadence rule (docs/events/leads.md)"})
    due_at = fields.DateTime(required=True)
    escalate_to = fields.String(required=True, allow_none=True)
    reminder_key = fields.String(required=True)


publishes(LEAD_STAGE_CHANGED, StageChangedData, subject="the lead id",
          summary="A lead moved to another pipeline stage (outcomes and re-opening included)")
publishes(LEAD_LOST, LostData, subject="the lead id", summary="A lead was lost")
publishes(FOLLOWUP_LOGGED, FollowUpLoggedData, subject="the lead id", summary="A follow-up was logged")
for _type, _summary in ((FOLLOWUP_DUE, "A follow-up is due (cadence reminder)"),
                        (FOLLOWUP_OVERDUE, "A follow-up deadline has passed (cadence reminder)"),
                        (PROTECTION_EXPIRING, "The owner's protection of a lead ends soon"),
                        (PROTECTION_EXPIRED, "The owner's protection of a lead ended")):
    publishes(_type, ReminderData, subject="the lead id", summary=_summary)
