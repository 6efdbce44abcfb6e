"""HTTP API of the support service: parse, apply the rules, serialize."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from httpapi.paging import newest_first, page
from servicedb import next_code

from . import domain
from .context import SupportContext
from .events import TICKET_OPENED, ticket_opened_payload
from .models import CodeCounter, KnownAccount, Ticket
from .schemas import TicketCreateSchema, TicketListQuerySchema, TicketPageSchema, TicketSchema

blp = Blueprint("support", __name__, url_prefix="/api/v1/support/tickets", description="Support tickets")
STAFF = (authn.SUPPORT_AGENT, authn.ADMIN, authn.SALES_MANAGER, authn.SALES_REP, authn.INTEGRATION)


def _ctx() -> SupportContext:
    return current_app.extensions["support"]


def _access(account: KnownAccount | None) -> domain.AccountAccess | None:
    if account is None:
        return None
    return domain.AccountAccess(owner_id=account.owner_id, owner_team=account.owner_team)


def _in_scope(stmt: Select[Any], scope: domain.Scope) -> Select[Any]:
    """Restrict a ticket query to tickets of accounts the scope covers (by current ownership)."""
    if scope.everything:
        return stmt
    stmt = stmt.join(KnownAccount, KnownAccount.account_id == Ticket.account_id)
    if scope.team is not None:
        return stmt.where(or_(KnownAccount.owner_id == scope.owner_id,
                              KnownAccount.owner_team == scope.team))
    return stmt.where(KnownAccount.owner_id == scope.owner_id)


def _visible_ticket(session: Session, ticket_id: str) -> Ticket:
    """The ticket, or 404 — also when it exists but is not the caller's, so ids reveal nothing."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None:
        access = _access(session.get(KnownAccount, ticket.account_id))
        if access is not None and domain.scope_for(current_principal()).allows(access):
            return ticket
    raise Problem(404, "Not Found", f"no ticket {ticket_id}")


@blp.route("")
class Tickets(MethodView):
    @blp.arguments(TicketCreateSchema)
    @blp.response(201, TicketSchema)
    @blp.alt_response(409, description="The account is unknown to support (not yet told of it, or "
                                       "not one the caller may see): `errors.json.account_id`")
    @require_roles(*STAFF)
    def post(self, body: dict[str, Any]) -> Ticket:
        """Open a ticket for a known account the caller may see."""
        principal = current_principal()
        ctx = _ctx()
        now = ctx.clock()
        with ctx.bus.session_factory() as session, session.begin():
            account = session.get(KnownAccount, body["account_id"])
            if not domain.can_open_ticket(principal, _access(account)):
                # 409, not 422: the body is well formed; support's read model does not know the
                # account (yet: it learns accounts from events, so a retry may succeed).
                raise Problem(409, "Conflict", "support knows no such account (yet) for you",
                              errors={"json": {"account_id": ["Unknown account."]}})
            ticket = Ticket(
                id=str(uuid.uuid4()), code=next_code(session, CodeCounter, "T"),
                account_id=body["account_id"], kind=body["kind"], subject=body["subject"],
                description=body["description"], status=domain.OPEN, priority=body["priority"],
                created_by=principal.sub, created_at=now, updated_at=now, version=1,
            )
            session.add(ticket)
            session.flush()
            ctx.bus.emit(session, TICKET_OPENED, ticket_opened_payload(ticket), subject=ticket.id)
        return ticket

    @blp.arguments(TicketListQuerySchema, location="query")
    @blp.response(200, TicketPageSchema)
    @require_roles(*STAFF)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Tickets the caller may see, newest first, keyset-paginated."""
        stmt = _in_scope(select(Ticket), domain.scope_for(current_principal()))
        for field in ("account_id", "kind"):
            if query[field]:
                stmt = stmt.where(getattr(Ticket, field) == query[field])
        stmt = newest_first(stmt, Ticket.created_at, Ticket.id, query)
        with _ctx().bus.session_factory() as session:
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda t: (t.created_at, t.id))


@blp.route("/<string:ticket_id>")
class TicketById(MethodView):
    @blp.response(200, TicketSchema)
    @require_roles(*STAFF)
    def get(self, ticket_id: str) -> Ticket:
        with _ctx().bus.session_factory() as session:
            return _visible_ticket(session, ticket_id)
