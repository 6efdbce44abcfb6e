"""HTTP API of the leads service: parse, apply the rules, serialize."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import bindparam, select

from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from httpapi.paging import newest_first, page
from leads.intake import rules as domain
from leads.intake import service as intake
from leads.intake.models import Lead
from leads.intake.schemas import (
    ConvertSchema,
    LeadCreateSchema,
    LeadIntakeSchema,
    LeadListQuerySchema,
    LeadPageSchema,
    LeadSchema,
)
from leads.pipeline import service as pipeline_service
from leads.web import SALES, _access, _ctx, _visible_lead
from servicedb import read_one, read_rows

blp = Blueprint("leads", __name__, url_prefix="/api/v1/leads", description="Sales leads")
def _fields(lead: Lead) -> dict[str, Any]:
    """The lead's attributes the response schema shows, to combine with intake facts."""
    return {name: getattr(lead, name) for name in LeadSchema._declared_fields}


@blp.route("")
class Leads(MethodView):
    @blp.arguments(LeadCreateSchema)
    @blp.response(201, LeadIntakeSchema, description="A new lead, with what it resembles")
    @blp.alt_response(200, schema=LeadIntakeSchema,
                      description="A walk-in or call from an existing lead: a visit was recorded "
                                  "on it (its details only if the caller may see it)")
    @require_roles(*SALES)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Register a lead. The caller owns it unless a manager/admin names an owner; a
        referral goes to the referrer's owner. Matches (phone, e-mail, company + person)
        are listed with their rule and score."""
        principal = current_principal()
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            outcome = intake.register(ctx, session, principal, body)
            matches = [intake.match_view(m, outcome.dedupe, principal)
                       for m in outcome.dedupe.matches]
        lead = outcome.lead
        if outcome.created:
            return {**_fields(lead), "visit_recorded": False, "visit": None,
                    "matches": matches}, 201
        shown = (_fields(lead) if domain.can_view(principal, _access(lead))
                 else {"id": lead.id, "code": lead.code, "owner_id": lead.owner_id})
        return {**shown, "visit_recorded": True, "visit": outcome.visit, "matches": matches}, 200

    @blp.arguments(LeadListQuerySchema, location="query")
    @blp.response(200, LeadPageSchema)
    @require_roles(*SALES)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Leads the caller may see, newest first, keyset-paginated."""
        principal = current_principal()
        # A Core read in one round trip (no ORM instances, no transaction): the hot list.
        leads = Lead.__table__.c
        stmt = select(Lead.__table__).where(leads.merged_into.is_(None))  # no tombstones
        if principal.is_admin or principal.kind == "apikey":
            pass
        elif principal.is_manager:
            stmt = stmt.where(leads.owner_team == principal.team)
        else:
            stmt = stmt.where(leads.owner_id == principal.sub)
        for field in ("status", "source", "owner_id"):
            if query[field]:
                stmt = stmt.where(leads[field] == query[field])
        stmt = newest_first(stmt, leads.created_at, leads.id, query)
        rows = read_rows(_ctx().bus.engine, stmt)
        return page(rows, query["limit"], key=lambda lead: (lead["created_at"], lead["id"]))


# Built once: the expression and its cache key are not rebuilt on every read.
_LEAD_BY_ID = select(Lead.__table__).where(Lead.__table__.c.id == bindparam("lead_id"))


@blp.route("/<string:lead_id>")
class LeadById(MethodView):
    @blp.response(200, LeadSchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> dict[str, Any]:
        """One lead (404 also when it is not the caller's, so ids reveal nothing)."""
        # The hottest read: one SELECT without ORM or transaction (docs/performance.md).
        lead = read_one(_ctx().bus.engine, _LEAD_BY_ID, {"lead_id": lead_id})
        if lead is None or not domain.can_view(current_principal(), domain.LeadAccess(
                owner_id=lead["owner_id"], owner_team=lead["owner_team"])):
            raise Problem(404, "Not Found", f"no lead {lead_id}")
        return lead


@blp.route("/<string:lead_id>/convert")
class ConvertLead(MethodView):
    @blp.arguments(ConvertSchema, required=False)
    @blp.response(200, LeadSchema, description="Already converted: nothing changed")
    @blp.alt_response(202, schema=LeadSchema,
                      description="Conversion started; account_id is set when accounts answers")
    @require_roles(*SALES)
    def post(self, _body: dict[str, Any] | None, lead_id: str) -> tuple[Lead, int]:
        """Convert a lead into a customer account (idempotent: 202 first, 200 after)."""
        return _convert(lead_id)


def _convert(lead_id: str) -> tuple[Lead, int]:
    ctx = _ctx()
    principal = current_principal()
    with ctx.bus.session_factory() as session, session.begin():
        lead = _visible_lead(session, lead_id, lock=True)
        if not domain.can_convert(principal, _access(lead)):
            raise Problem(403, "Forbidden", "you may not convert this lead")
        try:
            converted = pipeline_service.convert(session, ctx.bus, lead, ctx.clock(), principal.sub)
        except domain.RuleViolation as exc:
            raise Problem(409, "Conflict", str(exc)) from exc
    return lead, 202 if converted else 200
