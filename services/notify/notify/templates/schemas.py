"""Request and response shapes of the templates API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi.schemas import StrictSchema, UtcDateTime

from ..messages.rules import CHANNELS
from .rules import LANGUAGES, VARIABLES

_TYPES = validate.OneOf(sorted(VARIABLES))


class TemplateSchema(Schema):
    id = fields.String()
    event_type = fields.String()
    channel = fields.String()
    language = fields.String()
    subject = fields.String()
    body = fields.String()
    product_content = fields.Boolean()
    version = fields.Integer()
    updated_at = UtcDateTime()
    updated_by = fields.String()


class TemplateListSchema(Schema):
    items = fields.List(fields.Nested(TemplateSchema))


class TemplateCreateSchema(StrictSchema):
    event_type = fields.String(required=True, validate=_TYPES)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    product_content = fields.Boolean(
        load_default=False,
        metadata={"description": "mentions products: never sent to a customer at the weekend"},
    )


class TemplateUpdateSchema(StrictSchema):
    subject = fields.String(validate=validate.Length(min=1, max=300))
    body = fields.String(validate=validate.Length(min=1, max=5000))
    product_content = fields.Boolean()


class TemplateQuerySchema(StrictSchema):
    event_type = fields.String(load_default=None, validate=validate.Length(max=100))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))


class PreviewSchema(StrictSchema):
    event_type = fields.String(required=True, validate=_TYPES)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    variables = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=dict,
        metadata={"description": "values to render with; missing ones get a <name> sample"},
    )


class PreviewResultSchema(Schema):
    subject = fields.String()
    body = fields.String()
    variables = fields.List(fields.String(), metadata={"description": "what this event type offers"})
