"""HTTP API of greetings: each rep reviews, edits and sends their drafts one by one."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from httpapi.paging import newest_first, page

from .. import web
from ..messages import rules as mrules
from ..messages.schemas import MessageSchema
from . import service
from .models import GreetingDraft
from .schemas import (
    GiftDoneSchema,
    GreetingEditSchema,
    GreetingPageSchema,
    GreetingQuerySchema,
    GreetingSchema,
    RunResultSchema,
)

blp = Blueprint(
    "notify_greetings",
    __name__,
    url_prefix="/api/v1/notify/greetings",
    description="Greetings (§4.2): drafts per rep, reviewed and sent one by one",
)
STAFF = (authn.ADMIN, authn.SALES_REP, authn.SALES_MANAGER)


def _own(session: Any, greeting_id: str, lock: bool = False) -> GreetingDraft:
    """A rep's own draft; everyone else gets 404 (a greeting is signed by its rep)."""
    d = session.get(GreetingDraft, greeting_id, with_for_update=lock)
    if d is None or d.owner_id != current_principal().sub:
        raise web.not_found("greeting", greeting_id)
    return d


@blp.route("")
class Greetings(MethodView):
    @blp.arguments(GreetingQuerySchema, location="query")
    @blp.response(200, GreetingPageSchema)
    @require_roles(*STAFF)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The caller's greeting drafts (admins: everyone's), newest first."""
        p = current_principal()
        stmt = select(GreetingDraft)
        if not p.is_admin:
            stmt = stmt.where(GreetingDraft.owner_id == p.sub)
        for name in ("kind", "state"):
            if query[name]:
                stmt = stmt.where(getattr(GreetingDraft, name) == query[name])
        stmt = newest_first(stmt, GreetingDraft.created_at, GreetingDraft.id, query)
        with web.ctx().bus.session_factory() as session:
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda d: (d.created_at, d.id))


@blp.route("/run")
class Run(MethodView):
    @blp.response(200, RunResultSchema)
    @require_roles(authn.ADMIN)
    def post(self) -> dict[str, Any]:
        """Draft the occasions due now (the worker does this every few minutes)."""
        ctx = web.ctx()
        return {"drafted": dict(service.run_greetings(ctx.bus.session_factory, ctx.clock(), ctx.bus.emit))}


@blp.route("/<string:greeting_id>")
class OneGreeting(MethodView):
    @blp.arguments(GreetingEditSchema)
    @blp.response(200, GreetingSchema)
    @require_roles(*STAFF)
    def patch(self, body: dict[str, Any], greeting_id: str) -> GreetingDraft:
        """Edit the text of one's own draft before sending it."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            d = _own(session, greeting_id, lock=True)
            if d.state != service.DRAFT:
                raise Problem(409, "Conflict", f"the greeting is {d.state}")
            d.body, d.updated_at = body["body"], ctx.clock()
            return d


@blp.route("/<string:greeting_id>/send")
class Send(MethodView):
    @blp.response(202, MessageSchema)
    @blp.alt_response(422, description="The text breaks the §4.4 rules")
    @require_roles(*STAFF)
    def post(self, greeting_id: str) -> Any:
        """Send this one draft to its one customer, signed with the caller's name."""
        ctx = web.ctx()
        p = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            d = _own(session, greeting_id, lock=True)
            try:
                return service.send(session, d, p.sub, p.name or p.username, ctx.clock())
            except service.GreetingError as exc:
                raise Problem(409, "Conflict", str(exc)) from exc
            except mrules.MessageRuleError as exc:
                raise web.unprocessable(exc.errors) from exc


@blp.route("/<string:greeting_id>/discard")
class Discard(MethodView):
    @blp.response(200, GreetingSchema)
    @require_roles(*STAFF)
    def post(self, greeting_id: str) -> GreetingDraft:
        """Do not send this draft."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            try:
                return service.finish(
                    session, _own(session, greeting_id, lock=True), service.DISCARDED, ctx.clock()
                )
            except service.GreetingError as exc:
                raise Problem(409, "Conflict", str(exc)) from exc


@blp.route("/<string:greeting_id>/done")
class GiftDone(MethodView):
    @blp.arguments(GiftDoneSchema)
    @blp.response(200, GreetingSchema)
    @require_roles(*STAFF)
    def post(self, body: dict[str, Any], greeting_id: str) -> GreetingDraft:
        """A new-year gift was sent; record the customer's next-year demand survey."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            try:
                return service.finish(
                    session, _own(session, greeting_id, lock=True), service.DONE, ctx.clock(), body["survey"]
                )
            except service.GreetingError as exc:
                raise Problem(409, "Conflict", str(exc)) from exc
