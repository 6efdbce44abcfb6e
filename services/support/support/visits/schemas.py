"""Request and response shapes of the return-visit API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime

from ..tickets.rules import CHANNELS
from .rules import REASONS, RESULTS

_text = validate.Length(min=1, max=4000)


class ReturnVisitSchema(Schema):
    id = fields.String()
    ticket_id = fields.String(allow_none=True)
    project_id = fields.String(allow_none=True)
    account_id = fields.String()
    reason = fields.String(metadata={"description": " | ".join(REASONS)})
    member = fields.Boolean()
    due_at = UtcDateTime()
    agent_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "due | done"})
    script_id = fields.String(allow_none=True)
    result = fields.String(
        allow_none=True, metadata={"description": "satisfied (满意) | neutral (一般) | dissatisfied (不满意)"}
    )
    answers = fields.Dict(allow_none=True)
    note = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    recorded_at = UtcDateTime(allow_none=True)
    recorded_by = fields.String(allow_none=True)
    follow_up_ticket_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    version = fields.Integer()
    script = fields.Dict(allow_none=True, metadata={"description": "the script to read, with its branches"})


class ReturnVisitListQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(("due", "done")))
    reason = fields.String(load_default=None, validate=validate.OneOf(REASONS))
    account_id = fields.String(load_default=None, validate=validate.Length(max=36))


class ReturnVisitPageSchema(Schema):
    items = fields.List(fields.Nested(ReturnVisitSchema))
    next_cursor = fields.String(allow_none=True)


class ResultSchema(StrictSchema):
    result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    channel = fields.String(load_default="phone", validate=validate.OneOf(CHANNELS))
    script_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=200)),
        values=fields.String(validate=validate.Length(max=2000)),
        load_default=None,
        allow_none=True,
    )
    note = fields.String(load_default=None, allow_none=True, validate=_text)

    @validates("answers")
    def _few(self, value: dict[str, str] | None, **_: object) -> None:
        if value and len(value) > 50:
            raise ValidationError("At most 50 answers.")


class ScriptSchema(Schema):
    id = fields.String()
    name = fields.String()
    reason = fields.String()
    intro = fields.String()
    questions = fields.List(fields.String())
    branches = fields.Dict(keys=fields.String(), values=fields.String())
    active = fields.Boolean()
    updated_at = UtcDateTime()
    updated_by = fields.String()


class BranchesSchema(StrictSchema):
    satisfied = fields.String(required=True, validate=_text, metadata={"description": "满意"})
    neutral = fields.String(required=True, validate=_text, metadata={"description": "一般"})
    dissatisfied = fields.String(required=True, validate=_text, metadata={"description": "不满意"})


class ScriptWriteSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(load_default="resolution", validate=validate.OneOf(REASONS))
    intro = fields.String(required=True, validate=_text)
    questions = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(min=1, max=30),
    )
    branches = fields.Nested(BranchesSchema, required=True)
    active = fields.Boolean(load_default=True)


class ScriptListSchema(Schema):
    items = fields.List(fields.Nested(ScriptSchema))


class ProjectSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    name = fields.String()
    delivered_on = fields.Date()
    visits_planned = fields.Integer()
    next_visit_on = fields.Date()
    active = fields.Boolean()
    created_by = fields.String()
    created_at = UtcDateTime()


class ProjectCreateSchema(StrictSchema):
    account_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    delivered_on = fields.Date(required=True)


class ProjectListSchema(Schema):
    items = fields.List(fields.Nested(ProjectSchema))
