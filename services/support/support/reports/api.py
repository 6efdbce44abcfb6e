"""HTTP API of the reports: JSON by default, ``?format=csv`` (UTF-8 with BOM, Chinese headers)
or ``?format=xlsx`` (one streamed sheet), the same figures in each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

import authn
from authn.flask import require_roles
from httpapi import Blueprint, StrictSchema

from .. import web
from ..errors import Invalid
from ..policy.service import current_policy
from . import rules, service

blp = Blueprint(
    "support_reports",
    __name__,
    url_prefix="/api/v1/support/reports",
    description="Reports: complaints (月度客诉统计), supervision (服务监督报告), weekly, "
    "return visits (回访总结报告)",
)
VIEWERS = (
    authn.ADMIN,
    authn.SUPPORT_SUPERVISOR,
    authn.SALES_OPS_MANAGER,
    authn.SALES_GM,
    authn.SALES_VP,
    authn.GROUP_GM,
    authn.SERVICE_CLERK,
    authn.QUALITY_INSPECTOR,
)
FORMATS = ("json", "csv", "xlsx")
FORMATS_DOC = (
    "JSON by default; ?format=csv: text/csv, UTF-8 with BOM, Chinese headers; ?format=xlsx: "
    "one sheet of (section, metric, value) rows"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_month = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Must be YYYY-MM.")


class _Query(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class MonthQuerySchema(_Query):
    month = fields.String(required=True, validate=_month, metadata={"description": "YYYY-MM, local"})


class WeekQuerySchema(_Query):
    week_ending = fields.Date(
        required=True,
        metadata={"description": "any day: the report covers Saturday to the Friday on or after it"},
    )


class RangeQuerySchema(_Query):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class ReportSchema(Schema):
    report = fields.String()
    figures = fields.Dict(
        metadata={
            "description": "the report's figures; rates are shares 0..1, money decimal strings with 2 places"
        }
    )


def _answer(name: str, fmt: str, build: Callable[[Any], dict[str, Any]]) -> Any:
    with web.ctx().bus.session_factory() as session:
        try:
            figures = build(session)
        except ValueError as exc:
            raise Invalid({"_schema": str(exc)}, "query") from exc
    if fmt == "json":
        return {"report": figures["report"], "figures": figures}
    rows = rules.flatten(figures)
    if fmt == "csv":
        return Response(
            rules.to_csv(rows),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        rules.to_xlsx(name, rows),
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def _documented(func: Callable[..., Any]) -> Callable[..., Any]:
    func = blp.alt_response(
        200,
        description=FORMATS_DOC,
        content_type=XLSX,
        schema={"type": "string", "format": "binary"},
    )(func)
    func = blp.alt_response(
        200,
        description=FORMATS_DOC,
        content_type="text/csv",
        schema={"type": "string"},
    )(func)
    return blp.response(200, ReportSchema, description=FORMATS_DOC)(func)


@blp.route("/complaints")
@blp.arguments(MonthQuerySchema, location="query")
@_documented
@require_roles(*VIEWERS)
def complaints(query: dict[str, Any]) -> Any:
    """月度客诉统计: complaints received and counted (⑨) in the month."""
    return _answer(
        f"complaints-{query['month']}",
        query["format"],
        lambda s: service.complaint_statistics(s, current_policy(s), query["month"]),
    )


@blp.route("/supervision")
@blp.arguments(MonthQuerySchema, location="query")
@_documented
@require_roles(*VIEWERS)
def supervision(query: dict[str, Any]) -> Any:
    """服务监督报告 (month-end): intake, SLA attainment, one-stop rate, repeat-contact rate,
    return-visit coverage, satisfaction."""
    return _answer(
        f"supervision-{query['month']}",
        query["format"],
        lambda s: service.supervision(s, current_policy(s), query["month"]),
    )


@blp.route("/weekly")
@blp.arguments(WeekQuerySchema, location="query")
@_documented
@require_roles(*VIEWERS)
def weekly(query: dict[str, Any]) -> Any:
    """The Friday weekly summary."""
    return _answer(
        f"weekly-{query['week_ending']}",
        query["format"],
        lambda s: service.weekly(s, current_policy(s), query["week_ending"]),
    )


@blp.route("/return-visits")
@blp.arguments(RangeQuerySchema, location="query")
@_documented
@require_roles(*VIEWERS)
def return_visits(query: dict[str, Any]) -> Any:
    """回访总结报告: the return visits due in the period."""
    if (query["to"] - query["from_"]).days > 366:
        raise Invalid({"to": "At most a year."}, "query")
    return _answer(
        f"return-visits-{query['from_']}-{query['to']}",
        query["format"],
        lambda s: service.visit_summary(s, current_policy(s), query["from_"], query["to"]),
    )
