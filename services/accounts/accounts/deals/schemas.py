"""Shapes of the deals API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..credit.money import Money
from ..ledger.schemas import CURRENCY
from . import rules


class DealCreateSchema(StrictSchema):
    stage = fields.String(required=True, validate=validate.OneOf(rules.OPENING),
                          metadata={"description": "small_deposit (小定) or large_deposit (大定)"})
    amount = Money(required=True)
    on = fields.Date(load_default=None, metadata={"description": "default: today"})
    currency = CURRENCY
    product = fields.String(load_default=None, validate=validate.Length(max=200))


class DealStageSchema(StrictSchema):
    stage = fields.String(required=True, validate=validate.OneOf(rules.STAGES),
                          metadata={"description": "the next stage: large_deposit (大定), contract "
                                                   "(签约) or payment (交款)"})
    amount = Money(required=True)
    on = fields.Date(load_default=None)


class DealSchema(Schema):
    id = fields.String()
    code = fields.String()
    account_id = fields.String()
    rep_id = fields.String()
    rep_team = fields.String(allow_none=True)
    product = fields.String(allow_none=True)
    stage = fields.String()
    currency = fields.String()
    small_deposit = Money(allow_none=True)
    small_deposit_on = fields.Date(allow_none=True)
    large_deposit = Money(allow_none=True)
    large_deposit_on = fields.Date(allow_none=True)
    contract = Money(allow_none=True)
    contract_on = fields.Date(allow_none=True)
    payment = Money(allow_none=True)
    payment_on = fields.Date(allow_none=True)
    payment_id = fields.String(allow_none=True, metadata={
        "description": "the ledger payment 交款 posted (allocated to open charges oldest first)"})
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class DealListSchema(Schema):
    items = fields.List(fields.Nested(DealSchema))


class RegisterQuerySchema(StrictSchema):
    start = fields.Date(data_key="from", required=True)
    until = fields.Date(required=True, metadata={"description": "exclusive"})
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))
