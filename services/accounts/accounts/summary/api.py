"""The grade summary table (客户等级管理汇总表) as CSV or XLSX: managers only, every export
audited (who, what, when, how many rows)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, StrictSchema
from httpapi.schemas import UtcDateTime

from .. import domain, web
from ..archive.models import ExportLog
from ..archive.rules import can_export, neutralise
from ..errors import Forbidden
from ..models import Account
from ..policy.service import current_policy
from . import service
from .xlsx import stream_xlsx

blp = Blueprint("grade_summary", __name__, url_prefix="/api/v1/accounts",
                description="Grade summary table (客户等级管理汇总表) and the export log")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTERS = (authn.SALES_MANAGER, authn.SALES_OPS_MANAGER, authn.SALES_VP, authn.SALES_GM,
             authn.GROUP_GM, authn.ADMIN)


class SummaryQuerySchema(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")),
                           metadata={"description": "csv (UTF-8 with BOM) or xlsx"})


class ExportLogSchema(Schema):
    id = fields.String()
    at = UtcDateTime()
    actor = fields.String()
    kind = fields.String()
    fmt = fields.String()
    scope = fields.String()
    rows = fields.Integer()


class ExportLogListSchema(Schema):
    items = fields.List(fields.Nested(ExportLogSchema))


def _log(fmt: str, scope: domain.Scope, rows: int) -> None:
    ctx = web.ctx()
    label = "all" if scope.everything else f"owner={scope.owner_id} team={scope.team}"
    with ctx.bus.session_factory() as session, session.begin():
        session.add(ExportLog(id=str(uuid.uuid4()), at=ctx.clock(), actor=current_principal().sub,
                              kind="grade_summary", fmt=fmt, scope=label[:200], rows=rows))


def _rows(scope: domain.Scope) -> Iterator[tuple[object, ...]]:
    with web.ctx().bus.session_factory() as session:
        policy = current_policy(session)
        yield from service.rows(session, policy, owner_id=scope.owner_id, team=scope.team,
                                everything=scope.everything)


def _csv(scope: domain.Scope) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(service.HEADERS)
    yield "\ufeff" + buf.getvalue()
    for row in _rows(scope):
        buf.seek(0)
        buf.truncate()
        writer.writerow([neutralise(v) for v in row])
        yield buf.getvalue()
    buf.seek(0)
    buf.truncate()
    writer.writerow([])
    writer.writerow(service.SIGN_OFF)
    yield buf.getvalue()


def _xlsx(scope: domain.Scope) -> Iterator[bytes]:
    """The workbook streamed as rows are read (bounded memory; see summary/xlsx.py)."""
    def table() -> Iterator[Sequence[object]]:
        yield service.HEADERS
        for row in _rows(scope):
            yield [neutralise(v) for v in row]
        yield ()
        yield service.SIGN_OFF

    yield from stream_xlsx("客户等级管理汇总表", table())


@blp.route("/grade-summary")
class GradeSummary(MethodView):
    @blp.arguments(SummaryQuerySchema, location="query")
    @blp.response(200, content_type="text/csv", description="CSV (UTF-8 with BOM) or XLSX")
    @require_roles(*EXPORTERS)
    def get(self, query: dict[str, Any]) -> Response:
        """客户等级管理汇总表: No, 客户名称, 业务员, 客户等级评分, 等级系数, 月均销售额(元), 信用履约率,
        客户等级, 信用额度(元), 备注 and the sign-off block; cells starting with = + - @ are
        neutralised. A sales manager exports their team's accounts. Audited."""
        principal = current_principal()
        if not can_export(principal):
            raise Forbidden("exports are limited to managers")
        scope = domain.scope_for(principal)
        with web.ctx().bus.session_factory() as session:
            stmt = select(func.count(Account.id))
            if not scope.everything:
                stmt = stmt.where((Account.owner_id == scope.owner_id)
                                  | (Account.owner_team == scope.team))
            count = session.scalar(stmt) or 0
        _log(query["format"], scope, count)
        if query["format"] == "xlsx":
            return Response(stream_with_context(_xlsx(scope)), mimetype=XLSX, headers={
                "Content-Disposition": 'attachment; filename="grade-summary.xlsx"'})
        return Response(stream_with_context(_csv(scope)), mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="grade-summary.csv"'})


@blp.route("/exports")
class Exports(MethodView):
    @blp.response(200, ExportLogListSchema)
    @require_roles(authn.ADMIN, authn.SALES_OPS_MANAGER, authn.GROUP_GM)
    def get(self) -> dict[str, Any]:
        """Who exported what, when (newest first)."""
        with web.ctx().bus.session_factory() as session:
            return {"items": list(session.scalars(
                select(ExportLog).order_by(ExportLog.at.desc()).limit(200)))}
