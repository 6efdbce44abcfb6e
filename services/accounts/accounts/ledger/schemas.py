"""Request and response shapes of the ledger API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..credit.money import Money

CURRENCY = fields.String(load_default=None, validate=validate.Length(equal=3),
                         metadata={"description": "ISO 4217; the account's credit currency (CNY)"})
_id = validate.Length(min=1, max=100)


class ChargeCreateSchema(StrictSchema):
    order_id = fields.String(required=True, validate=_id)
    amount = Money(required=True)
    currency = CURRENCY
    issued_on = fields.Date(load_default=None)
    due_on = fields.Date(load_default=None, metadata={"description": "default: issue + terms"})
    lead_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20),
                              metadata={"description": "the originating lead (L-000001)"})


class ChargeSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    order_id = fields.String()
    lead_code = fields.String(allow_none=True)
    amount = Money()
    paid = Money()
    credited = Money()
    balance = Money()
    currency = fields.String()
    issued_on = fields.Date()
    due_on = fields.Date()
    settled_on = fields.Date(allow_none=True)
    created_at = UtcDateTime()
    created_by = fields.String()


class AllocationInSchema(StrictSchema):
    charge_id = fields.String(required=True, validate=_id)
    amount = Money(required=True)


class PaymentCreateSchema(StrictSchema):
    amount = Money(required=True)
    currency = CURRENCY
    received_on = fields.Date(load_default=None)
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    allocations = fields.List(fields.Nested(AllocationInSchema), load_default=None,
                              validate=validate.Length(min=1, max=500),
                              metadata={"description": "default: oldest open charges first"})


class AllocationSchema(Schema):
    charge_id = fields.String()
    amount = Money()
    on_date = fields.Date()


class PaymentSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    amount = Money()
    unallocated = Money()
    currency = fields.String()
    received_on = fields.Date()
    reference = fields.String(allow_none=True)
    allocations = fields.List(fields.Nested(AllocationSchema))
    created_at = UtcDateTime()


class CreditNoteCreateSchema(StrictSchema):
    amount = Money(required=True)
    currency = CURRENCY
    charge_id = fields.String(load_default=None, validate=_id,
                              metadata={"description": "default: the oldest open charge"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    issued_on = fields.Date(load_default=None)


class CreditNoteSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    charge_id = fields.String()
    amount = Money()
    currency = fields.String()
    issued_on = fields.Date()
    reason = fields.String()
    created_at = UtcDateTime()


class ChargeListSchema(Schema):
    items = fields.List(fields.Nested(ChargeSchema))
