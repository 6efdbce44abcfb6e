"""HTTP API of credit limits: the credit view, recomputation on demand, the credit policy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.views import MethodView

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem

from ..credit import policy as credit_policy
from ..credit import web
from ..credit.money import fmt
from ..credit.state import credit_row
from . import service
from .schemas import CreditViewSchema, PolicyUpdateSchema, PolicyViewSchema

blp = Blueprint("credit_limits", __name__, url_prefix="/api/v1/accounts",
                description="Credit limits: formula, limit in force, exposure, policy")


def _money_strings(view: dict[str, Any]) -> dict[str, Any]:
    return {k: fmt(v) if isinstance(v, Decimal) else v for k, v in view.items()}


@blp.route("/<string:account_id>/credit")
class Credit(MethodView):
    @blp.response(200, CreditViewSchema)
    @require_roles(*web.READERS)
    def get(self, account_id: str) -> dict[str, Any]:
        """Standard (formula) and effective limits side by side, the formula's inputs, exposure,
        available amount, hold state and overdue balance."""
        c = web.ctx()
        with c.bus.session_factory() as session, session.begin():
            account = web.visible(session, account_id)
            return _money_strings(service.view(session, account, c.clock()))


@blp.route("/<string:account_id>/credit/recompute")
class Recompute(MethodView):
    @blp.response(200, CreditViewSchema)
    @require_roles(authn.REVIEW_GROUP, authn.FINANCE, authn.ADMIN)
    def post(self, account_id: str) -> dict[str, Any]:
        """Recompute the standard limit now (it is also recomputed daily)."""
        c = web.ctx()
        with c.bus.session_factory() as session, session.begin():
            account = web.visible(session, account_id)
            policy = credit_policy.current(session)
            row = credit_row(session, account.id, policy.default_currency)
            service.recompute(session, row, c.clock(), policy)
            return _money_strings(service.view(session, account, c.clock()))


def _policy_view(session: Any) -> dict[str, Any]:
    row = session.get(credit_policy.CreditPolicyRow, 1)
    return {"version": row.version if row else 0, "updated_at": row.updated_at if row else None,
            "updated_by": row.updated_by if row else None,
            "policy": credit_policy.current(session).to_dict()}


@blp.route("/credit-policy")
class Policy(MethodView):
    @blp.response(200, PolicyViewSchema)
    @require_roles(*web.READERS)
    def get(self) -> dict[str, Any]:
        """The credit policy: windows, terms, default liability months, approval chains."""
        with web.ctx().bus.session_factory() as session:
            return _policy_view(session)

    @blp.arguments(PolicyUpdateSchema)
    @blp.response(200, PolicyViewSchema)
    @require_roles(authn.ADMIN)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change policy fields (admin, with a reason); audited field by field."""
        c = web.ctx()
        with c.bus.session_factory() as session, session.begin():
            try:
                credit_policy.change(session, current_principal().sub, c.clock(), body["changes"],
                                     body["reason"])
            except credit_policy.PolicyError as exc:
                raise Problem(422, "Unprocessable Content", "Invalid policy fields; see errors.",
                              errors={"json": {"changes": exc.errors}}) from exc
            return _policy_view(session)
