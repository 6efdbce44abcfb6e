"""HTTP API of the archive: direct edits (archive clerk), change requests (everyone else with
access), violations, evaluations, status, and the archive flow (submit, approve, reject)."""

from __future__ import annotations

import json
from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from ..api import detail
from ..errors import Forbidden
from ..models import Account
from . import rules, service
from .models import ChangeRequest
from .schemas import (
    AccountDetailSchema,
    ChangeRequestInSchema,
    ChangeRequestListSchema,
    ChangeRequestQuerySchema,
    ChangeRequestSchema,
    DecisionSchema,
    EvaluationInSchema,
    EvaluationSchema,
    OptionalReasonSchema,
    StatusChangeSchema,
    ViolationInSchema,
    ViolationSchema,
)

blp = Blueprint("archive", __name__, url_prefix="/api/v1/accounts",
                description="The customer archive (客户档案): edits, change requests, flow")
CLERK = (authn.ARCHIVE_CLERK,)


def _request_view(row: ChangeRequest) -> dict[str, Any]:
    data = {c: getattr(row, c) for c in ("id", "account_id", "requested_by", "requested_at",
                                         "reason", "state", "decided_by", "decided_at",
                                         "decision_reason")}
    changes = json.loads(row.changes)
    if "bank_account" in changes and not rules.sees_bank_account(current_principal()):
        changes["bank_account"] = rules.mask_bank_account(changes["bank_account"])
    data["changes"] = changes
    return data


@blp.route("/<string:account_id>/change-requests")
class ChangeRequests(MethodView):
    @blp.arguments(ChangeRequestInSchema)
    @blp.response(201, ChangeRequestSchema)
    @require_roles(*authn.ROLES)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Submit a written change request (content and reason) for the archive clerk."""
        principal = current_principal()
        reason = body.pop("reason")
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id)
            if not rules.can_request_change(principal):
                raise Forbidden("your role cannot request archive changes")
            row = service.submit_change_request(session, account, body, actor=principal.sub,
                                                reason=reason, at=ctx.clock())
            return _request_view(row)

    @blp.response(200, ChangeRequestListSchema)
    @require_roles(*authn.ROLES)
    def get(self, account_id: str) -> dict[str, Any]:
        """The account's change requests, newest first."""
        with web.ctx().bus.session_factory() as session:
            web.visible_account(session, account_id)
            rows = session.scalars(select(ChangeRequest).where(ChangeRequest.account_id == account_id)
                                   .order_by(ChangeRequest.requested_at.desc()).limit(200))
            return {"items": [_request_view(r) for r in rows]}


@blp.route("/change-requests")
class ChangeRequestQueue(MethodView):
    @blp.arguments(ChangeRequestQuerySchema, location="query")
    @blp.response(200, ChangeRequestListSchema)
    @require_roles(*CLERK)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The archive clerk's queue of change requests (default: pending), oldest first."""
        with web.ctx().bus.session_factory() as session:
            rows = session.scalars(select(ChangeRequest).where(ChangeRequest.state == query["state"])
                                   .order_by(ChangeRequest.requested_at).limit(200))
            return {"items": [_request_view(r) for r in rows]}


@blp.route("/<string:account_id>/change-requests/<string:request_id>/apply")
class ApplyChangeRequest(MethodView):
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, ChangeRequestSchema)
    @require_roles(*CLERK)
    def post(self, body: dict[str, Any], account_id: str, request_id: str) -> dict[str, Any]:
        """Apply a pending change request (archive clerk); audited as the request's content."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            row = service.apply_change_request(session, ctx.bus.emit, account, request_id,
                                               actor=current_principal().sub,
                                               reason=body["reason"], at=ctx.clock())
            return _request_view(row)


@blp.route("/<string:account_id>/change-requests/<string:request_id>/reject")
class RejectChangeRequest(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(200, ChangeRequestSchema)
    @require_roles(*CLERK)
    def post(self, body: dict[str, Any], account_id: str, request_id: str) -> dict[str, Any]:
        """Reject a pending change request with a reason (archive clerk)."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            row = service.reject_change_request(session, account, request_id,
                                                actor=current_principal().sub,
                                                reason=body["reason"], at=ctx.clock())
            return _request_view(row)


@blp.route("/<string:account_id>/violations")
class Violations(MethodView):
    @blp.arguments(ViolationInSchema)
    @blp.response(201, ViolationSchema)
    @require_roles(*CLERK)
    def post(self, body: dict[str, Any], account_id: str) -> Any:
        """Record a violation (违规记录: time, type, description); audited."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            return service.record_violation(session, account, actor=current_principal().sub,
                                            at=ctx.clock(), **body)


@blp.route("/<string:account_id>/evaluations")
class Evaluations(MethodView):
    @blp.arguments(EvaluationInSchema)
    @blp.response(201, EvaluationSchema)
    @require_roles(*CLERK)
    def post(self, body: dict[str, Any], account_id: str) -> Any:
        """Record an evaluation (客户评价: evaluator, text); audited."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            return service.record_evaluation(session, account, actor=current_principal().sub,
                                             at=ctx.clock(), **body)


@blp.route("/<string:account_id>/status")
class Status(MethodView):
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, AccountDetailSchema)
    @require_roles(*CLERK)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Set the status (e.g. mark lost with a reason) — archive clerk; audited, an event."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            service.change_status(session, ctx.bus.emit, account, body["status"],
                                  actor=current_principal().sub, reason=body["reason"],
                                  at=ctx.clock())
            return detail(session, account)


@blp.route("/<string:account_id>/archive/submit")
class SubmitArchive(MethodView):
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, AccountDetailSchema)
    @require_roles(*CLERK)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """The clerk has entered the data: submit the archive to the customer review group."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            service.submit_for_review(session, account, actor=current_principal().sub,
                                      reason=body["reason"], at=ctx.clock())
            return detail(session, account)


def _decide(account_id: str, approve: bool, reason: str | None) -> dict[str, Any]:
    ctx = web.ctx()
    with ctx.bus.session_factory() as session, session.begin():
        account: Account = web.visible_account(session, account_id, lock=True)
        service.decide(session, ctx.bus.emit, account, approve=approve,
                       actor=current_principal().sub, reason=reason, at=ctx.clock())
        return detail(session, account)


@blp.route("/<string:account_id>/archive/approve")
class ApproveArchive(MethodView):
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, AccountDetailSchema)
    @require_roles(authn.GROUP_GM)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """The group GM (集团总经理) approves the graded archive: established and released."""
        return _decide(account_id, True, body["reason"])


@blp.route("/<string:account_id>/archive/reject")
class RejectArchive(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(200, AccountDetailSchema)
    @require_roles(authn.GROUP_GM)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """The group GM rejects the archive with a reason (the clerk may correct and resubmit)."""
        return _decide(account_id, False, body["reason"])
