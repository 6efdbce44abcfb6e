"""HTTP API of holds: the state with its history and violations; manual place and release."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session

from authn.flask import require_roles
from httpapi import Blueprint, Problem

from ..credit import web
from ..credit.models import CreditAccount
from . import rules, service
from .models import HoldEntry, Violation
from .schemas import HoldChangeSchema, HoldViewSchema

blp = Blueprint("credit_holds", __name__, url_prefix="/api/v1/accounts",
                description="Credit holds: none → on hold → released, with history")


def _view(session: Session, row: CreditAccount) -> dict[str, Any]:
    history = list(session.scalars(select(HoldEntry).where(HoldEntry.account_id == row.account_id)
                                   .order_by(HoldEntry.at, HoldEntry.id)))
    violations = list(session.scalars(select(Violation).where(Violation.account_id == row.account_id)
                                      .order_by(Violation.at, Violation.id)))
    return {"state": row.hold_state, "reasons": list(row.hold_reasons or []), "history": history,
            "violations": violations}


@blp.route("/<string:account_id>/credit/hold")
class Hold(MethodView):
    @blp.response(200, HoldViewSchema)
    @require_roles(*web.READERS)
    def get(self, account_id: str) -> dict[str, Any]:
        """The hold state, its history (oldest first) and the archive's violation records."""
        with web.operation(account_id) as op:
            return _view(op.session, op.row)

    @blp.arguments(HoldChangeSchema)
    @blp.response(200, HoldViewSchema)
    @require_roles(*web.HOLDERS)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Put the account on hold manually, with a reason (409 when already held manually)."""
        with web.operation(account_id) as op:
            if not service.place(op.session, op.emit, op.account, op.row, [rules.MANUAL], at=op.now,
                                 actor=op.actor, note=body["reason"]):
                raise Problem(409, "Conflict", "the account is already on manual hold")
            op.session.flush()
            return _view(op.session, op.row)


@blp.route("/<string:account_id>/credit/hold/release")
class HoldRelease(MethodView):
    @blp.arguments(HoldChangeSchema)
    @blp.response(200, HoldViewSchema)
    @require_roles(*web.HOLDERS)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Release the hold manually, with a reason (409 when not on hold)."""
        with web.operation(account_id) as op:
            try:
                service.release(op.session, op.emit, op.account, op.row, at=op.now, actor=op.actor,
                                reason=body["reason"])
            except rules.HoldTransitionError as exc:
                raise Problem(409, "Conflict", str(exc)) from exc
            op.session.flush()
            return _view(op.session, op.row)
