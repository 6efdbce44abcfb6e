"""Contracts: the events accounts publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from eventbus.contracts import publishes

from .models import Account, LeadLink

LEAD_CONVERTED = "leads.lead.converted.v1"
ACCOUNT_OPENED = "accounts.account.opened.v1"
ACCOUNT_LINKED = "accounts.account.linked.v1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def opened_payload(account: Account, *, opened_by: str, source_lead_code: str | None = None,
                   source_lead_name: str | None = None) -> dict[str, Any]:
    """``accounts.account.opened.v1``: enough for consumers to keep a read model and to tell
    people about it without asking accounts anything."""
    return {
        "account_id": account.id,
        "code": account.code,
        "name": account.name,
        "company": account.company,
        "phone": account.phone,
        "email": account.email,
        "owner_id": account.owner_id,
        "owner_team": account.owner_team,
        "source_lead_id": account.source_lead_id,
        "source_lead_code": source_lead_code,
        "source_lead_name": source_lead_name,
        "opened_at": _iso(account.created_at),
        "opened_by": opened_by,
        "version": account.version,
    }


def linked_payload(account: Account, link: LeadLink, *, source_lead_name: str | None,
                   lead_owner_id: str) -> dict[str, Any]:
    """``accounts.account.linked.v1``: a converted lead turned out to be an existing account.

    ``owner_id`` is the account's owner (unchanged); ``lead_owner_id`` is who worked the lead,
    so notify can tell them where their customer went.
    """
    return {
        "account_id": account.id,
        "code": account.code,
        "name": account.name,
        "source_lead_id": link.lead_id,
        "source_lead_code": link.lead_code,
        "source_lead_name": source_lead_name,
        "owner_id": account.owner_id,
        "lead_owner_id": lead_owner_id,
        "linked_at": _iso(link.linked_at),
        "linked_by": link.linked_by,
    }


class LeadConvertedIn(Schema):
    """What accounts reads of ``leads.lead.converted.v1``; other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    lead_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    company = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(load_default=None, allow_none=True)
    converted_by = fields.String(required=True)
    contacts = fields.List(fields.Dict(), load_default=list,
                           metadata={"description": "the lead's contact persons (first: primary)"})


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------

class AccountOpenedData(Schema):
    account_id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True, metadata={"description": "C-000001"})
    name = fields.String(required=True)
    company = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True, metadata={"description": "E.164"})
    email = fields.String(required=True, allow_none=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(required=True, allow_none=True)
    source_lead_id = fields.String(required=True, allow_none=True,
                                   metadata={"description": "null when opened directly"})
    source_lead_code = fields.String(required=True, allow_none=True)
    source_lead_name = fields.String(required=True, allow_none=True)
    opened_at = fields.DateTime(required=True)
    opened_by = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1),
                             metadata={"description": "the account's version: keep the highest"})


class AccountLinkedData(Schema):
    account_id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True)
    name = fields.String(required=True)
    source_lead_id = fields.String(required=True, metadata={"format": "uuid"})
    source_lead_code = fields.String(required=True)
    source_lead_name = fields.String(required=True, allow_none=True)
    owner_id = fields.String(required=True, metadata={"description": "the account's owner"})
    lead_owner_id = fields.String(required=True, metadata={"description": "the lead's owner"})
    linked_at = fields.DateTime(required=True)
    linked_by = fields.String(required=True)


publishes(ACCOUNT_OPENED, AccountOpenedData, subject="the account id",
          summary="A customer account was opened (from a converted lead, or directly)")
publishes(ACCOUNT_LINKED, AccountLinkedData, subject="the account id",
          summary="A converted lead was linked to the existing account of its company")


# The capabilities' published contracts, registered whenever the service's events are loaded.
from .archive import events as archive_events  # noqa: E402

# Credit (issue 9) registers its contracts with its own module.
from .credit.events import PUBLISHED as CREDIT_EVENTS  # noqa: E402
from .grading import events as grading_events  # noqa: E402
from .points import events as points_events  # noqa: E402

CAPABILITY_EVENTS = (archive_events, grading_events, points_events)
PUBLISHED = (ACCOUNT_OPENED, ACCOUNT_LINKED, *CREDIT_EVENTS)
