"""Request and response shapes of the accounts API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from .domain import normalize_email, normalize_phone

_text = validate.Length(min=1, max=200)


class AccountCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=_text, metadata={"description": "Customer name"})
    company = fields.String(load_default=None, allow_none=True, validate=_text)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                          metadata={"format": "phone",
                                    "description": "A phone number in any common format (E.164, or "
                                                   "national for region CN); stored as E.164"})
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    owner_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    owner_team = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                               metadata={"description": "Defaults to a manager's own team"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "Why the account is opened (audit trail)"})

    @post_load
    def _normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("phone"):
            try:
                data["phone"] = normalize_phone(data["phone"])
            except ValueError as exc:
                raise ValidationError(str(exc).capitalize() + ".", "phone") from exc
        if data.get("email"):
            data["email"] = normalize_email(data["email"])
        return data


class AuditSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    at = UtcDateTime()
    actor = fields.String()
    action = fields.String(metadata={"description": "opened | updated | …"})
    reason = fields.String()
    changes = fields.Dict(metadata={"description": '{field: {"before": old, "after": new}}'})


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditSchema))
    next_cursor = fields.String(allow_none=True)
