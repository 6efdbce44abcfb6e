"""HTTP API of credit checks for order systems (API key or token)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy.exc import IntegrityError

from authn.flask import require_roles
from httpapi import Blueprint, Problem

from ..credit import web
from . import service
from .models import CreditCheck
from .schemas import CheckCreateSchema, CheckSchema

blp = Blueprint("credit_checks", __name__, url_prefix="/api/v1/accounts",
                description="Credit checks: approve with a reservation, or hold with every reason")


@blp.route("/<string:account_id>/credit/checks")
class Checks(MethodView):
    @blp.arguments(CheckCreateSchema)
    @blp.response(200, CheckSchema, description="The existing check of this order (idempotent)")
    @blp.alt_response(201, schema=CheckSchema, description="A new check: reserved or held")
    @require_roles(*web.CHECKERS)
    def post(self, body: dict[str, Any], account_id: str) -> tuple[CreditCheck, int]:
        """Check an order: approved = a reservation that raises exposure until the order is
        invoiced, cancelled or expires; held = every reason. Repeating an order id returns its
        check (a held one is evaluated again)."""
        try:
            with web.check_operation(account_id, body["order_id"]) as (op, locked):
                check, created = service.check(op, **body, locked=locked)
        except IntegrityError as exc:  # the same order id raced in on another account
            raise Problem(409, "Conflict", f"order {body['order_id']} is being checked elsewhere") from exc
        return check, 201 if created else 200


@blp.route("/<string:account_id>/credit/checks/<string:order_id>/release")
class Release(MethodView):
    @blp.response(200, CheckSchema)
    @require_roles(*web.CHECKERS)
    def post(self, account_id: str, order_id: str) -> CreditCheck:
        """The order was cancelled: release its reservation."""
        with web.operation(account_id) as op:
            return service.release(op, order_id)
