"""Request and response shapes of the notify API."""

from __future__ import annotations

from marshmallow import Schema, fields

from httpapi import PageQuerySchema
from httpapi.schemas import UtcDateTime


class NotificationSchema(Schema):
    id = fields.String()
    recipient_id = fields.String()
    kind = fields.String(metadata={"description": "e.g. lead_converted"})
    title = fields.String()
    body = fields.String()
    subject_type = fields.String(allow_none=True, metadata={"description": "e.g. account"})
    subject_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)


class NotificationListQuerySchema(PageQuerySchema):
    unread = fields.Boolean(load_default=None,
                            metadata={"description": "true: only unread; false: only read"})
    recipient_id = fields.String(load_default=None,
                                 metadata={"description": "Admins only: whose notifications"})


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)
