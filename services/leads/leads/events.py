"""Contracts: the events leads publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from .models import Lead, Merge, Visit

LEAD_REGISTERED = "leads.lead.registered.v1"
LEAD_CONVERTED = "leads.lead.converted.v1"
VISIT_RECORDED = "leads.visit.recorded.v1"
LEAD_MERGED = "leads.lead.merged.v1"
LEAD_UNMERGED = "leads.lead.unmerged.v1"
ACCOUNT_OPENED = "accounts.account.opened.v1"
ACCOUNT_LINKED = "accounts.account.linked.v1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def lead_payload(lead: Lead) -> dict[str, Any]:
    return {
        "lead_id": lead.id,
        "code": lead.code,
        "name": lead.name,
        "company": lead.company,
        "phone": lead.phone,
        "email": lead.email,
        "source": lead.source,
        "owner_id": lead.owner_id,
        "owner_team": lead.owner_team,
        "registered_at": _iso(lead.created_at),
        "channel": lead.source,
        "show_name": lead.show_name,
        "referrer_type": lead.referrer_type,
        "referrer_id": lead.referrer_id,
    }


def visit_payload(visit: Visit, lead: Lead) -> dict[str, Any]:
    return {
        "visit_id": visit.id,
        "lead_id": lead.id,
        "code": lead.code,
        "channel": visit.channel,
        "at": _iso(visit.at),
        "by": visit.by,
        "note": visit.note,
        "owner_id": lead.owner_id,
        "owner_team": lead.owner_team,
    }


def merge_payload(merge: Merge, survivor: Lead, merged: Lead) -> dict[str, Any]:
    return {
        "merge_id": merge.id,
        "survivor_id": survivor.id,
        "survivor_code": survivor.code,
        "merged_id": merged.id,
        "merged_code": merged.code,
        "reason": merge.reason,
        "at": _iso(merge.undone_at or merge.at),
        "by": merge.undone_by or merge.by,
        "owner_id": survivor.owner_id,
        "owner_team": survivor.owner_team,
    }


def converted_payload(lead: Lead, split: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``split``: the deal's credit shares; without a recorded split the owner has it all."""
    shares = split or [{"rep": lead.owner_id, "percent": "100.00"}]
    return {
        **lead_payload(lead),
        "converted_at": _iso(lead.converted_at),
        "converted_by": lead.converted_by,
        "contacts": [{"name": lead.name, "phone": lead.phone, "email": lead.email}],
        "split": [{"rep": s["rep"], "percent": str(s["percent"])} for s in shares],
    }


class AccountOpenedIn(Schema):
    """What leads reads of ``accounts.account.opened.v1``; other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    source_lead_id = fields.String(load_default=None, allow_none=True)
    # For the account_companies read model (the authorized list and intake dedupe).
    name = fields.String(load_default=None, allow_none=True)
    company = fields.String(load_default=None, allow_none=True)
    owner_id = fields.String(load_default=None, allow_none=True)
    owner_team = fields.String(load_default=None, allow_none=True)
    version = fields.Integer(load_default=1)


class AccountLinkedIn(Schema):
    """What leads reads of ``accounts.account.linked.v1``: the account a converted lead was
    linked to because its company already was a customer."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    source_lead_id = fields.String(required=True)
