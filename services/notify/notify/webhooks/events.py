"""Events of the webhooks capability."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from eventbus.contracts import publishes

from .models import WebhookEndpoint

ENDPOINT_DISABLED = "notify.webhook_endpoint.disabled.v1"


def disabled_payload(ep: WebhookEndpoint) -> dict[str, Any]:
    return {
        "endpoint_id": ep.id,
        "url": ep.url,
        "owner_id": ep.owner_id,
        "reason": ep.disabled_reason or "",
        "failing_since": ep.failing_since.isoformat() if ep.failing_since else None,
        "at": ep.updated_at.isoformat(),
    }


class EndpointDisabledData(Schema):
    endpoint_id = fields.String(required=True, metadata={"format": "uuid"})
    url = fields.String(required=True)
    owner_id = fields.String(required=True, metadata={"description": "the admin who registered it"})
    reason = fields.String(required=True)
    failing_since = fields.DateTime(required=True, allow_none=True)
    at = fields.DateTime(required=True)


publishes(
    ENDPOINT_DISABLED,
    EndpointDisabledData,
    subject="the endpoint id",
    summary="A webhook endpoint failed for the policy's number of days and was disabled",
)
