"""Request and response shapes of the policy API (the shape of leads' policy)."""

from __future__ import annotations

import dataclasses
from typing import Any

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime, any_but_null

from .rules import SupportPolicy


class PolicySchema(Schema):
    version = fields.Integer(metadata={"description": "0 while the documents' defaults apply"})
    updated_at = UtcDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    policy = fields.Dict(
        metadata={"description": "Every policy field with its value (money as decimal strings with 2 places)"}
    )


def _policy_update_schema() -> type[Schema]:
    """Every policy field optional (SupportPolicy checks values and names each bad field), plus
    the required reason; unknown fields are refused by StrictSchema."""
    attrs: dict[str, Any] = {
        f.name: any_but_null() for f in dataclasses.fields(SupportPolicy) if f.init
    }
    attrs["reason"] = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Why (kept in the audit)"},
    )
    return type("SupportPolicyUpdateSchema", (StrictSchema,), attrs)


PolicyUpdateSchema = _policy_update_schema()


class PolicyChangeSchema(Schema):
    version = fields.Integer()
    at = UtcDateTime()
    actor = fields.String()
    reason = fields.String()
    changes = fields.Dict(metadata={"description": "field → [old, new]"})


class PolicyChangeListSchema(Schema):
    items = fields.List(fields.Nested(PolicyChangeSchema))
