"""HTTP API of the pipeline and follow-ups: stage moves, outcomes, A/B/C tracking, follow-up log,
and the operator's "run the cadence now". Thin: rules in ``pipeline``/``cadence``, glue in
``pipeline_service``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from httpapi.paging import newest_first, page
from leads.intake import rules as domain
from leads.intake.models import Lead
from leads.pipeline import service as pipeline_service
from leads.pipeline.models import LeadFollowUp
from leads.pipeline.scheduler import run_cadence
from leads.pipeline.schemas import (
    CadenceRunSchema,
    FollowUpCreateSchema,
    FollowUpPageSchema,
    FollowUpQuerySchema,
    FollowUpSchema,
    LoseSchema,
    PipelineLeadSchema,
    StageMoveSchema,
    StageReportSchema,
    TerminateSchema,
    TrackingSchema,
)
from leads.web import SALES, _ctx, _visible_lead

blp = Blueprint("leads_pipeline", __name__, url_prefix="/api/v1/leads",
                description="Pipeline stages, outcomes, tracking class and follow-ups")
T = TypeVar("T")


def _change(lead_id: str, apply: Callable[[Any, Lead, Any], T]) -> tuple[Lead, T]:
    """Lock the caller's lead, apply a change in one transaction; rule violations answer 409."""
    ctx = _ctx()
    with ctx.bus.session_factory() as session, session.begin():
        lead = _visible_lead(session, lead_id, lock=True)
        policy = pipeline_service.lead_policy(session)
        try:
            result = apply(session, lead, policy)
        except pipeline_service.ChecklistMissing as exc:
            raise Problem(409, "Conflict", str(exc), missing=exc.missing) from exc
        except domain.RuleViolation as exc:
            raise Problem(409, "Conflict", str(exc)) from exc
    return lead, result


def _unprocessable(errors: dict[str, list[str]], detail: str) -> Problem:
    return Problem(422, "Unprocessable Content", detail, errors={"json": errors})


@blp.route("/<string:lead_id>/stage")
class LeadStage(MethodView):
    @blp.arguments(StageMoveSchema)
    @blp.response(200, PipelineLeadSchema)
    @require_roles(*SALES)
    def post(self, body: dict[str, Any], lead_id: str) -> Lead:
        """Move the lead to another active stage. Moving forward needs the exit checklists of the
        stages left behind (409 lists the ``missing`` items); ``facts`` record items that hold."""
        ctx = _ctx()

        def apply(session: Any, lead: Lead, policy: Any) -> bool:
            unknown = sorted(set(body["facts"]) - pipeline_service.checklist_items(policy))
            if unknown:
                raise _unprocessable({"facts": [f"Unknown checklist item: {', '.join(unknown)}."]},
                                     "unknown checklist items")
            if body["to_stage"] not in policy.stage_keys:
                raise _unprocessable(
                    {"to_stage": [f"Must be one of: {', '.join(policy.stage_keys)}."]},
                    "unknown stage (use lose / terminate / convert for outcomes)")
            return pipeline_service.move_stage(session, ctx.bus, lead, body["to_stage"], body["facts"],
                                               ctx.clock(), current_principal().sub, policy)

        return _change(lead_id, apply)[0]


@blp.route("/<string:lead_id>/lose")
class LoseLead(MethodView):
    @blp.arguments(LoseSchema)
    @blp.response(200, PipelineLeadSchema)
    @require_roles(*SALES)
    def post(self, body: dict[str, Any], lead_id: str) -> Lead:
        """Close the lead as lost, with a reason from the policy's list (422 otherwise)."""
        return _close(lead_id, "lost", body, lambda p: p.lost_reasons)


@blp.route("/<string:lead_id>/terminate")
class TerminateLead(MethodView):
    @blp.arguments(TerminateSchema)
    @blp.response(200, PipelineLeadSchema)
    @require_roles(*SALES)
    def post(self, body: dict[str, Any], lead_id: str) -> Lead:
        """Stop developing the lead for a credit, business or financial risk (final)."""
        return _close(lead_id, "terminated", body, lambda p: p.termination_reasons)


def _close(lead_id: str, outcome: str, body: dict[str, Any],
           allowed: Callable[[Any], tuple[str, ...]]) -> Lead:
    ctx = _ctx()

    def apply(session: Any, lead: Lead, policy: Any) -> None:
        if body["reason"] not in allowed(policy):
            raise _unprocessable({"reason": [f"Must be one of: {', '.join(allowed(policy))}."]},
                                 f"unknown {outcome} reason")
        pipeline_service.close_lead(session, ctx.bus, lead, outcome, body["reason"], body["note"],
                                    ctx.clock(), current_principal().sub, policy)

    return _change(lead_id, apply)[0]


@blp.route("/<string:lead_id>/reopen")
class ReopenLead(MethodView):
    @blp.response(200, PipelineLeadSchema)
    @require_roles(*SALES)
    def post(self, lead_id: str) -> Lead:
        """Re-open a lost lead at the first stage (409 for any other status)."""
        ctx = _ctx()
        return _change(lead_id, lambda s, lead, p: pipeline_service.reopen_lead(
            s, ctx.bus, lead, ctx.clock(), current_principal().sub, p))[0]


@blp.route("/<string:lead_id>/tracking")
class LeadTracking(MethodView):
    @blp.arguments(TrackingSchema)
    @blp.response(200, PipelineLeadSchema)
    @require_roles(*SALES)
    def put(self, body: dict[str, Any], lead_id: str) -> Lead:
        """Set the A/B/C tracking class; A and B need a plan (next step and a next date not in the
        past), from the body or already on the lead — 422 names what is missing."""
        ctx = _ctx()

        def apply(session: Any, lead: Lead, policy: Any) -> None:
            domain.ensure_live(lead.merged_into)
            problems = pipeline_service.set_tracking(lead, body["tracking_class"], body["next_step"],
                                                     body["next_date"], ctx.clock(), policy)
            if problems:
                raise _unprocessable(_tracking_errors(problems, policy), "follow-up plan required")

        return _change(lead_id, apply)[0]


def _tracking_errors(problems: list[str], policy: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem == "follow_up_plan":
            errors["next_step"] = ["Required for this tracking class."]
            errors["next_date"] = ["Required for this tracking class."]
        elif problem == "next_date_in_past":
            errors["next_date"] = ["Must not be in the past."]
        elif problem in ("next_step", "next_date"):
            errors[problem] = ["Required for this tracking class."]
        else:
            errors["tracking_class"] = [f"Must be one of: {', '.join(policy.tracking_classes)}."]
    return errors


@blp.route("/<string:lead_id>/stages")
class LeadStages(MethodView):
    @blp.response(200, StageReportSchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> dict[str, Any]:
        """Stage history, oldest first, and the seconds spent in each stage (the current one up to now)."""
        ctx = _ctx()
        with ctx.bus.session_factory() as session:
            lead = _visible_lead(session, lead_id)
            return pipeline_service.stage_report(session, lead, ctx.clock())


@blp.route("/<string:lead_id>/follow-ups")
class LeadFollowUps(MethodView):
    @blp.arguments(FollowUpCreateSchema)
    @blp.response(201, FollowUpSchema)
    @require_roles(*SALES)
    def post(self, body: dict[str, Any], lead_id: str) -> tuple[LeadFollowUp, int]:
        """Log a follow-up (server time); its next step/date become the lead's plan. It is also
        recorded as a contact with the customer (``/contacts``), so the owner's visit (or phone
        call while the lead is out of town) renews protection and every channel stops the
        cadence clocks."""
        ctx = _ctx()
        _, row = _change(lead_id, lambda s, lead, _p: pipeline_service.log_follow_up(
            s, ctx.bus, lead, body, ctx.clock(), current_principal().sub))
        return row, 201

    @blp.arguments(FollowUpQuerySchema, location="query")
    @blp.response(200, FollowUpPageSchema)
    @require_roles(*SALES)
    def get(self, query: dict[str, Any], lead_id: str) -> dict[str, Any]:
        """The lead's follow-ups, newest first, keyset-paginated."""
        with _ctx().bus.session_factory() as session:
            _visible_lead(session, lead_id)
            stmt = select(LeadFollowUp).where(LeadFollowUp.lead_id == lead_id)
            stmt = newest_first(stmt, LeadFollowUp.at, LeadFollowUp.id, query)
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda r: (r.at, r.id))


@blp.route("/cadence/run")
class CadenceRun(MethodView):
    @blp.response(200, CadenceRunSchema)
    @require_roles(authn.ADMIN)
    def post(self) -> dict[str, object]:
        """Run the cadence scheduler once now (it also runs in the worker every
        ``LEADS_CADENCE_INTERVAL`` seconds); each reminder is still emitted only once."""
        ctx = _ctx()
        return run_cadence(ctx.bus.session_factory, ctx.bus, ctx.clock()).to_dict()
