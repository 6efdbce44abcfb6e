"""Contracts: the events notify publishes and the fields it reads from others' events."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from eventbus.contracts import publishes

from .models import Notification

ACCOUNT_OPENED = "accounts.account.opened.v1"
ACCOUNT_LINKED = "accounts.account.linked.v1"
NOTIFICATION_CREATED = "notify.notification.created.v1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def created_payload(n: Notification) -> dict[str, Any]:
    """For outside systems (push, e-mail, chat bridges); the body stays in notify."""
    return {
        "notification_id": n.id,
        "recipient_id": n.recipient_id,
        "kind": n.kind,
        "title": n.title,
        "subject_type": n.subject_type,
        "subject_id": n.subject_id,
        "created_at": _iso(n.created_at),
    }


class AccountOpenedIn(Schema):
    """What notify reads of ``accounts.account.opened.v1``; other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    owner_id = fields.String(required=True)
    source_lead_id = fields.String(load_default=None, allow_none=True)
    source_lead_code = fields.String(load_default=None, allow_none=True)
    source_lead_name = fields.String(load_default=None, allow_none=True)


class AccountLinkedIn(Schema):
    """What notify reads of ``accounts.account.linked.v1``; other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    source_lead_id = fields.String(required=True)
    source_lead_code = fields.String(load_default=None, allow_none=True)
    source_lead_name = fields.String(load_default=None, allow_none=True)
    lead_owner_id = fields.String(required=True)


# --- published contracts (eventbus.contracts: AsyncAPI and each event's dataschema) -----------

class NotificationCreatedData(Schema):
    notification_id = fields.String(required=True, metadata={"format": "uuid"})
    recipient_id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    subject_type = fields.String(required=True, allow_none=True, metadata={"description": "e.g. account"})
    subject_id = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


# Every type this service publishes is registered when its contracts module is imported.
from .messages import events as _message_events  # noqa: E402
from .webhooks import events as _webhook_events  # noqa: E402

PUBLISHED = (NOTIFICATION_CREATED, _message_events.MESSAGE_SENT, _message_events.MESSAGE_FAILED,
             _webhook_events.ENDPOINT_DISABLED)

publishes(NOTIFICATION_CREATED, NotificationCreatedData, subject="the notification id",
          summary="A notification was created for a member of staff (the body stays in notify)")
