"""HTTP API of grading: the review group grades; everyone who sees the account reads history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from ..policy.service import current_policy
from . import service
from .schemas import GradeAssessmentSchema, GradeHistorySchema, GradeInSchema

blp = Blueprint("grading", __name__, url_prefix="/api/v1/accounts",
                description="Customer grading A-E (客户等级评估)")


@blp.route("/<string:account_id>/grades")
class Grades(MethodView):
    @blp.arguments(GradeInSchema)
    @blp.response(201, GradeAssessmentSchema)
    @require_roles(authn.REVIEW_GROUP)
    def post(self, body: dict[str, Any], account_id: str) -> Any:
        """Grade the account on the assessment form (customer review group 客户评审小组): the
        score 0-100 gives the grade from the policy's bands; an archive under review moves on
        to the group GM's approval."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            return service.grade_account(session, ctx.bus.emit, account, body["scores"],
                                         actor=current_principal().sub, reason=body["reason"],
                                         at=ctx.clock())

    @blp.response(200, GradeHistorySchema)
    @require_roles(*authn.ROLES)
    def get(self, account_id: str) -> dict[str, Any]:
        """The current grade, its coefficient and class policy, and the grade history."""
        with web.ctx().bus.session_factory() as session:
            account = web.visible_account(session, account_id)
            policy = current_policy(session)
            grade, coefficient = service.current_grade(session, account.id)
            return {"grade": grade, "coefficient": f"{coefficient:.2f}",
                    "grade_class": policy.grade_classes.get(grade) if grade else None,
                    "items": service.history(session, account.id)}
