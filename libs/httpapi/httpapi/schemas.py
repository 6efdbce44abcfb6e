"""Shapes shared by every API: problem documents and keyset pages."""

from __future__ import annotations

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from .paging import CURSOR_MAX, CURSOR_MIN, CURSOR_PATTERN


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
        from .paging import as_utc

        return super()._serialize(as_utc(value) if value is not None else None, attr, obj, **kwargs)
