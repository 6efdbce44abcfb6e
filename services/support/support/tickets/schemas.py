"""Request and response shapes of the tickets API."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime

from ..policy.rules import KINDS, PRIORITIES, REPAIR_MODES
from .rules import ACTIONS, CHANNELS, STATUSES

_id = validate.Length(min=1, max=100)
_note = validate.Length(min=1, max=4000)
# The pattern states what the validator accepts (0 to 999,999,999.99, at most two places), so a
# client generating from the document sends nothing the service then refuses.
MONEY = {"type": "string", "format": "decimal", "example": "120.00",
         "pattern": r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$"}
MAX_MONEY = Decimal("999999999.99")


def money_range(value: Decimal) -> None:
    """0 to 999,999,999.99. A plain function, not ``validate.Range``: apispec would print a
    Decimal bound as a string ``maximum``, which is not valid JSON Schema."""
    if value < 0 or value > MAX_MONEY:
        raise ValidationError("Must be between 0.00 and 999999999.99.")


class TicketCreateSchema(StrictSchema):
    account_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10000))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    repair_mode = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(REPAIR_MODES),
        metadata={
            "description": "repairs: onsite (technical dept), factory "
            "(quality inspection), paid (the customer pays repair_fee)"
        },
    )
    repair_fee = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=2,
        as_string=True,
        validate=money_range,
        metadata={"description": "paid repairs: what the customer owes", **MONEY},
    )
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "the caller's phone (repeat-contact matching)"},
    )
    major = fields.Boolean(
        load_default=False,
        metadata={"description": "a major matter: the general manager's role is told at once"},
    )
    new_matter = fields.Boolean(
        load_default=False,
        metadata={"description": "open a new ticket even if the customer has an active one of this kind"},
    )
    resolution = fields.String(
        load_default=None,
        allow_none=True,
        validate=_note,
        metadata={"description": "closed at first contact: resolve at once with this note (one-stop)"},
    )


class TicketSchema(Schema):
    id = fields.String()
    code = fields.String()
    account_id = fields.String()
    kind = fields.String(metadata={"description": " | ".join(KINDS)})
    repair_mode = fields.String(allow_none=True)
    repair_fee = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=MONEY)
    currency = fields.String()
    subject = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    priority = fields.String(metadata={"description": " | ".join(PRIORITIES)})
    queue = fields.String()
    channel = fields.String()
    created_by = fields.String()
    owner_id = fields.String(metadata={"description": "the first responder, until handed over"})
    assignee_id = fields.String(allow_none=True)
    major = fields.Boolean()
    one_stop = fields.Boolean()
    repeat_contacts = fields.Integer()
    escalation_level = fields.Integer()
    reopened = fields.Integer()
    follow_up_of = fields.String(allow_none=True)
    first_responded_at = UtcDateTime(allow_none=True)
    resolved_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()
    account = fields.Dict(
        allow_none=True,
        metadata={
            "description": "the account as support knows it: name, code, owner, grade, member, status, "
            "credit_hold, contact, timezone"
        },
    )
    sla = fields.List(
        fields.Dict(),
        metadata={"description": "per metric: state, target/elapsed minutes, due_at, met_at, breached"},
    )
    attached = fields.Boolean(metadata={"description": "true: a repeat contact on an active ticket"})


class TicketListQuerySchema(PageQuerySchema):
    account_id = fields.String(load_default=None, validate=validate.Length(max=36))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    queue = fields.String(load_default=None, validate=validate.Length(max=40))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    owner_id = fields.String(load_default=None, validate=_id)
    assignee_id = fields.String(load_default=None, validate=_id)
    active = fields.Boolean(load_default=False, metadata={"description": "only tickets not yet resolved"})


class AccountSummarySchema(Schema):
    id = fields.String()
    code = fields.String()
    name = fields.String()
    owner_id = fields.String()
    grade = fields.String(allow_none=True)
    member = fields.Boolean()
    key_customer = fields.Boolean()
    credit_hold = fields.Boolean()
    status = fields.String(allow_none=True)


class TicketSummarySchema(Schema):
    """A ticket in a list: what a queue shows (the full ticket is GET /tickets/{id})."""

    id = fields.String()
    code = fields.String()
    account_id = fields.String()
    kind = fields.String()
    subject = fields.String()
    status = fields.String()
    priority = fields.String()
    queue = fields.String()
    owner_id = fields.String()
    assignee_id = fields.String(allow_none=True)
    major = fields.Boolean()
    one_stop = fields.Boolean()
    repeat_contacts = fields.Integer()
    escalation_level = fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()
    account = fields.Nested(
        AccountSummarySchema,
        allow_none=True,
        metadata={"description": "the account as support knows it (grade, member, credit hold…)"},
    )


class TicketPageSchema(Schema):
    items = fields.List(fields.Nested(TicketSummarySchema))
    next_cursor = fields.String(allow_none=True)


class TransitionSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(tuple(ACTIONS)))
    note = fields.String(load_default=None, allow_none=True, validate=_note)
    assignee_id = fields.String(load_default=None, allow_none=True, validate=_id)


class HandOverSchema(StrictSchema):
    to_id = fields.String(required=True, validate=_id)
    reason = fields.String(required=True, validate=_note)


class ContactSchema(StrictSchema):
    channel = fields.String(load_default="phone", validate=validate.OneOf(CHANNELS))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class PrioritySchema(StrictSchema):
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class HistoryEntrySchema(Schema):
    at = UtcDateTime()
    actor = fields.String()
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class ContactEntrySchema(Schema):
    at = UtcDateTime()
    by = fields.String()
    channel = fields.String()
    repeat = fields.Boolean()
    note = fields.String(allow_none=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema))
    contacts = fields.List(fields.Nested(ContactEntrySchema))
