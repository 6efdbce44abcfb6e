"""HTTP API of the complaint flow: steps in order, approvals, accountability entries."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from ..policy.service import current_policy
from ..tickets import rules as ticket_rules
from ..tickets import service as tickets
from ..tickets.models import Ticket
from . import rules, service
from .models import AccountabilityEntry
from .schemas import (
    AccountabilityListSchema,
    AccountabilitySchema,
    ApprovalSchema,
    ComplaintSchema,
    StepSchema,
)

blp = Blueprint(
    "support_complaints",
    __name__,
    url_prefix="/api/v1/support/tickets",
    description="The nine-step complaint flow (§3.2a), approvals, accountability (§3.2d)",
)
APPROVERS = (authn.SALES_GM, authn.GROUP_GM, authn.SALES_VP, authn.ADMIN)
ACCOUNTABLE = (authn.ADMIN, authn.SUPPORT_SUPERVISOR, authn.SALES_OPS_MANAGER)


def _view(session: Session, ticket: Ticket) -> dict[str, Any]:
    policy = current_policy(session)
    complaint = service.get_complaint(session, ticket, policy)
    state = service.state(session, complaint, policy)
    out = {c.key: getattr(complaint, c.key) for c in type(complaint).__table__.columns}
    out.update(
        next_steps=sorted(rules.next_steps(state)),
        approvals_missing=list(state.approvals_missing),
        steps=service.steps(session, ticket.id),
        approvals=service.approvals(session, ticket.id),
    )
    return out


@blp.route("/<string:ticket_id>/complaint")
class ComplaintView(MethodView):
    @blp.response(200, ComplaintSchema)
    @require_roles(*ticket_rules.READERS)
    def get(self, ticket_id: str) -> dict[str, Any]:
        """Where the complaint stands: the last step, what may come next, approvals missing."""
        with web.ctx().bus.session_factory() as session, session.begin():
            return _view(session, tickets.visible(session, ticket_id, current_principal()))


@blp.route("/<string:ticket_id>/complaint/steps")
class Steps(MethodView):
    @blp.arguments(StepSchema)
    @blp.response(200, ComplaintSchema)
    @blp.alt_response(409, description="The step does not come next, or the ticket is no complaint")
    @require_roles(*ticket_rules.READERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """Record the next step of the complaint; steps come strictly in order (409 otherwise)."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            signer = principal.has_any(authn.SALES_OPS_MANAGER) and body["step"] == rules.SIGNED
            ticket = tickets.visible(session, ticket_id, principal, work=not signer, lock=True)
            service.record_step(session, ctx.bus, ticket, principal, body, ctx.clock())
            return _view(session, ticket)


@blp.route("/<string:ticket_id>/complaint/approvals")
class Approvals(MethodView):
    @blp.arguments(ApprovalSchema)
    @blp.response(200, ComplaintSchema)
    @require_roles(*APPROVERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """Approve (or reject: back to ④) the signed handling plan, as the sales GM / group GM."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = tickets.visible(session, ticket_id, principal, lock=True)
            service.approve(session, ctx.bus, ticket, principal, body, ctx.clock())
            return _view(session, ticket)


@blp.route("/<string:ticket_id>/accountability")
class Accountability(MethodView):
    @blp.response(200, AccountabilityListSchema)
    @require_roles(*ACCOUNTABLE)
    def get(self, ticket_id: str) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            tickets.visible(session, ticket_id, current_principal())
            return {
                "items": list(
                    session.scalars(
                        select(AccountabilityEntry)
                        .where(AccountabilityEntry.ticket_id == ticket_id)
                        .order_by(AccountabilityEntry.id)
                    )
                )
            }

    @blp.arguments(AccountabilitySchema)
    @blp.response(201, AccountabilityListSchema)
    @require_roles(*ACCOUNTABLE)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """Record the accountability entries of the grievance rules (amounts from the policy)."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = tickets.visible(session, ticket_id, principal)
            rows = service.record_accountability(session, ctx.bus, ticket, principal, body, ctx.clock())
            return {"items": rows}
