"""Request and response shapes of the support API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime

from .domain import DEFAULT_PRIORITY, KINDS, PRIORITIES


class TicketCreateSchema(StrictSchema):
    account_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10000))
    priority = fields.String(load_default=DEFAULT_PRIORITY, validate=validate.OneOf(PRIORITIES))


class TicketSchema(Schema):
    id = fields.String()
    code = fields.String()
    account_id = fields.String()
    kind = fields.String(metadata={"description": " | ".join(KINDS)})
    subject = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "open"})
    priority = fields.String(metadata={"description": " | ".join(PRIORITIES)})
    created_by = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()


class TicketListQuerySchema(PageQuerySchema):
    account_id = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))


class TicketPageSchema(Schema):
    items = fields.List(fields.Nested(TicketSchema))
    next_cursor = fields.String(allow_none=True)
