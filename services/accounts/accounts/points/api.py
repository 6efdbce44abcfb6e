"""HTTP API of referral points: the balance and the ledger."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

import authn
from authn.flask import require_roles
from httpapi import Blueprint
from httpapi.schemas import UtcDateTime

from .. import web
from . import service

blp = Blueprint("points", __name__, url_prefix="/api/v1/accounts",
                description="Referral points (积分, §2.8)")


class PointsEntrySchema(Schema):
    id = fields.String()
    at = UtcDateTime()
    points = fields.Integer()
    balance = fields.Integer()
    reason = fields.String()
    referred_lead_code = fields.String(allow_none=True)
    actor = fields.String()


class PointsLedgerSchema(Schema):
    balance = fields.Integer()
    items = fields.List(fields.Nested(PointsEntrySchema))


@blp.route("/<string:account_id>/points")
class Points(MethodView):
    @blp.response(200, PointsLedgerSchema)
    @require_roles(*authn.ROLES)
    def get(self, account_id: str) -> dict[str, Any]:
        """The account's points balance and its ledger, newest first."""
        with web.ctx().bus.session_factory() as session:
            account = web.visible_account(session, account_id)
            return {"balance": account.points_balance,
                    "items": service.ledger(session, account.id)}
