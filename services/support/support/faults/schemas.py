"""Request and response shapes of the major-fault API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

_text = validate.Length(min=1, max=4000)


class FaultReportSchema(StrictSchema):
    occurred_at = fields.AwareDateTime(required=True)
    place = fields.String(required=True, validate=validate.Length(min=1, max=200))
    symptoms = fields.String(required=True, validate=_text)
    plan = fields.String(required=True, validate=_text, metadata={"description": "handling plan (处理预案)"})


class FaultUpdateCreateSchema(StrictSchema):
    note = fields.String(required=True, validate=_text)


class AnalysisSchema(StrictSchema):
    impact = fields.String(required=True, validate=_text)
    handling = fields.String(required=True, validate=_text)
    cause = fields.String(required=True, validate=_text)
    corrective_action = fields.String(required=True, validate=_text)
    preventive_action = fields.String(required=True, validate=_text)


class FaultUpdateSchema(Schema):
    at = UtcDateTime()
    by = fields.String()
    note = fields.String()


class FaultSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    account_id = fields.String()
    occurred_at = UtcDateTime()
    place = fields.String()
    symptoms = fields.String()
    plan = fields.String()
    status = fields.String(metadata={"description": "open | analysed"})
    reported_by = fields.String()
    reported_at = UtcDateTime()
    impact = fields.String(allow_none=True)
    handling = fields.String(allow_none=True)
    cause = fields.String(allow_none=True)
    corrective_action = fields.String(allow_none=True)
    preventive_action = fields.String(allow_none=True)
    analysed_at = UtcDateTime(allow_none=True)
    analysed_by = fields.String(allow_none=True)
    version = fields.Integer()
    updates = fields.List(fields.Nested(FaultUpdateSchema))


class FaultListQuerySchema(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "analysed")))


class FaultListSchema(Schema):
    items = fields.List(fields.Nested(FaultSchema))
