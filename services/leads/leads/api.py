"""HTTP API of the leads service: parse, apply the rules, serialize."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select, tuple_

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from httpapi.paging import decode_cursor, page
from servicedb import next_code

from . import domain
from .events import LEAD_CONVERTED, LEAD_REGISTERED, converted_payload, lead_payload
from .models import CodeCounter, Lead
from .schemas import ConvertSchema, LeadCreateSchema, LeadListQuerySchema, LeadPageSchema, LeadSchema
from .wiring import LeadsContext

blp = Blueprint("leads", __name__, url_prefix="/api/v1/leads", description="Sales leads")
SALES = (authn.ADMIN, authn.SALES_MANAGER, authn.SALES_REP, authn.INTEGRATION)


def _ctx() -> LeadsContext:
    return current_app.extensions["leads"]


def _access(lead: Lead) -> domain.LeadAccess:
    return domain.LeadAccess(owner_id=lead.owner_id, owner_team=lead.owner_team)


def _visible_lead(session: Any, lead_id: str, lock: bool = False) -> Lead:
    """The lead, or 404 — also when it exists but is not the caller's, so ids reveal nothing."""
    lead = session.get(Lead, lead_id, with_for_update=lock)
    if lead is None or not domain.can_view(current_principal(), _access(lead)):
        raise Problem(404, "Not Found", f"no lead {lead_id}")
    return lead


@blp.route("")
class Leads(MethodView):
    @blp.arguments(LeadCreateSchema)
    @blp.response(201, LeadSchema)
    @require_roles(*SALES)
    def post(self, body: dict[str, Any]) -> Lead:
        """Register a lead. The caller owns it unless a manager/admin names an owner."""
        principal = current_principal()
        owner_id = body["owner_id"] or principal.sub
        owner_team = body["owner_team"] if body["owner_id"] else principal.team
        if principal.is_manager and body["owner_id"] and owner_team is None:
            owner_team = principal.team
        if not domain.can_assign_owner(principal, owner_id, owner_team):
            raise Problem(403, "Forbidden", "you may only register leads for yourself or your team")
        ctx = _ctx()
        now = ctx.clock()
        with ctx.bus.session_factory() as session, session.begin():
            lead = Lead(
                id=str(uuid.uuid4()), code=next_code(session, CodeCounter, "L"),
                name=body["name"], company=body["company"], phone=body["phone"],
                email=body["email"], source=body["source"], owner_id=owner_id,
                owner_team=owner_team, status=domain.OPEN, registered_by=principal.sub,
                created_at=now, updated_at=now, version=1,
            )
            session.add(lead)
            session.flush()
            ctx.bus.emit(session, LEAD_REGISTERED, lead_payload(lead), subject=lead.id)
        return lead

    @blp.arguments(LeadListQuerySchema, location="query")
    @blp.response(200, LeadPageSchema)
    @require_roles(*SALES)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Leads the caller may see, newest first, keyset-paginated."""
        principal = current_principal()
        stmt = select(Lead)
        if principal.is_admin or principal.kind == "apikey":
            pass
        elif principal.is_manager:
            stmt = stmt.where(Lead.owner_team == principal.team)
        else:
            stmt = stmt.where(Lead.owner_id == principal.sub)
        for field in ("status", "source", "owner_id"):
            if query[field]:
                stmt = stmt.where(getattr(Lead, field) == query[field])
        if query["cursor"]:
            created_at, lead_id = decode_cursor(query["cursor"])
            stmt = stmt.where(tuple_(Lead.created_at, Lead.id) < tuple_(created_at, lead_id))
        stmt = stmt.order_by(Lead.created_at.desc(), Lead.id.desc()).limit(query["limit"] + 1)
        with _ctx().bus.session_factory() as session:
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda lead: (lead.created_at, lead.id))


@blp.route("/<string:lead_id>")
class LeadById(MethodView):
    @blp.response(200, LeadSchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> Lead:
        with _ctx().bus.session_factory() as session:
            return _visible_lead(session, lead_id)


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
            needed = domain.conversion_needed(lead.status)
        except domain.RuleViolation as exc:
            raise Problem(409, "Conflict", str(exc)) from exc
        if not needed:
            return lead, 200
        now = ctx.clock()
        lead.status = domain.CONVERTED
        lead.converted_at = now
        lead.converted_by = principal.sub
        lead.updated_at = now
        lead.version += 1
        ctx.bus.emit(session, LEAD_CONVERTED, converted_payload(lead), subject=lead.id)
    return lead, 202
