"""Request and response shapes of the pipeline and follow-up endpoints."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, fields, validate

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime
from leads.intake.schemas import LeadSchema
from leads.pipeline.models import FOLLOW_UP_CHANNELS

_date: dict[str, Any] = {"format": "iso", "default_timezone": UTC}


class PipelineLeadSchema(LeadSchema):
    """The lead as the pipeline endpoints answer it (LeadSchema carries the pipeline fields)."""


class StageMoveSchema(StrictSchema):
    to_stage = fields.String(required=True, validate=validate.Length(min=1, max=40))
    facts = fields.Dict(keys=fields.String(), values=fields.Boolean(), load_default=dict,
                        metadata={"description": "Checklist items now known to hold (or not)"})


class LoseSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "One of the policy's lost_reasons"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class TerminateSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "One of the policy's termination_reasons"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class TrackingSchema(StrictSchema):
    tracking_class = fields.String(required=True, validate=validate.Length(min=1, max=10))
    next_step = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    next_date = fields.AwareDateTime(load_default=None, allow_none=True, **_date,
                                     metadata={"description": "ISO 8601; without offset read as UTC"})


class FollowUpCreateSchema(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(FOLLOW_UP_CHANNELS))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    next_step = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    next_date = fields.AwareDateTime(load_default=None, allow_none=True, **_date)


class FollowUpSchema(Schema):
    id = fields.String()
    lead_id = fields.String()
    at = UtcDateTime(metadata={"description": "Server time of logging"})
    by = fields.String()
    channel = fields.String(metadata={"description": " | ".join(FOLLOW_UP_CHANNELS)})
    summary = fields.String()
    outcome = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    next_date = UtcDateTime(allow_none=True)


class FollowUpPageSchema(Schema):
    items = fields.List(fields.Nested(FollowUpSchema))
    next_cursor = fields.String(allow_none=True)


class FollowUpQuerySchema(PageQuerySchema):
    pass


class StageStaySchema(Schema):
    stage = fields.String()
    entered_at = UtcDateTime()
    left_at = UtcDateTime(allow_none=True)
    actor = fields.String()
    reason = fields.String(allow_none=True)
    seconds = fields.Integer(allow_none=True, metadata={"description": "Null for outcomes"})


class StageReportSchema(Schema):
    lead_id = fields.String()
    stage = fields.String()
    items = fields.List(fields.Nested(StageStaySchema))
    time_in_stages = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                 metadata={"description": "Stage → total seconds (repeat stays summed)"})


class CadenceRunSchema(Schema):
    checked = fields.Integer(metadata={"description": "Leads looked at"})
    emitted = fields.Integer()
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer())
