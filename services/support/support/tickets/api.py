"""HTTP API of tickets: open (or attach a repeat contact), list, read, lifecycle, hand-over."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy.orm import Session

from authn.flask import current_principal, require_roles
from httpapi import Blueprint
from httpapi.paging import page

from .. import web
from ..policy.service import current_policy
from ..readmodel import service as accounts
from ..readmodel.models import KnownAccount
from ..sla import service as sla
from ..visits import service as visits
from . import rules, service
from .models import Ticket
from .schemas import (
    ContactSchema,
    HandOverSchema,
    HistorySchema,
    PrioritySchema,
    TicketCreateSchema,
    TicketListQuerySchema,
    TicketPageSchema,
    TicketSchema,
    TicketSummarySchema,
    TransitionSchema,
)

_SUMMARY = tuple(name for name in TicketSummarySchema._declared_fields if name != "account")

blp = Blueprint(
    "support_tickets",
    __name__,
    url_prefix="/api/v1/support/tickets",
    description="Support tickets: first responder, lifecycle, repeat contacts, SLAs",
)


def ticket_view(
    session: Session,
    ticket: Ticket,
    *,
    with_sla: bool = True,
    account: KnownAccount | None = None,
    lookup: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A ticket with its account as the read model knows it (and its SLA clocks); ``lookup``
    False when the caller already loaded the account (or knows there is none)."""
    out = {c.key: getattr(ticket, c.key) for c in Ticket.__table__.columns}
    if lookup and account is None:
        account = session.get(KnownAccount, ticket.account_id)
    out["account"] = accounts.view(account)
    if with_sla:
        out["sla"] = sla.clocks_view(session, ticket.id, current_policy(session), web.ctx().clock())
    out.update(extra)
    return out


@blp.route("")
class Tickets(MethodView):
    @blp.arguments(TicketCreateSchema)
    @blp.response(201, TicketSchema)
    @blp.alt_response(
        200,
        schema=TicketSchema,
        description="A repeat contact: attached to the "
        "customer's active ticket of this kind (attached: true)",
    )
    @blp.alt_response(422, description="Invalid body, unknown kind, or an account unknown to the caller")
    @require_roles(*rules.OPENERS)
    def post(self, body: dict[str, Any]) -> Any:
        """Register a customer's contact. The caller becomes the ticket's first responder; the
        kind routes it to its department's queue; a major matter goes to the general manager at
        once. A contact about an active ticket of the same customer (account or phone) and kind is
        attached to it as a repeat contact (200) unless ``new_matter`` is true."""
        ctx = web.ctx()
        now = ctx.clock()
        with ctx.bus.session_factory() as session, session.begin():
            ticket, attached = service.open_ticket(session, ctx.bus, current_principal(), body, now)
            view = ticket_view(session, ticket, attached=attached)
            if ticket.status == rules.RESOLVED:  # one-stop: resolved at first contact
                visits.after_resolution(session, ctx.bus, ticket, now)
        return (view, 200) if attached else view

    @blp.arguments(TicketListQuerySchema, location="query")
    @blp.response(200, TicketPageSchema)
    @require_roles(*rules.READERS)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Tickets the caller may see, newest first, keyset-paginated. An agent sees their own
        (registered, owned or assigned) and the unassigned active ones; a technician the ones
        assigned to them; a rep the tickets of their accounts; supervisors and managers all."""
        with web.ctx().bus.session_factory() as session:
            rows = service.list_tickets(session, current_principal(), query, query)
            result = page(rows, query["limit"], key=lambda row: (row[0].created_at, row[0].id))
            result["items"] = [
                {**{k: getattr(t, k) for k in _SUMMARY}, "account": accounts.view(a)}
                for t, a in result["items"]
            ]
            return result


@blp.route("/<string:ticket_id>")
class TicketById(MethodView):
    @blp.response(200, TicketSchema)
    @require_roles(*rules.READERS)
    def get(self, ticket_id: str) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            return ticket_view(session, service.visible(session, ticket_id, current_principal()))


@blp.route("/<string:ticket_id>/transitions")
class Transitions(MethodView):
    @blp.arguments(TransitionSchema)
    @blp.response(200, TicketSchema)
    @blp.alt_response(409, description="Illegal transition from the ticket's status")
    @require_roles(*rules.READERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """assign (→ assigned), start (→ in progress), wait (→ waiting for customer: SLA paused),
        resume, resolve (return visit due), close, reopen. Each is recorded with actor, time and
        note; anything the current status does not allow is 409."""
        ctx = web.ctx()
        now = ctx.clock()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = service.visible(session, ticket_id, principal, work=True, lock=True)
            service.transition(
                session,
                ctx.bus,
                ticket,
                service.actor_of(principal),
                body["action"],
                body["note"],
                now,
                assignee_id=body["assignee_id"],
            )
            if ticket.status == rules.RESOLVED:
                visits.after_resolution(session, ctx.bus, ticket, now)
            return ticket_view(session, ticket)


@blp.route("/<string:ticket_id>/hand-over")
class HandOver(MethodView):
    @blp.arguments(HandOverSchema)
    @blp.response(200, TicketSchema)
    @require_roles(*rules.READERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """The first responder hands the ticket over, with a record of to whom and why."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = service.visible(session, ticket_id, principal, work=True, lock=True)
            service.hand_over(
                session,
                ctx.bus,
                ticket,
                service.actor_of(principal),
                body["to_id"],
                body["reason"],
                ctx.clock(),
            )
            return ticket_view(session, ticket)


@blp.route("/<string:ticket_id>/contacts")
class Contacts(MethodView):
    @blp.arguments(ContactSchema)
    @blp.response(200, TicketSchema)
    @require_roles(*rules.OPENERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """The customer contacted us again about this ticket: counted, and the owner alerted."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = service.visible(session, ticket_id, principal, lock=True)
            service.record_contact(
                session,
                ctx.bus,
                ticket,
                service.actor_of(principal),
                body["channel"],
                body["phone"],
                body["note"],
                ctx.clock(),
            )
            return ticket_view(session, ticket)


@blp.route("/<string:ticket_id>/priority")
class Priority(MethodView):
    @blp.arguments(PrioritySchema)
    @blp.response(200, TicketSchema)
    @require_roles(*rules.READERS)
    def put(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """Change the priority: the SLA targets change, the business time already used counts."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = service.visible(session, ticket_id, principal, work=True, lock=True)
            service.set_priority(
                session,
                ctx.bus,
                ticket,
                service.actor_of(principal),
                body["priority"],
                body["note"],
                ctx.clock(),
            )
            return ticket_view(session, ticket)


@blp.route("/<string:ticket_id>/history")
class History(MethodView):
    @blp.response(200, HistorySchema)
    @require_roles(*rules.READERS)
    def get(self, ticket_id: str) -> dict[str, Any]:
        """Every change (actor, time, note) and every contact of the customer about the ticket."""
        with web.ctx().bus.session_factory() as session:
            service.visible(session, ticket_id, current_principal())
            return {
                "items": service.history(session, ticket_id),
                "contacts": service.contacts(session, ticket_id),
            }
