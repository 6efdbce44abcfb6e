"""Shapes of the policy API."""

from __future__ import annotations

import dataclasses
from typing import Any

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from .rules import AccountsPolicy


class PolicySchema(Schema):
    version = fields.Integer(metadata={"description": "0 while the documents' defaults apply"})
    updated_at = UtcDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    policy = fields.Dict(metadata={"description": "Every policy field with its value"})


def _update_schema() -> type[Schema]:
    attrs: dict[str, Any] = {f.name: fields.Raw(allow_none=False)
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
