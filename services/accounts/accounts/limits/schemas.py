"""Shapes of the credit view and the credit policy."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..credit.money import Money


class HoldStateSchema(Schema):
    state = fields.String(metadata={"description": "none | on_hold | released"})
    reasons = fields.List(fields.String())


class OverdueViewSchema(Schema):
    amount = Money()
    charges = fields.Integer()
    oldest_due_on = fields.String(allow_none=True)
    default_liability = fields.Boolean(metadata={"description": "overdue beyond the policy's months"})


class CreditViewSchema(Schema):
    account_id = fields.String()
    currency = fields.String()
    standard_limit = Money(metadata={"description": "the formula's limit now"})
    effective_limit = Money(allow_none=True, metadata={"description": "the approved limit; null = none"})
    temporary_increase = Money()
    limit_in_force = Money()
    cash_before_delivery = fields.Boolean()
    archive_approved = fields.Boolean()
    inputs = fields.Dict(metadata={"description": "the formula's inputs and windows"})
    computed_at = UtcDateTime(allow_none=True)
    outstanding = Money()
    reserved = Money()
    unapplied = Money()
    exposure = fields.String(metadata={"description": "outstanding + reserved - unapplied"})
    available = fields.String(metadata={"description": "limit in force - exposure (may be negative)"})
    hold = fields.Nested(HoldStateSchema)
    overdue = fields.Nested(OverdueViewSchema)


class PolicyViewSchema(Schema):
    version = fields.Integer()
    updated_at = UtcDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    policy = fields.Dict()


class PolicyUpdateSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    changes = fields.Dict(required=True, metadata={"description": "policy field → new value"})
