"""HTTP API of credit requests: file, read, decide step by step."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem

from ..credit import web
from . import service
from .models import CreditRequest, Decision
from .rules import ApprovalError
from .schemas import CreditDecisionCreateSchema, RequestCreateSchema, RequestListSchema, RequestSchema

blp = Blueprint("credit_requests", __name__, url_prefix="/api/v1/accounts",
                description="Credit limit-change requests and one-order exceptions, four-level approval")


def _view(session: Session, request: CreditRequest) -> dict[str, Any]:
    decisions = list(session.scalars(select(Decision).where(Decision.request_id == request.id)
                                     .order_by(Decision.step)))
    data = {c.key: getattr(request, c.key) for c in CreditRequest.__table__.columns}
    return {**data, "decisions": decisions}


@blp.route("/<string:account_id>/credit/requests")
class Requests(MethodView):
    @blp.arguments(RequestCreateSchema)
    @blp.response(201, RequestSchema)
    @require_roles(*web.REQUESTERS)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """File a limit change (with ``ends_on``: a temporary increase) or a one-order
        exception; the policy's chain decides in order (default: 销售管理部经理 → 销售副总 →
        销售总经理 → 集团总经理)."""
        kind = body.pop("kind")
        with web.operation(account_id) as op:
            request = service.file(op, kind=kind, body=body)
            return _view(op.session, request)

    @blp.response(200, RequestListSchema)
    @require_roles(*web.READERS)
    def get(self, account_id: str) -> dict[str, Any]:
        """The account's requests, newest first (at most 200)."""
        with web.ctx().bus.session_factory() as session:
            web.visible(session, account_id)
            rows = session.scalars(select(CreditRequest).where(CreditRequest.account_id == account_id)
                                   .order_by(CreditRequest.requested_at.desc()).limit(200))
            return {"items": [_view(session, r) for r in rows]}


@blp.route("/<string:account_id>/credit/requests/<string:request_id>")
class RequestById(MethodView):
    @blp.response(200, RequestSchema)
    @require_roles(*web.READERS)
    def get(self, account_id: str, request_id: str) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            web.visible(session, account_id)
            request = session.get(CreditRequest, request_id)
            if request is None or request.account_id != account_id:
                raise Problem(404, "Not Found", f"no request {request_id}")
            return _view(session, request)


@blp.route("/<string:account_id>/credit/requests/<string:request_id>/decisions")
class Decisions(MethodView):
    @blp.arguments(CreditDecisionCreateSchema)
    @blp.response(201, RequestSchema)
    @require_roles(*authn.ROLES)
    def post(self, body: dict[str, Any], account_id: str, request_id: str) -> dict[str, Any]:
        """Decide the current step with an opinion: only its role, never the requester; a
        rejection ends the request, the last approval applies it."""
        c = web.ctx()
        with c.bus.session_factory() as session, session.begin():
            account = web.visible(session, account_id)
            try:
                request = service.decide(session, c.bus.emit, request_id, account,
                                         current_principal(), decision=body["decision"],
                                         opinion=body["opinion"], step=body["step"], now=c.clock())
            except ApprovalError as exc:
                title = {403: "Forbidden", 404: "Not Found"}.get(exc.status, "Conflict")
                raise Problem(exc.status, title, str(exc)) from exc
            return _view(session, request)
