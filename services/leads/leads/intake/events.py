"""Contracts: the events leads publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from eventbus.contracts import publishes
from leads.intake.models import Lead, Merge, Visit

LEAD_REGISTERED = "leads.lead.registered.v1"
LEAD_CONVERTED = "leads.lead.converted.v1"
VISIT_RECORDED = "leads.visit.recorded.v1"
LEAD_MERGED = "leads.lead.merged.v1"
LEAD_UNMERGED = "leads.lead.unmerged.v1"
ACCOUNT_OPENED = "accounts.account.opened.v1"
ACCOUNT_LINKED = "accounts.account.linked.v1"
INVOICE_ISSUED = "accounts.invoice.issued.v1"


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


class InvoiceIssuedIn(Schema):
    """What leads reads of ``accounts.invoice.issued.v1`` (CONTRACTS.md): which lead the
    invoiced order came from; amounts and dates are accounts' business."""

    class Meta:
        unknown = EXCLUDE

    invoice_id = fields.String(required=True)
    lead_code = fields.String(load_default=None, allow_none=True)


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------

def _text(**kw: Any) -> fields.String:
    return fields.String(required=True, **kw)


def _maybe(**kw: Any) -> fields.String:
    return fields.String(required=True, allow_none=True, **kw)


class LeadRegisteredData(Schema):
    lead_id = _text(metadata={"format": "uuid"})
    code = _text(metadata={"description": "L-000001"})
    name = _text(metadata={"description": "contact person"})
    company = _maybe()
    phone = _maybe(metadata={"description": "E.164; at least one of phone and email is set"})
    email = _maybe()
    source = _text(metadata={"description": "walk_in, phone_call, web_form, trade_show, referral, event, "
                                            "api_import"})
    owner_id = _text()
    owner_team = _maybe()
    registered_at = fields.DateTime(required=True)
    # Sent since the intake release; events recorded before it lack them.
    channel = fields.String(metadata={"description": "the intake channel, equal to source"})
    show_name = fields.String(allow_none=True)
    referrer_type = fields.String(allow_none=True, metadata={"description": "lead or account"})
    referrer_id = fields.String(allow_none=True)


class ContactData(Schema):
    name = _text()
    phone = _maybe()
    email = _maybe()


class SplitShareData(Schema):
    rep = _text()
    percent = _text(metadata={"format": "decimal", "description": "two places; shares sum to 100"})


class LeadConvertedData(LeadRegisteredData):
    converted_at = fields.DateTime(required=True)
    converted_by = _text()
    contacts = fields.List(fields.Nested(ContactData), required=True)
    split = fields.List(fields.Nested(SplitShareData),
                        metadata={"description": "the credit split; without one, the owner at 100"})


class VisitRecordedData(Schema):
    visit_id = _text()
    lead_id = _text(metadata={"format": "uuid"})
    code = _text()
    channel = _text()
    at = fields.DateTime(required=True)
    by = _text()
    note = _maybe()
    owner_id = _text()
    owner_team = _maybe()


class LeadMergeData(Schema):
    merge_id = _text()
    survivor_id = _text(metadata={"format": "uuid"})
    survivor_code = _text()
    merged_id = _text(metadata={"format": "uuid"})
    merged_code = _text()
    reason = _maybe()
    at = fields.DateTime(required=True)
    by = _text()
    owner_id = _text()
    owner_team = _maybe()


publishes(LEAD_REGISTERED, LeadRegisteredData, summary="A lead was registered", subject="the lead id")
publishes(LEAD_CONVERTED, LeadConvertedData, subject="the lead id",
          summary="A lead was converted into a customer (once per lead)")
publishes(VISIT_RECORDED, VisitRecordedData, subject="the lead id",
          summary="A known lead walked in or called again (instead of a new registration)")
publishes(LEAD_MERGED, LeadMergeData, subject="the merged (duplicate) lead id",
          summary="A duplicate lead was merged into a surviving one")
publishes(LEAD_UNMERGED, LeadMergeData, subject="the merged (duplicate) lead id",
          summary="A merge was undone")
