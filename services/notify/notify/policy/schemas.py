"""Request and response shapes of the policy API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi.schemas import StrictSchema, UtcDateTime

_HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="HH:MM, 00:00 to 23:59")
_DELAYS = fields.List(
    fields.Integer(validate=validate.Range(min=0, max=7 * 86400)), validate=validate.Length(min=1, max=20)
)


class PolicyValuesSchema(Schema):
    default_timezone = fields.String()
    quiet_start = fields.String()
    quiet_end = fields.String()
    marketing_email_weekdays = fields.List(fields.Integer())
    message_retry_seconds = fields.List(fields.Integer())
    webhook_retry_seconds = fields.List(fields.Integer())
    webhook_disable_after_days = fields.Integer()
    webhook_timeout_seconds = fields.Float()
    webhook_max_response_bytes = fields.Integer()
    webhook_secret_overlap_hours = fields.Integer()
    company_name = fields.String()
    key_customer_phrase = fields.String()
    greeting_weekday = fields.Integer()
    greeting_hour = fields.Integer()
    christmas_card_days_before = fields.Integer()
    holiday_greeting_days_before = fields.Integer()


class PolicySchema(Schema):
    version = fields.Integer()
    updated_at = UtcDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    policy = fields.Nested(PolicyValuesSchema)


class PolicyUpdateSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))
    default_timezone = fields.String(validate=validate.Length(min=1, max=64))
    quiet_start = fields.String(validate=_HHMM)
    quiet_end = fields.String(validate=_HHMM)
    marketing_email_weekdays = fields.List(
        fields.Integer(validate=validate.Range(min=0, max=6)), validate=validate.Length(min=1, max=7)
    )
    message_retry_seconds = _DELAYS
    webhook_retry_seconds = fields.List(
        fields.Integer(validate=validate.Range(min=0, max=7 * 86400)), validate=validate.Length(min=1, max=20)
    )
    webhook_disable_after_days = fields.Integer(validate=validate.Range(min=1, max=60))
    webhook_timeout_seconds = fields.Float(validate=validate.Range(min=0.1, max=60))
    webhook_max_response_bytes = fields.Integer(validate=validate.Range(min=256, max=1_000_000))
    webhook_secret_overlap_hours = fields.Integer(validate=validate.Range(min=0, max=336))
    company_name = fields.String(validate=validate.Length(min=1, max=100))
    key_customer_phrase = fields.String(validate=validate.Length(min=1, max=200))
    greeting_weekday = fields.Integer(validate=validate.Range(min=0, max=6))
    greeting_hour = fields.Integer(validate=validate.Range(min=0, max=23))
    christmas_card_days_before = fields.Integer(validate=validate.Range(min=1, max=60))
    holiday_greeting_days_before = fields.Integer(validate=validate.Range(min=0, max=14))


class PolicyChangeSchema(Schema):
    version = fields.Integer()
    at = UtcDateTime()
    actor = fields.String()
    reason = fields.String()
    changes = fields.Dict()


class PolicyChangeListSchema(Schema):
    items = fields.List(fields.Nested(PolicyChangeSchema))
