"""HTTP API of the notify policy: read (staff), change (admin, with a reason), audit trail."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem

from .. import web
from . import service
from .models import NotifyPolicyChange, NotifyPolicyRow
from .rules import PolicyError
from .schemas import PolicyChangeListSchema, PolicySchema, PolicyUpdateSchema

blp = Blueprint(
    "notify_policy",
    __name__,
    url_prefix="/api/v1/notify/policy",
    description="Notify policy: quiet hours, sending days, retries, webhooks — audited",
)


def _view(row: NotifyPolicyRow) -> dict[str, Any]:
    return {
        "version": row.version,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "policy": service.policy_from_row(row).to_dict(),
    }


@blp.route("")
class Policy(MethodView):
    @blp.response(200, PolicySchema)
    @require_roles(*authn.ROLES)
    def get(self) -> dict[str, Any]:
        """The organisation's notify policy (documented defaults unless an admin changed them)."""
        with web.ctx().bus.session_factory() as session, session.begin():
            return _view(service.policy_row(session))

    @blp.arguments(PolicyUpdateSchema)
    @blp.response(200, PolicySchema)
    @require_roles(authn.ADMIN)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change some policy fields with a reason; audited with old and new values."""
        reason = body.pop("reason").strip()
        if not body:
            raise Problem(
                422,
                "Unprocessable Content",
                "name at least one policy field to change",
                errors={"json": {"_schema": ["No policy field given."]}},
            )
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            try:
                row, _ = service.change_policy(session, current_principal().sub, ctx.clock(), body, reason)
            except PolicyError as exc:
                raise web.unprocessable(exc.errors) from exc
            return _view(row)


@blp.route("/changes")
class PolicyChanges(MethodView):
    @blp.response(200, PolicyChangeListSchema)
    @require_roles(authn.ADMIN)
    def get(self) -> dict[str, Any]:
        """The policy's audit trail, newest first."""
        with web.ctx().bus.session_factory() as session:
            return {
                "items": list(
                    session.scalars(
                        select(NotifyPolicyChange).order_by(NotifyPolicyChange.id.desc()).limit(200)
                    )
                )
            }
