"""Events of the messages capability: a message reached its recipient, or finally failed."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from .models import Message

MESSAGE_SENT = "notify.message.sent.v1"
MESSAGE_FAILED = "notify.message.failed.v1"


def message_payload(m: Message) -> dict[str, Any]:
    """No address and no body: outside systems learn that a message went, not what it said."""
    return {
        "message_id": m.id,
        "channel": m.channel,
        "audience": m.audience,
        "recipient_id": m.recipient_id,
        "purpose": m.purpose,
        "state": m.state,
        "reason": m.reason,
        "attempts": m.attempts,
        "event_type": m.event_type,
        "subject_type": m.subject_type,
        "subject_id": m.subject_id,
        "at": m.updated_at.isoformat(),
    }


class MessageData(Schema):
    message_id = fields.String(required=True, metadata={"format": "uuid"})
    channel = fields.String(required=True, metadata={"description": "email or sms"})
    audience = fields.String(required=True, metadata={"description": "staff or customer"})
    recipient_id = fields.String(required=True, metadata={"description": "user id or account id"})
    purpose = fields.String(
        required=True, metadata={"description": "reminder, alert, greeting, marketing, notice"}
    )
    state = fields.String(required=True, metadata={"description": "sent or failed"})
    reason = fields.String(required=True, allow_none=True, metadata={"description": "why it failed"})
    attempts = fields.Integer(required=True)
    event_type = fields.String(
        required=True, allow_none=True, metadata={"description": "the causing event type"}
    )
    subject_type = fields.String(required=True, allow_none=True)
    subject_id = fields.String(required=True, allow_none=True)
    at = fields.DateTime(required=True)


publishes(
    MESSAGE_SENT,
    MessageData,
    subject="the message id",
    summary="An e-mail or SMS was handed to its channel (SMTP server or SMS provider)",
)
publishes(
    MESSAGE_FAILED,
    MessageData,
    subject="the message id",
    summary="An e-mail or SMS failed for good (permanent refusal or retries used up)",
)
