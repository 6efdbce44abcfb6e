"""HTTP API of major faults: report, track, analysis report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from ..errors import Forbidden
from ..tickets import rules as ticket_rules
from ..tickets import service as tickets
from . import service
from .models import MajorFault
from .schemas import (
    AnalysisSchema,
    FaultListQuerySchema,
    FaultListSchema,
    FaultReportSchema,
    FaultSchema,
    FaultUpdateCreateSchema,
)

blp = Blueprint(
    "support_faults",
    __name__,
    url_prefix="/api/v1/support",
    description="Major faults (§3.8): report, tracking, fault analysis report",
)
ANALYSTS = (authn.ADMIN, authn.SUPPORT_SUPERVISOR, authn.TECHNICIAN)


def _view(session: Any, fault: MajorFault) -> dict[str, Any]:
    out = {c.key: getattr(fault, c.key) for c in MajorFault.__table__.columns}
    out["updates"] = service.updates(session, fault.id)
    return out


def _visible(session: Any, fault_id: str, work: bool = False) -> MajorFault:
    fault = service.get(session, fault_id, lock=work)
    tickets.visible(session, fault.ticket_id, current_principal(), work=work)
    return fault


@blp.route("/tickets/<string:ticket_id>/major-fault")
class Report(MethodView):
    @blp.arguments(FaultReportSchema)
    @blp.response(201, FaultSchema)
    @blp.alt_response(409, description="Already reported")
    @require_roles(*ticket_rules.OPENERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """Report a major fault: the time, place, symptoms and handling plan go at once to the
        departments, the account owner, the responsible manager and management (critical)."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = tickets.visible(session, ticket_id, principal, lock=True)
            return _view(session, service.report(session, ctx.bus, ticket, principal, body, ctx.clock()))


@blp.route("/major-faults")
class Faults(MethodView):
    @blp.arguments(FaultListQuerySchema, location="query")
    @blp.response(200, FaultListSchema)
    @require_roles(*ticket_rules.SEE_ALL, authn.TECHNICIAN)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        stmt = select(MajorFault).order_by(MajorFault.reported_at.desc()).limit(500)
        if query["status"]:
            stmt = stmt.where(MajorFault.status == query["status"])
        with web.ctx().bus.session_factory() as session:
            return {"items": [_view(session, f) for f in session.scalars(stmt)]}


@blp.route("/major-faults/<string:fault_id>")
class FaultById(MethodView):
    @blp.response(200, FaultSchema)
    @require_roles(*ticket_rules.READERS)
    def get(self, fault_id: str) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            return _view(session, _visible(session, fault_id))


@blp.route("/major-faults/<string:fault_id>/updates")
class Track(MethodView):
    @blp.arguments(FaultUpdateCreateSchema)
    @blp.response(201, FaultSchema)
    @require_roles(*ticket_rules.READERS)
    def post(self, body: dict[str, Any], fault_id: str) -> dict[str, Any]:
        """A tracking note: how the handling goes, until the fault is over."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            fault = _visible(session, fault_id, work=True)
            service.track(session, ctx.bus, fault, current_principal(), body["note"], ctx.clock())
            return _view(session, fault)


@blp.route("/major-faults/<string:fault_id>/analysis")
class Analysis(MethodView):
    @blp.arguments(AnalysisSchema)
    @blp.response(200, FaultSchema)
    @blp.alt_response(409, description="Already issued")
    @require_roles(*ticket_rules.READERS)
    def post(self, body: dict[str, Any], fault_id: str) -> dict[str, Any]:
        """The fault analysis report (impact, handling, cause, corrective and preventive action),
        sent to the customer and the business department."""
        ctx = web.ctx()
        principal = current_principal()
        if not principal.has_any(*ANALYSTS):
            raise Forbidden("the technical service writes the fault analysis")
        with ctx.bus.session_factory() as session, session.begin():
            fault = _visible(session, fault_id, work=True)
            service.issue_analysis(session, ctx.bus, fault, principal, body, ctx.clock())
            return _view(session, fault)
