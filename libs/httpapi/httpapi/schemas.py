"""Shapes shared by every API: problem documents and keyset pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from .paging import CURSOR_MAX, CURSOR_MIN, CURSOR_PATTERN, as_utc


class StrictSchema(Schema):
    """Request schemas refuse fields they do not know, so typos never pass silently."""

    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """RFC 9457: a problem may carry extension members (``errors``, ``service``, ``missing``...),
    so the documented schema allows more properties than these."""

    class Meta:
        unknown = INCLUDE

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.Dict(metadata={"description": "Validation errors by location and field"})


class PageQuerySchema(StrictSchema):
    # A Range, not a lambda: marshmallow 4 ignores a validator's False return value.
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           metadata={"description": "Page size, 1 to 200"})
    cursor = fields.String(
        load_default=None,
        validate=[validate.Length(min=CURSOR_MIN, max=CURSOR_MAX), validate.Regexp(CURSOR_PATTERN)],
        metadata={"description": "next_cursor of the previous page (base64url, opaque)"})


class UtcDateTime(fields.DateTime):
    """Always serialized with an explicit UTC offset, whatever the database returned."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(as_utc(value) if value is not None else None, attr, obj, **kwargs)


def utc_datetimes(schema: Schema) -> Schema:
    """``schema`` (an instance, nested schemas included) with every date-time field writing an
    explicit offset: a naive value — what SQLite hands back for a plain ``DateTime`` column, and
    by this project's rule UTC — is written as UTC instead of without offset, which the OpenAPI
    ``date-time`` format (RFC 3339) does not allow. Aware values are written as they are."""
    seen: set[int] = set()

    def patch_field(field: fields.Field) -> None:
        if isinstance(field, fields.Nested):
            walk(field.schema)
        elif isinstance(field, fields.List) and field.inner is not None:
            patch_field(field.inner)
        elif isinstance(field, fields.Dict) and field.value_field is not None:
            patch_field(field.value_field)
        elif isinstance(field, fields.DateTime) and not getattr(field, "_httpapi_utc", False):
            original = field._serialize

            def serialize(value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
                if isinstance(value, datetime) and value.tzinfo is None:
                    value = as_utc(value)
                return original(value, attr, obj, **kwargs)

            field._serialize = serialize  # type: ignore[method-assign]
            field._httpapi_utc = True  # type: ignore[attr-defined]

    def walk(instance: Schema) -> None:
        if id(instance) in seen:
            return
        seen.add(id(instance))
        for field in instance.fields.values():
            patch_field(field)

    walk(schema)
    return schema


def any_but_null() -> fields.Raw:
    """A value of any JSON type except null, documented as such (a bare ``Raw`` reads as
    "anything", null included, so clients would send what the validator then refuses). For
    policy updates, whose values the policy class checks field by field."""
    return fields.Raw(allow_none=False, metadata={"not": {"type": "null"}})
