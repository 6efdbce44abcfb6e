"""HTTP API of deals and their registers (小订明细表, 大订明细表, 签约明细表, 销售统计表)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem

from .. import domain
from ..credit import web
from ..credit.money import fmt
from . import rules, service
from .models import Deal
from .schemas import DealCreateSchema, DealListSchema, DealSchema, DealStageSchema, RegisterQuerySchema

blp = Blueprint("credit_deals", __name__, url_prefix="/api/v1/accounts",
                description="Deals: 小定 → 大定 → 签约 → 交款, deposit events, registers")
DEALERS = (authn.SALES_REP, authn.SALES_MANAGER, authn.FINANCE, authn.ADMIN)
REGISTER_READERS = (authn.SALES_MANAGER, authn.SALES_OPS_MANAGER, authn.SALES_VP, authn.SALES_GM,
                    authn.GROUP_GM, authn.FINANCE, authn.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/<string:account_id>/deals")
class Deals(MethodView):
    @blp.arguments(DealCreateSchema)
    @blp.response(201, DealSchema)
    @require_roles(*DEALERS)
    def post(self, body: dict[str, Any], account_id: str) -> Deal:
        """Open a deal with its small (小定) or large (大定) deposit; announces
        ``accounts.deposit.received.v1`` at once (central inventory control)."""
        with web.operation(account_id) as op:
            return service.open_deal(op, **body)

    @blp.response(200, DealListSchema)
    @require_roles(*web.READERS)
    def get(self, account_id: str) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            web.visible(session, account_id)
            return {"items": list(session.scalars(select(Deal).where(Deal.account_id == account_id)
                                                  .order_by(Deal.created_at, Deal.code).limit(500)))}


@blp.route("/<string:account_id>/deals/<string:deal_id>/stages")
class DealStages(MethodView):
    @blp.arguments(DealStageSchema)
    @blp.response(200, DealSchema)
    @require_roles(*DEALERS)
    def post(self, body: dict[str, Any], account_id: str, deal_id: str) -> Deal:
        """Move the deal to its next stage with the amount: 大定, 签约, 交款 (409 out of order)."""
        with web.operation(account_id) as op:
            return service.advance(op, deal_id, **body)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never a formula in a spreadsheet
    return value


@blp.route("/deal-registers/<string:register>")
class Registers(MethodView):
    @blp.arguments(RegisterQuerySchema, location="query")
    @blp.response(200, content_type="text/csv", description="CSV (UTF-8 with BOM) or XLSX")
    @require_roles(*REGISTER_READERS)
    def get(self, query: dict[str, Any], register: str) -> Response:
        """small_deposits (小订明细表), large_deposits (大订明细表), contracts (签约明细表) or sales
        (销售统计表, per rep) for [from, until) (empty when until is not after from); a sales
        manager sees their team's deals."""
        if register not in rules.REGISTERS:
            raise Problem(404, "Not Found", f"no register {register}; one of {', '.join(rules.REGISTERS)}")
        principal = current_principal()
        scope = (domain.Scope(everything=True) if principal.has_any(*web.CREDIT_STAFF)
                 else domain.scope_for(principal))
        headers = service.SALES_HEADERS if register == "sales" else service.HEADERS
        _, title = rules.REGISTERS[register]
        with web.ctx().bus.session_factory() as session:
            rows = [[_cell(v) for v in row] for row in service.register_rows(
                session, register, query["start"], query["until"], scope=scope)]
        name = f"{register}-{query['start'].isoformat()}"
        if query["format"] == "xlsx":
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet(title)
            sheet.append(list(headers))
            for row in rows:
                sheet.append(row)
            out = io.BytesIO()
            book.save(out)
            return Response(out.getvalue(), mimetype=XLSX, headers={
                "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([title])
        writer.writerow(headers)
        writer.writerows(rows)
        return Response("\ufeff" + buf.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
