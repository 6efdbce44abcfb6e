"""Request and response shapes of the webhooks API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from httpapi import PageQuerySchema
from httpapi.schemas import StrictSchema, UtcDateTime

from .rules import valid_pattern


class EndpointSchema(Schema):
    id = fields.String()
    url = fields.String()
    description = fields.String()
    event_types = fields.List(fields.String())
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    failing_since = UtcDateTime(allow_none=True)
    owner_id = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "whsec_… signing secret (Standard Webhooks)"})
    previous_secret_until = UtcDateTime(
        allow_none=True, metadata={"description": "until then the old secret signs too"}
    )


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema))


def _patterns(value: list[str]) -> None:
    # Checked as a whole list so errors are keyed by the field, never by item index.
    bad = [p for p in value if not (1 <= len(p) <= 100 and valid_pattern(p))]
    if bad:
        raise ValidationError(
            f"not an event type or topic pattern of leads, accounts, support, notify: {bad}"
        )


class EndpointCreateSchema(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=2000))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    event_types = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "types or topic patterns, e.g. support.# or leads.lead.*.v1"},
    )

    @validates("event_types")
    def _types(self, value: list[str], **_: object) -> None:
        _patterns(value)


class EndpointUpdateSchema(StrictSchema):
    url = fields.String(validate=validate.Length(min=8, max=2000))
    description = fields.String(validate=validate.Length(max=500))
    event_types = fields.List(fields.String(), validate=validate.Length(min=1, max=50))
    enabled = fields.Boolean()

    @validates("event_types")
    def _types(self, value: list[str], **_: object) -> None:
        _patterns(value)


class DeliverySchema(Schema):
    id = fields.String()
    endpoint_id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    state = fields.String(metadata={"description": "pending, succeeded, failed"})
    attempts = fields.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class AttemptSchema(Schema):
    id = fields.String()
    delivery_id = fields.String()
    event_id = fields.String()
    attempt = fields.Integer()
    at = UtcDateTime()
    status_code = fields.Integer(allow_none=True)
    latency_ms = fields.Integer()
    response_excerpt = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    succeeded = fields.Boolean()


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True)


class AttemptListSchema(Schema):
    items = fields.List(fields.Nested(AttemptSchema))


class DeliveryQuerySchema(PageQuerySchema):
    state = fields.String(load_default=None, validate=validate.OneOf(("pending", "succeeded", "failed")))


class ReplaySchema(StrictSchema):
    since = fields.AwareDateTime(
        required=True, metadata={"description": "replay every event kept since then"}
    )


class ReplayResultSchema(Schema):
    queued = fields.Integer()
