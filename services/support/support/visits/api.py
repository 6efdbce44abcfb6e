"""HTTP API of return visits, their scripts and delivered projects."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint
from httpapi.paging import newest_first, page

from .. import web
from ..errors import Conflict, NotFound
from . import service
from .models import DeliveredProject, ReturnVisit, VisitScript
from .schemas import (
    ProjectCreateSchema,
    ProjectListSchema,
    ProjectSchema,
    ResultSchema,
    ReturnVisitListQuerySchema,
    ReturnVisitPageSchema,
    ReturnVisitSchema,
    ScriptListSchema,
    ScriptSchema,
    ScriptWriteSchema,
)

blp = Blueprint(
    "support_visits",
    __name__,
    url_prefix="/api/v1/support",
    description="Return visits (回访), scripts, delivered projects",
)
DESK = (authn.ADMIN, authn.SUPPORT_AGENT, authn.SUPPORT_SUPERVISOR)
VIEWERS = (*DESK, authn.SERVICE_CLERK, authn.SALES_OPS_MANAGER, authn.SALES_GM, authn.GROUP_GM)
LEADS = (authn.ADMIN, authn.SUPPORT_SUPERVISOR)


def _visit_view(session: Any, visit: ReturnVisit) -> dict[str, Any]:
    out = {c.key: getattr(visit, c.key) for c in ReturnVisit.__table__.columns}
    script = (
        session.get(VisitScript, visit.script_id)
        if visit.script_id
        else session.scalars(
            select(VisitScript)
            .where(VisitScript.active.is_(True), VisitScript.reason == visit.reason)
            .order_by(VisitScript.name)
            .limit(1)
        ).first()
    )
    out["script"] = (
        {
            c.key: getattr(script, c.key)
            for c in VisitScript.__table__.columns
            if c.key not in ("updated_at", "updated_by")
        }
        if script
        else None
    )
    return out


@blp.route("/return-visits")
class ReturnVisits(MethodView):
    @blp.arguments(ReturnVisitListQuerySchema, location="query")
    @blp.response(200, ReturnVisitPageSchema)
    @require_roles(*VIEWERS)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Return visits, newest first (filter: due / done, reason, account)."""
        stmt = select(ReturnVisit)
        for name in ("status", "reason", "account_id"):
            if query[name]:
                stmt = stmt.where(getattr(ReturnVisit, name) == query[name])
        with web.ctx().bus.session_factory() as session:
            rows = list(session.scalars(newest_first(stmt, ReturnVisit.created_at, ReturnVisit.id, query)))
            result = page(rows, query["limit"], key=lambda v: (v.created_at, v.id))
            result["items"] = [_visit_view(session, v) for v in result["items"]]
            return result


@blp.route("/return-visits/<string:visit_id>")
class ReturnVisitById(MethodView):
    @blp.response(200, ReturnVisitSchema)
    @require_roles(*VIEWERS)
    def get(self, visit_id: str) -> dict[str, Any]:
        """One return visit with the script to read (满意 / 一般 / 不满意 branches)."""
        with web.ctx().bus.session_factory() as session:
            return _visit_view(session, service.get_visit(session, visit_id))


@blp.route("/return-visits/<string:visit_id>/result")
class VisitResult(MethodView):
    @blp.arguments(ResultSchema)
    @blp.response(200, ReturnVisitSchema)
    @blp.alt_response(409, description="Already recorded")
    @require_roles(*DESK)
    def post(self, body: dict[str, Any], visit_id: str) -> dict[str, Any]:
        """Record the answer; 一般 (neutral) or 不满意 (dissatisfied) opens a follow-up ticket for
        the supervisor; the visited ticket closes."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            visit = service.get_visit(session, visit_id, lock=True)
            service.record(session, ctx.bus, visit, current_principal(), body, ctx.clock())
            return _visit_view(session, visit)


@blp.route("/visit-scripts")
class Scripts(MethodView):
    @blp.response(200, ScriptListSchema)
    @require_roles(*VIEWERS)
    def get(self) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            return {"items": list(session.scalars(select(VisitScript).order_by(VisitScript.name)))}

    @blp.arguments(ScriptWriteSchema)
    @blp.response(201, ScriptSchema)
    @blp.alt_response(409, description="A script of that name exists")
    @require_roles(*LEADS)
    def post(self, body: dict[str, Any]) -> VisitScript:
        """A return-visit script (template) with the text of each answer branch."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            if session.scalar(select(VisitScript.id).where(VisitScript.name == body["name"])):
                raise Conflict(f"a script named {body['name']!r} exists")
            script = VisitScript(
                id=str(uuid.uuid4()), updated_at=ctx.clock(), updated_by=current_principal().sub, **body
            )
            session.add(script)
            return script


@blp.route("/visit-scripts/<string:script_id>")
class ScriptById(MethodView):
    @blp.arguments(ScriptWriteSchema)
    @blp.response(200, ScriptSchema)
    @blp.alt_response(404, description="No such script")
    @blp.alt_response(409, description="Another script has that name")
    @require_roles(*LEADS)
    def put(self, body: dict[str, Any], script_id: str) -> VisitScript:
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            script = session.get(VisitScript, script_id)
            if script is None:
                raise NotFound(f"no script {script_id}")
            taken = session.scalar(select(VisitScript.id).where(
                VisitScript.name == body["name"], VisitScript.id != script_id))
            if taken is not None:
                raise Conflict(f"a script named {body['name']!r} exists")
            for key, value in body.items():
                setattr(script, key, value)
            script.updated_at, script.updated_by = ctx.clock(), current_principal().sub
            return script


@blp.route("/projects")
class Projects(MethodView):
    @blp.response(200, ProjectListSchema)
    @require_roles(*VIEWERS)
    def get(self) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            return {
                "items": list(
                    session.scalars(
                        select(DeliveredProject).order_by(DeliveredProject.next_visit_on).limit(500)
                    )
                )
            }

    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectSchema)
    @require_roles(*DESK)
    def post(self, body: dict[str, Any]) -> DeliveredProject:
        """A delivered project: return visits monthly in its first year, quarterly after."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            return service.register_project(session, current_principal(), body, ctx.clock())
