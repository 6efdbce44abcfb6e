"""HTTP API of the notify service: parse, apply the rules, serialize."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from httpapi.paging import newest_first, page

from . import domain
from .context import NotifyContext
from .models import Notification
from .reminders.rules import audiences
from .schemas import NotificationListQuerySchema, NotificationPageSchema, NotificationSchema

blp = Blueprint("notify", __name__, url_prefix="/api/v1/notify/notifications",
                description="In-app notifications")
ANYONE = authn.ROLES


def _ctx() -> NotifyContext:
    return current_app.extensions["notify"]


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationListQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    @require_roles(*ANYONE)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The caller's notifications, newest first, keyset-paginated."""
        try:
            recipient = domain.listing_recipient(current_principal(), query["recipient_id"])
        except domain.NotAllowedError as exc:
            raise Problem(403, "Forbidden", str(exc)) from exc
        p = current_principal()
        # Your own, plus those addressed to a role you hold (role:<role> / role:<role>@<team>).
        mine = {recipient} | (audiences(p.roles, p.team) if recipient == p.sub else set())
        stmt = select(Notification).where(Notification.recipient_id.in_(sorted(mine)))
        if query["unread"] is not None:
            read_at = Notification.read_at
            stmt = stmt.where(read_at.is_(None) if query["unread"] else read_at.is_not(None))
        stmt = newest_first(stmt, Notification.created_at, Notification.id, query)
        with _ctx().bus.session_factory() as session:
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda n: (n.created_at, n.id))


@blp.route("/<string:notification_id>/read")
class MarkRead(MethodView):
    @blp.response(200, NotificationSchema)
    @require_roles(*ANYONE)
    def post(self, notification_id: str) -> Notification:
        """Mark one of the caller's notifications read (idempotent: the first time stays)."""
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            note = session.get(Notification, notification_id, with_for_update=True)
            p = current_principal()
            if note is None or not (domain.can_mark_read(p, note.recipient_id)
                                    or note.recipient_id in audiences(p.roles, p.team)):
                raise Problem(404, "Not Found", f"no notification {notification_id}")
            if note.read_at is None:
                note.read_at = ctx.clock()
        return note
