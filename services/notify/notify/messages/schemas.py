"""Request and response shapes of the messages API."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates

from httpapi import PageQuerySchema
from httpapi.schemas import StrictSchema, UtcDateTime

from .rules import EMAIL, PURPOSES, SMS, STATES


class MessageSchema(Schema):
    id = fields.String()
    channel = fields.String()
    audience = fields.String()
    recipient_id = fields.String()
    address = fields.String()
    subject = fields.String()
    body = fields.String()
    purpose = fields.String()
    critical = fields.Boolean()
    timezone = fields.String(allow_none=True)
    language = fields.String()
    state = fields.String(metadata={"description": "queued, deferred, sending, sent, failed"})
    reason = fields.String(allow_none=True, metadata={"description": "why it failed or was last retried"})
    attempts = fields.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)
    created_by = fields.String()
    event_type = fields.String(allow_none=True)
    subject_type = fields.String(allow_none=True)
    subject_id = fields.String(allow_none=True)


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    next_cursor = fields.String(allow_none=True)


class MessageQuerySchema(PageQuerySchema):
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    channel = fields.String(load_default=None, validate=validate.OneOf((EMAIL, SMS)))


class CustomerRecipientSchema(StrictSchema):
    account_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    address = fields.String(
        required=True,
        validate=validate.Length(min=3, max=320),
        metadata={"description": "mobile number (SMS) or e-mail address"},
    )
    salutation = fields.String(
        required=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "the customer's title, e.g. 王总"},
    )
    timezone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    key_customer = fields.Boolean(load_default=False)

    @validates("timezone")
    def _zone(self, value: str | None, **_: object) -> None:
        if value is None:
            return
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("unknown IANA time zone") from exc


class SendSchema(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf((EMAIL, SMS)))
    recipients = fields.List(
        fields.Nested(CustomerRecipientSchema),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "exactly one: customer messages are individual (§4.4)"},
    )
    subject = fields.String(load_default="", validate=validate.Length(max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    purpose = fields.String(load_default="notice", validate=validate.OneOf(PURPOSES))
    product_content = fields.Boolean(load_default=False)
    idempotency_key = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the same key never sends twice"},
    )
