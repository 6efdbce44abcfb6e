"""Request and response shapes of the complaint API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..tickets.schemas import MONEY, money_range
from .rules import CATEGORIES

_text = validate.Length(min=1, max=4000)


class StepSchema(StrictSchema):
    step = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=8),
        metadata={
            "description": "1 received (material), 2 checked (problem_found, note = explanation when "
            "none), 3 triaged (category), 4 plan (plan, departments, compensation), 5 signed "
            "(opinion; sales_ops_manager), 6 negotiated (satisfied), 7 litigation (note), "
            "8 executed (note). 9 is counted automatically when the flow ends."
        },
    )
    material = fields.String(load_default=None, validate=_text)
    attachments = fields.List(
        fields.String(validate=validate.Length(max=500)), load_default=None, validate=validate.Length(max=20)
    )
    problem_found = fields.Boolean(load_default=None)
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    plan = fields.String(load_default=None, validate=_text)
    departments = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=None,
        validate=validate.Length(max=10),
    )
    compensation = fields.Decimal(
        load_default=None, places=2, as_string=True, validate=money_range, metadata=MONEY
    )
    opinion = fields.String(load_default=None, validate=_text)
    satisfied = fields.Boolean(load_default=None)
    note = fields.String(load_default=None, validate=_text)


class ApprovalSchema(StrictSchema):
    approved = fields.Boolean(required=True)
    note = fields.String(load_default=None, validate=_text)


class AccountabilitySchema(StrictSchema):
    rule = fields.String(required=True, validate=validate.OneOf(("grievance_found", "executive_complaint")))
    employee_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    manager_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    reason = fields.String(load_default=None, validate=_text)


class StepEntrySchema(Schema):
    step = fields.Integer()
    name = fields.String()
    at = UtcDateTime()
    by = fields.String()
    note = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class ApprovalEntrySchema(Schema):
    role = fields.String()
    by = fields.String()
    at = UtcDateTime()
    approved = fields.Boolean()
    note = fields.String(allow_none=True)


class ComplaintSchema(Schema):
    ticket_id = fields.String()
    step = fields.Integer(metadata={"description": "the last completed step (9 = counted)"})
    next_steps = fields.List(fields.Integer())
    approvals_missing = fields.List(fields.String())
    problem_found = fields.Boolean(allow_none=True)
    category = fields.String(allow_none=True)
    plan = fields.String(allow_none=True)
    compensation = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=MONEY)
    currency = fields.String()
    satisfied = fields.Boolean(allow_none=True)
    litigation = fields.Boolean()
    finished_at = UtcDateTime(allow_none=True)
    counted_month = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(StepEntrySchema))
    approvals = fields.List(fields.Nested(ApprovalEntrySchema))


class AccountabilityEntrySchema(Schema):
    rule = fields.String()
    person_id = fields.String(allow_none=True)
    person_role = fields.String()
    amount = fields.Decimal(places=2, as_string=True, metadata=MONEY)
    currency = fields.String()
    reason = fields.String(allow_none=True)
    at = UtcDateTime()
    by = fields.String()


class AccountabilityListSchema(Schema):
    items = fields.List(fields.Nested(AccountabilityEntrySchema))
