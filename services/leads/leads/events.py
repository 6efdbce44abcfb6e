"""Contracts: the events leads publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from .models import Lead

LEAD_REGISTERED = "leads.lead.registered.v1"
LEAD_CONVERTED = "leads.lead.converted.v1"
ACCOUNT_OPENED = "accounts.account.opened.v1"


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
    }


def converted_payload(lead: Lead) -> dict[str, Any]:
    return {
        **lead_payload(lead),
        "converted_at": _iso(lead.converted_at),
        "converted_by": lead.converted_by,
        "contacts": [{"name": lead.name, "phone": lead.phone, "email": lead.email}],
    }


class AccountOpenedIn(Schema):
    """What leads reads of ``accounts.account.opened.v1``; other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    source_lead_id = fields.String(load_default=None, allow_none=True)
