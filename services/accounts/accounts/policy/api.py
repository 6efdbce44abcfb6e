"""HTTP API of the accounts policy: read (staff), change (admin, with a reason), audit trail."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from ..errors import Invalid
from . import service
from .models import AccountsPolicyChange, AccountsPolicyRow
from .rules import PolicyError
from .schemas import PolicyChangeListSchema, PolicySchema, PolicyUpdateSchema

blp = Blueprint("accounts_policy", __name__, url_prefix="/api/v1/accounts/policy",
                description="Accounts policy: grading, status, review and points numbers, audited")


def _view(row: AccountsPolicyRow) -> dict[str, Any]:
    return {"version": row.version, "updated_at": row.updated_at, "updated_by": row.updated_by,
            "policy": service.policy_from_row(row).to_dict()}


@blp.route("")
class Policy(MethodView):
    @blp.response(200, PolicySchema)
    @require_roles(*authn.ROLES)
    def get(self) -> dict[str, Any]:
        """Grade criteria, bands, coefficients and class policies; status and re-approval
        intervals; referral points — the documents' values unless an admin changed them."""
        with web.ctx().bus.session_factory() as session, session.begin():
            return _view(service.policy_row(session))

    @blp.arguments(PolicyUpdateSchema)
    @blp.response(200, PolicySchema)
    @require_roles(authn.ADMIN)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change some policy fields (admin only) with a reason; audited (old and new value)."""
        reason = body.pop("reason").strip()
        if not body:
            raise Invalid({"_schema": "Name at least one policy field to change."})
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            try:
                row, _ = service.change_policy(session, current_principal().sub, ctx.clock(), body,
                                               reason)
            except PolicyError as exc:
                raise Invalid(exc.errors) from exc
            return _view(row)


@blp.route("/changes")
class PolicyChanges(MethodView):
    @blp.response(200, PolicyChangeListSchema)
    @require_roles(authn.ADMIN, authn.SALES_OPS_MANAGER, authn.GROUP_GM)
    def get(self) -> dict[str, Any]:
        """The policy's audit trail, newest first."""
        with web.ctx().bus.session_factory() as session:
            rows = session.scalars(select(AccountsPolicyChange)
                                   .order_by(AccountsPolicyChange.id.desc()).limit(200))
            return {"items": list(rows)}
