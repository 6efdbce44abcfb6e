"""Request and response shapes of the greetings API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import PageQuerySchema
from httpapi.schemas import StrictSchema, UtcDateTime

from .rules import KINDS


class GreetingSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "weekly, holiday, christmas, new_year_gift"})
    occasion = fields.String()
    label = fields.String()
    account_id = fields.String()
    owner_id = fields.String()
    channel = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    salutation = fields.String(allow_none=True)
    subject = fields.String()
    body = fields.String()
    customer_kind = fields.String(allow_none=True, metadata={"description": "gifts: new or old customer"})
    state = fields.String(metadata={"description": "draft, sent, discarded, done"})
    note = fields.String(allow_none=True)
    message_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class GreetingPageSchema(Schema):
    items = fields.List(fields.Nested(GreetingSchema))
    next_cursor = fields.String(allow_none=True)


class GreetingQuerySchema(PageQuerySchema):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    state = fields.String(load_default=None, validate=validate.OneOf(("draft", "sent", "discarded", "done")))


class GreetingEditSchema(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class GiftDoneSchema(StrictSchema):
    survey = fields.String(
        required=True,
        validate=validate.Length(min=1, max=4000),
        metadata={"description": "the customer's next-year demand plan"},
    )


class RunResultSchema(Schema):
    drafted = fields.Dict(keys=fields.String(), values=fields.Integer())
