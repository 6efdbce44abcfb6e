"""HTTP API of messages: their delivery state (admins: all; staff: what they sent or receive)
and sending one individual message to a customer under the §4 rules."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import or_, select

import authn
from authn import Principal
from authn.flask import current_principal, require_roles
from httpapi import Blueprint
from httpapi.paging import newest_first, page

from .. import web
from ..policy.service import current_policy
from . import rules, service
from .models import Message
from .schemas import MessagePageSchema, MessageQuerySchema, MessageSchema, SendSchema

blp = Blueprint(
    "notify_messages",
    __name__,
    url_prefix="/api/v1/notify/messages",
    description="E-mail and SMS messages and their delivery state",
)
SENDERS = (
    authn.ADMIN,
    authn.SALES_REP,
    authn.SALES_MANAGER,
    authn.SUPPORT_AGENT,
    authn.SUPPORT_SUPERVISOR,
    authn.SERVICE_CLERK,
    authn.BRAND_DEPT,
)


def _visible(p: Principal) -> Any:
    return None if p.is_admin else or_(Message.created_by == p.sub, Message.recipient_id == p.sub)


@blp.route("")
class Messages(MethodView):
    @blp.arguments(MessageQuerySchema, location="query")
    @blp.response(200, MessagePageSchema)
    @require_roles(*authn.ROLES)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Messages newest first: admins see all, others what they sent or what is for them."""
        stmt = select(Message)
        cond = _visible(current_principal())
        if cond is not None:
            stmt = stmt.where(cond)
        if query["state"]:
            stmt = stmt.where(Message.state == query["state"])
        if query["channel"]:
            stmt = stmt.where(Message.channel == query["channel"])
        stmt = newest_first(stmt, Message.created_at, Message.id, query)
        with web.ctx().bus.session_factory() as session:
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda m: (m.created_at, m.id))

    @blp.arguments(SendSchema)
    @blp.response(202, MessageSchema)
    @blp.alt_response(422, description="Bulk sending, or a message that breaks the §4.4 rules")
    @require_roles(*SENDERS)
    def post(self, body: dict[str, Any]) -> Message:
        """Queue one message to one customer, signed by the caller: an SMS opens with the
        customer's title (××总,您好!) and ends with the company and the caller's name; bulk
        sends are refused; product content never at the customer's weekend; marketing e-mail
        waits for Tuesday–Thursday; quiet hours defer it. The same idempotency key sends once."""
        if len(body["recipients"]) != 1:
            raise web.unprocessable(
                {"recipients": "customer messages are sent one by one, never in bulk (§4.4)"}
            )
        p = current_principal()
        r = body["recipients"][0]
        ctx = web.ctx()
        draft = rules.MessageDraft(
            channel=body["channel"],
            audience=rules.CUSTOMER,
            recipient_id=r["account_id"],
            address=r["address"],
            subject=body["subject"] or body["body"][:40],
            body=body["body"],
            purpose=body["purpose"],
            timezone=r["timezone"],
            salutation=r["salutation"],
            sender_name=p.name or p.username,
            key_customer=r["key_customer"],
            product_content=body["product_content"],
            created_by=p.sub,
        )
        key = f"{p.sub}:{body['idempotency_key']}" if body["idempotency_key"] else None
        with ctx.bus.session_factory() as session, session.begin():
            try:
                m, _ = service.enqueue(session, draft, ctx.clock(), current_policy(session), key=key)
            except rules.MessageRuleError as exc:
                raise web.unprocessable(exc.errors) from exc
        return m


@blp.route("/<string:message_id>")
class OneMessage(MethodView):
    @blp.response(200, MessageSchema)
    @require_roles(*authn.ROLES)
    def get(self, message_id: str) -> Message:
        """One message with its delivery state (404 unless visible to the caller)."""
        p = current_principal()
        with web.ctx().bus.session_factory() as session:
            m = session.get(Message, message_id)
            if m is None or not (p.is_admin or p.sub in (m.created_by, m.recipient_id)):
                raise web.not_found("message", message_id)
            return m
