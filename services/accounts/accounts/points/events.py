"""``accounts.points.awarded.v1``: referral points credited to an old customer."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from eventbus.contracts import publishes

from ..archive.events import AccountRefData, base
from ..models import Account
from .models import PointsEntry

POINTS_AWARDED = "accounts.points.awarded.v1"
LEAD_REGISTERED = "leads.lead.registered.v1"
VISIT_RECORDED = "leads.visit.recorded.v1"


def awarded_payload(account: Account, entry: PointsEntry) -> dict[str, Any]:
    return {**base(account), "points": entry.points, "balance": entry.balance,
            "reason": entry.reason, "referred_lead_code": entry.referred_lead_code}


class PointsAwardedData(AccountRefData):
    points = fields.Integer(required=True)
    balance = fields.Integer(required=True)
    reason = fields.String(required=True)
    referred_lead_code = fields.String(required=True, allow_none=True)


publishes(POINTS_AWARDED, PointsAwardedData, subject="the account id",
          summary="Referral points were awarded to an account (§2.8)")


class LeadRegisteredIn(Schema):
    """What accounts reads of ``leads.lead.registered.v1``: referrals by an account."""

    class Meta:
        unknown = EXCLUDE

    lead_id = fields.String(required=True)
    code = fields.String(required=True)
    referrer_type = fields.String(load_default=None, allow_none=True)
    referrer_id = fields.String(load_default=None, allow_none=True)


class VisitRecordedIn(Schema):
    """What accounts reads of ``leads.visit.recorded.v1``: the lead came to a meeting."""

    class Meta:
        unknown = EXCLUDE

    lead_id = fields.String(required=True)
