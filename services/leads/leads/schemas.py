"""Request and response shapes of the leads API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime

from .domain import SOURCES, normalize_email, normalize_phone

_text = validate.Length(min=1, max=200)


class LeadCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=_text, metadata={"description": "Contact person"})
    company = fields.String(load_default=None, allow_none=True, validate=_text)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                          metadata={"description": "Any format; stored as E.164 (default region CN)"})
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    owner_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                             metadata={"description": "Managers, admins and integrations only; "
                                                      "reps own what they register"})
    owner_team = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))

    @validates_schema
    def _contact(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("phone") and not data.get("email"):
            raise ValidationError("A phone or an email is required.", "phone")

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


class ConvertSchema(StrictSchema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class LeadSchema(Schema):
    id = fields.String()
    code = fields.String()
    name = fields.String()
    company = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    source = fields.String()
    owner_id = fields.String()
    owner_team = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "open | converted"})
    account_id = fields.String(allow_none=True,
                               metadata={"description": "Set once accounts has opened the account"})
    registered_by = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    converted_at = UtcDateTime(allow_none=True)
    converted_by = fields.String(allow_none=True)
    version = fields.Integer()


class LeadListQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "converted")))
    source = fields.String(load_default=None, validate=validate.OneOf(SOURCES))
    owner_id = fields.String(load_default=None)


class LeadPageSchema(Schema):
    items = fields.List(fields.Nested(LeadSchema))
    next_cursor = fields.String(allow_none=True)
