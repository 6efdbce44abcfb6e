"""Request and response shapes of the appointments API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..tickets.rules import CHANNELS

_text = validate.Length(min=1, max=2000)


class AwareDateTime(fields.AwareDateTime):
    """A date-time with an offset (a naive one is refused: the hour must be unambiguous)."""


class AppointmentCreateSchema(StrictSchema):
    starts_at = AwareDateTime(required=True, metadata={"description": "arrival, to the hour, with offset"})
    technician_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    urgent = fields.Boolean(load_default=False)
    urgent_reason = fields.String(load_default=None, validate=_text)
    note = fields.String(load_default=None, validate=_text)


class ConsentSchema(StrictSchema):
    by = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "who at the customer agreed"},
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    at = AwareDateTime(load_default=None)


class RescheduleSchema(StrictSchema):
    starts_at = AwareDateTime(required=True)
    technician_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    consent = fields.Nested(
        ConsentSchema, load_default=None, metadata={"description": "the customer's consent: required"}
    )
    note = fields.String(load_default=None, validate=_text)


class CancelSchema(StrictSchema):
    reason = fields.String(required=True, validate=_text)


class ChangeSchema(Schema):
    at = UtcDateTime()
    by = fields.String()
    action = fields.String()
    from_starts_at = UtcDateTime(allow_none=True)
    to_starts_at = UtcDateTime(allow_none=True)
    consent_by = fields.String(allow_none=True)
    consent_channel = fields.String(allow_none=True)
    consent_at = UtcDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class AppointmentSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    account_id = fields.String()
    kind = fields.String()
    starts_at = UtcDateTime()
    technician_id = fields.String()
    urgent = fields.Boolean()
    urgent_reason = fields.String(allow_none=True)
    priority_customer = fields.Boolean(metadata={"description": "brand / high-grade customer"})
    status = fields.String(metadata={"description": "scheduled | cancelled"})
    created_by = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()
    changes = fields.List(fields.Nested(ChangeSchema))


class AppointmentListQuerySchema(StrictSchema):
    from_ = AwareDateTime(required=True, data_key="from")
    to = AwareDateTime(required=True)
    technician_id = fields.String(load_default=None, validate=validate.Length(max=100))


class AppointmentListSchema(Schema):
    items = fields.List(fields.Nested(AppointmentSchema))
