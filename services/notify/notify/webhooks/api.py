"""HTTP API of webhooks (admins): endpoints, their deliveries and attempts, resend, replay and
secret rotation."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint
from httpapi.paging import newest_first, page

from .. import web
from ..policy.service import current_policy
from . import service, ssrf
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .schemas import (
    AttemptListSchema,
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointListSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    EndpointWithSecretSchema,
    ReplayResultSchema,
    ReplaySchema,
)

blp = Blueprint(
    "notify_webhooks",
    __name__,
    url_prefix="/api/v1/notify/webhooks",
    description="Standard Webhooks endpoints for outside systems (admins)",
)
ADMINS = (authn.ADMIN,)


def _endpoint(session: Any, endpoint_id: str) -> WebhookEndpoint:
    ep = session.get(WebhookEndpoint, endpoint_id)
    if ep is None:
        raise web.not_found("webhook endpoint", endpoint_id)
    return ep


def _check(url: str) -> None:
    """Refuse an unsafe destination at save time too (it is checked again before every send)."""
    ctx = web.ctx()
    try:
        ssrf.check_url(
            url,
            development=ctx.settings.webhook_development,
            allow=ctx.settings.webhook_allow,
            resolver=ctx.webhooks.resolver,
        )
    except ssrf.RefusedError as exc:
        raise web.unprocessable({"url": str(exc)}) from exc


@blp.route("")
class Endpoints(MethodView):
    @blp.response(200, EndpointListSchema)
    @require_roles(*ADMINS)
    def get(self) -> dict[str, Any]:
        """Every endpoint (without secrets)."""
        with web.ctx().bus.session_factory() as session:
            return {
                "items": list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))
            }

    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, EndpointWithSecretSchema)
    @require_roles(*ADMINS)
    def post(self, body: dict[str, Any]) -> WebhookEndpoint:
        """Register an endpoint; the answer carries its ``whsec_`` signing secret."""
        _check(body["url"])
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            return service.create_endpoint(session, body, current_principal().sub, ctx.clock())


@blp.route("/<string:endpoint_id>")
class OneEndpoint(MethodView):
    @blp.response(200, EndpointWithSecretSchema)
    @require_roles(*ADMINS)
    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint with its current secret."""
        with web.ctx().bus.session_factory() as session:
            return _endpoint(session, endpoint_id)

    @blp.arguments(EndpointUpdateSchema)
    @blp.response(200, EndpointSchema)
    @require_roles(*ADMINS)
    def patch(self, body: dict[str, Any], endpoint_id: str) -> WebhookEndpoint:
        """Change URL, filters, description, or enable / disable it."""
        if "url" in body:
            _check(body["url"])
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            return service.update_endpoint(session, _endpoint(session, endpoint_id), body, ctx.clock())

    @blp.response(204)
    @require_roles(*ADMINS)
    def delete(self, endpoint_id: str) -> None:
        """Remove the endpoint and its pending deliveries (the attempt log stays)."""
        with web.ctx().bus.session_factory() as session, session.begin():
            service.delete_endpoint(session, _endpoint(session, endpoint_id))


@blp.route("/<string:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.response(200, EndpointWithSecretSchema)
    @require_roles(*ADMINS)
    def post(self, endpoint_id: str) -> WebhookEndpoint:
        """A new secret; the old one keeps signing (a second signature) during the policy's
        overlap window so receivers can switch without losing a message."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            ep = _endpoint(session, endpoint_id)
            return service.rotate_secret(session, ep, ctx.clock(), current_policy(session))


@blp.route("/<string:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    @require_roles(*ADMINS)
    def get(self, query: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
        """The endpoint's deliveries, newest first."""
        with web.ctx().bus.session_factory() as session:
            _endpoint(session, endpoint_id)
            stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
            if query["state"]:
                stmt = stmt.where(WebhookDelivery.state == query["state"])
            rows = list(
                session.scalars(newest_first(stmt, WebhookDelivery.created_at, WebhookDelivery.id, query))
            )
        return page(rows, query["limit"], key=lambda d: (d.created_at, d.id))


@blp.route("/<string:endpoint_id>/deliveries/<string:delivery_id>/attempts")
class Attempts(MethodView):
    @blp.response(200, AttemptListSchema)
    @require_roles(*ADMINS)
    def get(self, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
        """The delivery log: every attempt with status, latency and a response excerpt."""
        with web.ctx().bus.session_factory() as session:
            d = session.get(WebhookDelivery, delivery_id)
            if d is None or d.endpoint_id != endpoint_id:
                raise web.not_found("delivery", delivery_id)
            rows = session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.attempt)
            )
            return {"items": list(rows)}


@blp.route("/<string:endpoint_id>/deliveries/<string:delivery_id>/resend")
class Resend(MethodView):
    @blp.response(202, DeliverySchema)
    @require_roles(*ADMINS)
    def post(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
        """Send this delivery again now (its retry schedule starts over)."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            d = session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if d is None or d.endpoint_id != endpoint_id:
                raise web.not_found("delivery", delivery_id)
            service.resend(session, d, ctx.clock())
        ctx.webhooks.wake()
        return d


@blp.route("/<string:endpoint_id>/replay")
class Replay(MethodView):
    @blp.arguments(ReplaySchema)
    @blp.response(202, ReplayResultSchema)
    @require_roles(*ADMINS)
    def post(self, body: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
        """Deliver again every kept event since ``since`` that the endpoint subscribes to."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            count = service.replay(session, _endpoint(session, endpoint_id), body["since"], ctx.clock())
        ctx.webhooks.wake()
        return {"queued": count}
