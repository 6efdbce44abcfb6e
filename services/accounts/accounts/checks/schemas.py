"""Shapes of the credit-check API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..credit.money import Money
from ..ledger.schemas import CURRENCY


class CheckCreateSchema(StrictSchema):
    order_id = fields.String(required=True, validate=validate.Length(min=1, max=100),
                             metadata={"description": "the idempotency key: one check per order"})
    amount = Money(required=True)
    currency = CURRENCY


class ReasonSchema(Schema):
    code = fields.String(metadata={"description": "over_limit | cash_before_delivery | "
                                   "overdue_beyond_2_months | manual_hold | archive_not_approved | "
                                   "account_lost | order_exception"})
    detail = fields.String()
    over_by = fields.String(metadata={"description": "by how much the order is over"})
    request_id = fields.String()


class CheckSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    account_id = fields.String()
    amount = Money()
    currency = fields.String()
    status = fields.String(metadata={"description": "reserved (approved) | held | released | "
                                     "converted | expired"})
    approved = fields.Method("_approved")
    reasons = fields.List(fields.Nested(ReasonSchema))
    available_before = fields.String()
    expires_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)

    def _approved(self, check: object) -> bool:
        return getattr(check, "status", None) in ("reserved", "converted")
