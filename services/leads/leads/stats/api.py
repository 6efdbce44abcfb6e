"""Statistics of leads over HTTP (JSON or CSV): daily walk-ins and calls, funnels, stale leads.

Thin: load plain rows in the caller's scope, let :mod:`leads.stats` bucket and compute. Computed
from this service's own tables only (leads, visits, and the pipeline's stage/lost columns and
follow-up log when they exist).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authn import Principal
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from leads.intake.models import Lead, Visit
from leads.pipeline.models import LeadFollowUp
from leads.policy.service import current_policy
from leads.stats import rules as stats
from leads.web import SALES, _ctx

blp = Blueprint("lead_stats", __name__, url_prefix="/api/v1/leads/stats",
                description="Lead statistics (JSON, or CSV with ?format=csv)")
FORMATS = ("json", "csv")


# -- request shapes -------------------------------------------------------------------------


class _StatsQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    team = fields.String(load_default=None, metadata={
        "description": "admins: one team only; managers: their own team (another is 403)"})


class DailyQuerySchema(_StatsQuery):
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "first day, local"})
    to = fields.Date(required=True, metadata={"description": "last day (inclusive), local"})


class FunnelQuerySchema(_StatsQuery):
    period = fields.String(load_default=stats.MONTH, validate=validate.OneOf(stats.PERIODS))
    date = fields.Date(required=True, metadata={"description": "any day in the week/month"})
    group_by = fields.String(load_default=stats.BY_SOURCE, validate=validate.OneOf(stats.GROUPINGS))


class WithoutFollowUpQuerySchema(_StatsQuery):
    days = fields.Integer(load_default=7, validate=validate.Range(min=1, max=365))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class DailyReportSchema(Schema):
    timezone = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    rows = fields.List(fields.Dict(), metadata={"description": (
        "per day and rep: date, owner_id, owner_team, walk_ins, new_walk_ins, repeat_walk_ins, "
        "calls, new_calls, repeat_calls, total")})
    totals = fields.Dict(allow_none=True)


class FunnelReportSchema(Schema):
    timezone = fields.String()
    period = fields.String()
    label = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    group_by = fields.String()
    stages_tracked = fields.Boolean()
    groups = fields.List(fields.Dict(), metadata={"description": (
        "group, registered, open, converted, lost, terminated, conversion_rate, "
        "median_hours_to_convert, lost_reasons, stages (the last four null if not tracked)")})
    totals = fields.Dict(allow_none=True)


class WithoutFollowUpReportSchema(Schema):
    days = fields.Integer()
    as_of = fields.DateTime()
    count = fields.Integer()
    leads = fields.List(fields.Dict())


# -- scope, timezone, pipeline columns ------------------------------------------------------


def _scoped(stmt: Any, principal: Principal, team: str | None) -> Any:
    """Admins and integrations see everything (or ``?team=``); managers their team; reps
    their own leads — the same rows the lead list would show them."""
    if principal.is_admin or principal.kind == "apikey":
        return stmt.where(Lead.owner_team == team) if team else stmt
    if principal.is_manager:
        if team and team != principal.team:
            raise Problem(403, "Forbidden", "managers see only their own team's statistics")
        return stmt.where(Lead.owner_team == principal.team)
    return stmt.where(Lead.owner_id == principal.sub)


def org_timezone(session: Session) -> tzinfo:
    """The organization's timezone, from the stored lead policy."""
    return current_policy(session).tz


def _stages_tracked() -> bool:
    """The pipeline's stage and lost-reason columns are always there (migration 0004)."""
    return True


def _follow_up_model() -> Any:
    return LeadFollowUp


# -- output ---------------------------------------------------------------------------------


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], name: str) -> Response:
    return Response(stats.to_csv(rows, columns), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
                    content_type="text/csv; charset=utf-8")


def _tz_name(tz: tzinfo) -> str:
    return getattr(tz, "key", str(tz))


# -- endpoints ------------------------------------------------------------------------------


@blp.route("/daily-reception")
@blp.arguments(DailyQuerySchema, location="query")
@blp.response(200, DailyReportSchema)
@blp.alt_response(200, description="text/csv (UTF-8 with BOM) with ?format=csv",
                  content_type="text/csv")
@require_roles(*SALES)
def daily_reception(query: dict[str, Any]) -> Any:
    """来人来电统计表: per local day and rep, walk-ins and calls — new leads registered from that
    channel plus visits recorded on known leads — counted for the lead's owner."""
    principal = current_principal()
    with _ctx().bus.session_factory() as session:
        tz = org_timezone(session)
        try:
            start, end = stats.day_range(query["from_"], query["to"], tz)
        except ValueError as exc:
            raise Problem(422, "Unprocessable Content", str(exc)) from exc
        channels = (stats.WALK_IN, stats.PHONE_CALL)
        new = session.execute(_scoped(
            select(Lead.created_at, Lead.source, Lead.owner_id, Lead.owner_team).where(
                Lead.created_at >= start, Lead.created_at < end, Lead.source.in_(channels),
                Lead.merged_into.is_(None)), principal, query["team"])).all()
        repeat = session.execute(_scoped(
            select(Visit.at, Visit.channel, Lead.owner_id, Lead.owner_team)
            .join(Lead, Lead.id == Visit.lead_id)
            .where(Visit.at >= start, Visit.at < end, Visit.channel.in_(channels)),
            principal, query["team"])).all()
    touches = [stats.Touch(at, channel, owner, team, new_lead=True)
               for at, channel, owner, team in new]
    touches += [stats.Touch(at, channel, owner, team, new_lead=False)
                for at, channel, owner, team in repeat]
    rows = stats.daily_reception(touches, tz)
    if query["format"] == "csv":
        return _csv(rows, stats.DAILY_COLUMNS,
                    f"daily-reception-{query['from_']}-{query['to']}")
    return {"timezone": _tz_name(tz), "from_": query["from_"], "to": query["to"], "rows": rows,
            "totals": stats.daily_totals(rows)}


@blp.route("/funnel")
@blp.arguments(FunnelQuerySchema, location="query")
@blp.response(200, FunnelReportSchema)
@blp.alt_response(200, description="text/csv (UTF-8 with BOM) with ?format=csv",
                  content_type="text/csv")
@require_roles(*SALES)
def funnel(query: dict[str, Any]) -> Any:
    """Weekly (ISO, Monday to Sunday) or monthly funnel of the leads registered in the period, by
    source, rep or team: where they are now, conversion rate, median time to convert."""
    principal = current_principal()
    tracked = _stages_tracked()
    columns = [Lead.source, Lead.owner_id, Lead.owner_team, Lead.status, Lead.created_at,
               Lead.converted_at]
    if tracked:
        columns += [Lead.stage, Lead.lost_reason]
    with _ctx().bus.session_factory() as session:
        tz = org_timezone(session)
        period = stats.period_of(query["period"], query["date"], tz)
        rows = session.execute(_scoped(select(*columns).where(
            Lead.created_at >= period.start, Lead.created_at < period.end,
            Lead.merged_into.is_(None)), principal, query["team"])).all()
    leads = [stats.FunnelLead(*r) for r in rows]
    groups = stats.funnel(leads, query["group_by"], with_stages=tracked)
    all_rows = stats.funnel([_ungrouped(lead) for lead in leads], stats.BY_SOURCE,
                            with_stages=tracked)
    totals = {**all_rows[0], "group": "all"} if all_rows else None
    if query["format"] == "csv":
        return _csv(groups + ([totals] if totals else []), stats.FUNNEL_COLUMNS,
                    f"funnel-{query['group_by']}-{period.label}")
    return {"timezone": _tz_name(tz), "period": period.kind, "label": period.label,
            "from_": period.first_day, "to": period.last_day, "group_by": query["group_by"],
            "stages_tracked": tracked, "groups": groups, "totals": totals}


def _ungrouped(lead: stats.FunnelLead) -> stats.FunnelLead:
    """The same lead under one common source, so the funnel of everyone is one group."""
    return replace(lead, source="all")


@blp.route("/without-follow-up")
@blp.arguments(WithoutFollowUpQuerySchema, location="query")
@blp.response(200, WithoutFollowUpReportSchema)
@blp.alt_response(200, description="text/csv (UTF-8 with BOM) with ?format=csv",
                  content_type="text/csv")
@require_roles(*SALES)
def without_follow_up(query: dict[str, Any]) -> Any:
    """Open leads nobody has touched (registered, visited or followed up) for ``days`` days,
    the longest-neglected first."""
    principal = current_principal()
    ctx = _ctx()
    now = ctx.clock()
    cutoff = stats.stale_since(now, query["days"])
    last_visit = (select(Visit.lead_id, func.max(Visit.at).label("at"))
                  .group_by(Visit.lead_id).subquery())
    stmt = (select(Lead, last_visit.c.at).outerjoin(last_visit, last_visit.c.lead_id == Lead.id)
            .where(Lead.status == stats.OPEN, Lead.merged_into.is_(None),
                   Lead.created_at < cutoff,
                   (last_visit.c.at.is_(None)) | (last_visit.c.at < cutoff)))
    follow_up = _follow_up_model()
    if follow_up is not None:
        last_follow = (select(follow_up.lead_id, func.max(follow_up.at).label("at"))
                       .group_by(follow_up.lead_id).subquery())
        stmt = (stmt.add_columns(last_follow.c.at)
                .outerjoin(last_follow, last_follow.c.lead_id == Lead.id)
                .where((last_follow.c.at.is_(None)) | (last_follow.c.at < cutoff)))
    if _stages_tracked():
        stmt = stmt.where(Lead.stage.not_in((stats.LOST, stats.TERMINATED)))
    stmt = _scoped(stmt, principal, query["team"]).order_by(Lead.created_at, Lead.id)
    with ctx.bus.session_factory() as session:
        result = session.execute(stmt).all()
    rows = []
    for lead, *touches in result:
        last = max([lead.created_at, *(t for t in touches if t is not None)])
        rows.append({
            "lead_id": lead.id, "code": lead.code, "name": lead.name, "company": lead.company,
            "source": lead.source, "owner_id": lead.owner_id, "owner_team": lead.owner_team,
            "registered_at": lead.created_at.isoformat(), "last_touch_at": last.isoformat(),
            "days_without_touch": stats.days_since(now, last),
        })
    rows.sort(key=lambda r: (r["last_touch_at"], r["lead_id"]))
    rows = rows[: query["limit"]]
    if query["format"] == "csv":
        return _csv(rows, stats.WITHOUT_FOLLOW_UP_COLUMNS, f"without-follow-up-{query['days']}d")
    return {"days": query["days"], "as_of": now, "count": len(rows), "leads": rows}

