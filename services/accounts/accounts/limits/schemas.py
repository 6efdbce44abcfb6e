"""Shapes of the credit view and the credit policy."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

import authn
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


_CODE = validate.Regexp(r"^[A-Z]{3}$")


def _unique(values: list[object]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Each item may appear once.")


_ROLES = fields.List(fields.String(validate=validate.OneOf(authn.ROLES)),
                     validate=[validate.Length(min=1, max=10), _unique], metadata={"uniqueItems": True})


class ThresholdSchema(StrictSchema):
    up_to = Money(required=True)
    levels = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=4))


class PolicyChangesSchema(StrictSchema):
    """The policy fields an admin may change (any subset)."""

    default_currency = fields.String(validate=_CODE, metadata={"description": "added to currencies"})
    currencies = fields.List(fields.String(validate=_CODE),
                             validate=[validate.Length(min=1, max=20), _unique],
                             metadata={"uniqueItems": True})
    sales_window_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=36))
    performance_period_months = fields.Integer(strict=True, validate=validate.OneOf([1, 2, 3, 4, 6, 12]))
    no_history_rate = fields.String(validate=validate.Regexp(r"^(0(\.\d{1,4})?|1(\.0{1,4})?)$"))
    payment_terms_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    default_liability_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=36))
    reservation_hours = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    limit_chain = _ROLES
    limit_thresholds = fields.List(fields.Nested(ThresholdSchema), validate=validate.Length(max=10))
    exception_chain = fields.List(fields.String(validate=validate.OneOf(authn.ROLES)),
                                  validate=[validate.Length(min=1, max=10), _unique],
                                  metadata={"uniqueItems": True})


class PolicyUpdateSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    changes = fields.Nested(PolicyChangesSchema, required=True)
