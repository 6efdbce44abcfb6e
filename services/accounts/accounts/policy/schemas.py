"""Shapes of the policy API."""

from __future__ import annotations

import dataclasses
from typing import Any

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from .rules import GRADES, AccountsPolicy


class PolicySchema(Schema):
    version = fields.Integer(metadata={"description": "0 while the documents' defaults apply"})
    updated_at = UtcDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    policy = fields.Dict(metadata={"description": "Every policy field with its value"})


_GRADES = {"type": "object", "additionalProperties": False, "required": list(GRADES)}
_DECIMAL = {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,3})?$"}


def _field(name: str, default: object) -> fields.Field:
    """Typed as the document should say, so a client sees each field's shape."""
    if name == "grade_criteria":
        return fields.List(fields.Dict(metadata={
            "type": "object", "additionalProperties": False, "required": ["name", "weight", "maximum"],
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 60},
                           "label": {"type": "string", "maxLength": 100},
                           "weight": {"type": "integer", "minimum": 0, "maximum": 100},
                           "maximum": {"type": "integer", "minimum": 1, "maximum": 1000}}}),
            validate=validate.Length(min=1, max=30), metadata={
                "description": "[{name, label, weight, maximum}]: distinct names, weights add "
                               "to 100"})
    if name == "grade_bands":
        return fields.Dict(metadata={**_GRADES, "properties": {
            g: {"type": "integer", "minimum": 0, "maximum": 100} for g in GRADES},
            "description": "lower bound per grade, falling strictly from A to E"})
    if name == "grade_coefficients":
        return fields.Dict(metadata={**_GRADES, "properties": {g: _DECIMAL for g in GRADES},
                                     "description": "等级系数 per grade, decimal strings"})
    if name == "grade_classes":
        return fields.Dict(metadata={**_GRADES, "properties": {
            g: {"type": "string", "maxLength": 500} for g in GRADES}})
    if name.endswith("_days"):
        return fields.Integer(strict=True, validate=validate.Range(min=1, max=3660), metadata={
            "description": "lost_after_days must exceed inactive_after_days"})
    if isinstance(default, int):
        return fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    return fields.String(validate=validate.Regexp(_DECIMAL["pattern"]))


def _update_schema() -> type[Schema]:
    defaults = AccountsPolicy()
    attrs: dict[str, Any] = {f.name: _field(f.name, getattr(defaults, f.name))
                             for f in dataclasses.fields(AccountsPolicy) if f.init}
    attrs["reason"] = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                                    metadata={"description": "Why (kept in the audit)"})
    return type("AccountsPolicyUpdateSchema", (StrictSchema,), attrs)


PolicyUpdateSchema = _update_schema()


class PolicyChangeSchema(Schema):
    version = fields.Integer()
    at = UtcDateTime()
    actor = fields.String()
    reason = fields.String()
    changes = fields.Dict(metadata={"description": "field → [old, new]"})


class PolicyChangeListSchema(Schema):
    items = fields.List(fields.Nested(PolicyChangeSchema))
