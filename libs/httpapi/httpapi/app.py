"""The composition every service's web app shares: flask-smorest API, problem errors,
authentication, request ids and trace context, health, metrics and the operator endpoints."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import flask_smorest
from flask import Flask, Response, g, jsonify, request
from marshmallow import RAISE
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

import authn
from authn.flask import install as install_auth
from authn.flask import require_roles
from eventbus.envelope import TraceContext, reset_context, set_context
from eventbus.runtime import ServiceBus

from .problems import Problem, _from_http_exception, install_problem_handlers
from .schemas import ProblemSchema
from .service import ServiceContext

log = logging.getLogger("httpapi")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class Blueprint(flask_smorest.Blueprint):
    """Unknown query or body fields are refused (422), not ignored."""

    ARGUMENTS_PARSER = FlaskParser(unknown=RAISE)


class ProblemApi(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return _from_http_exception(error)


def _install_request_context(app: Flask) -> None:
    @app.before_request
    def _begin() -> None:
        rid = request.headers.get("X-Request-ID", "")
        g.request_id = rid if 0 < len(rid) <= 128 else str(uuid.uuid4())
        tp = request.headers.get("traceparent", "")
        g.traceparent = tp if TRACEPARENT.match(tp) else None
        g.trace_token = set_context(TraceContext(correlation_id=g.request_id,
                                                 traceparent=g.traceparent))

    @app.after_request
    def _stamp(resp: Response) -> Response:
        resp.headers["X-Request-ID"] = getattr(g, "request_id", "")
        return resp

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("trace_token", None)
        if token is not None:
            reset_context(token)


def _ops_blueprint(bus: ServiceBus) -> Blueprint:
    ops = Blueprint("ops", __name__, url_prefix="/ops",
                    description="Operator tools (admin only): outbox backlog, parked messages")

    @ops.route("/outbox")
    @ops.response(200)
    @require_roles(authn.ADMIN)
    def outbox() -> Any:
        return bus.outbox_backlog()

    @ops.route("/parked")
    @ops.response(200)
    @require_roles(authn.ADMIN)
    def parked() -> Any:
        try:
            return {"queue": bus.topology.parking_queue,
                    "messages": [p.to_dict() for p in bus.list_parked(200)]}
        except Exception as exc:
            raise Problem(503, "Broker unavailable", str(exc)) from exc

    @ops.route("/parked/replay", methods=["POST"])
    @ops.response(200)
    @require_roles(authn.ADMIN)
    def replay() -> Any:
        body = request.get_json(silent=True) or {}
        unknown = set(body) - {"id", "all"}
        if unknown or (not body.get("all") and not body.get("id")):
            raise Problem(422, "Unprocessable Content", "send {\"id\": \"<event id>\"} or {\"all\": true}",
                          errors={"json": {k: ["Unknown field."] for k in unknown}})
        try:
            count = bus.replay_parked(None if body.get("all") else str(body["id"]))
        except Exception as exc:
            raise Problem(503, "Broker unavailable", str(exc)) from exc
        if body.get("id") and count == 0:
            raise Problem(404, "Not Found", f"no parked message {body['id']}")
        return {"replayed": count}

    return ops


def create_service_app(
    *,
    context: ServiceContext,
    title: str,
    blueprints: Iterable[flask_smorest.Blueprint],
    verifier: authn.Verifier | None = None,
    description: str = "",
    extra_ready_checks: Iterable[Callable[[], None]] = (),
) -> Flask:
    """The service's Flask app; ``current_app.extensions[<service name>]`` is its context."""
    name = context.settings.service
    bus = context.bus
    app = Flask(name)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }},
            "security": [{"bearerAuth": []}, {"apiKey": []}],
        },
        JSON_SORT_KEYS=False,
    )
    app.extensions["bus"] = bus
    app.extensions[name] = context
    install_problem_handlers(app)
    _install_request_context(app)
    install_auth(app, verifier or authn.Verifier.from_settings(context.settings.auth))
    api = ProblemApi(app)
    for bp in blueprints:
        api.register_blueprint(bp)
    api.register_blueprint(_ops_blueprint(bus))
    checks = list(extra_ready_checks)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=name)

    @app.get("/readyz")
    def readyz() -> Response:
        try:
            with bus.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            for check in checks:
                check()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not ready: %s", exc)
            resp = jsonify(status="unavailable", service=name)
            resp.status_code = 503
            return resp
        return jsonify(status="ok", service=name)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return app
