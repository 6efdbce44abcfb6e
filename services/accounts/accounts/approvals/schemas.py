"""Shapes of the credit request API (《客户信用额度变更申请表》 and one-order exceptions)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..credit.money import Money

_text = validate.Length(min=1, max=500)


class RequestCreateSchema(StrictSchema):
    kind = fields.String(load_default="limit_change",
                         validate=validate.OneOf(["limit_change", "order_exception"]))
    proposed_limit = Money(load_default=None, allow_zero=True,
                           metadata={"description": "拟变更信用额度 (limit changes)"})
    ends_on = fields.Date(load_default=None, metadata={"description": "a temporary increase ends on"})
    order_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                             metadata={"description": "the one order an exception lets pass"})
    reason = fields.String(required=True, validate=_text)
    address = fields.String(load_default=None, validate=validate.Length(max=300))
    contact = fields.String(load_default=None, validate=validate.Length(max=100))
    phone = fields.String(load_default=None, validate=validate.Length(max=40))


class CreditDecisionCreateSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    opinion = fields.String(required=True, validate=_text, metadata={"description": "审核意见"})
    step = fields.Integer(load_default=None, validate=validate.Range(min=1, max=4),
                          metadata={"description": "the step decided (refused if not the current one)"})


class CreditDecisionSchema(Schema):
    step = fields.Integer()
    role = fields.String()
    decided_by = fields.String()
    decision = fields.String()
    opinion = fields.String()
    at = UtcDateTime()


class RequestSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "pending | approved | rejected"})
    step = fields.Integer()
    chain = fields.List(fields.String())
    awaiting_role = fields.Method("_awaiting")
    form = fields.Dict()
    current_limit = Money(allow_none=True)
    proposed_limit = Money(allow_none=True)
    currency = fields.String()
    ends_on = fields.Date(allow_none=True)
    order_id = fields.String(allow_none=True)
    reason = fields.String()
    requested_by = fields.String()
    requested_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    decisions = fields.List(fields.Nested(CreditDecisionSchema))

    def _awaiting(self, request: dict[str, Any]) -> str | None:
        if request["status"] != "pending":
            return None
        return str(request["chain"][request["step"] - 1])


class RequestListSchema(Schema):
    items = fields.List(fields.Nested(RequestSchema))
