"""Shapes of the hold API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime


class HoldChangeSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class HoldEntrySchema(Schema):
    at = UtcDateTime()
    from_state = fields.String()
    to_state = fields.String()
    reasons = fields.List(fields.String())
    actor = fields.String()
    note = fields.String(allow_none=True)


class CreditViolationSchema(Schema):
    id = fields.String()
    charge_id = fields.String(allow_none=True)
    at = UtcDateTime()
    type = fields.String()
    description = fields.String()


class HoldViewSchema(Schema):
    state = fields.String()
    reasons = fields.List(fields.String())
    history = fields.List(fields.Nested(HoldEntrySchema))
    violations = fields.List(fields.Nested(CreditViolationSchema))
