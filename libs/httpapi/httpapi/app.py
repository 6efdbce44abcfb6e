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
from flask import json as flask_json
from flask_smorest.utils import resolve_schema_instance
from marshmallow import RAISE, ValidationError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

import authn
from authn.flask import install as install_auth
from authn.flask import require_roles
from eventbus.contracts import asyncapi_document
from eventbus.contracts import contracts as event_contracts
from eventbus.envelope import TraceContext, reset_context, set_context
from eventbus.runtime import ServiceBus

from .hardening import install_method_check, install_problem_handlers, is_json_mimetype, parse_json_body
from .openapi import finalize_openapi
from .problems import Problem, _from_http_exception
from .schemas import ProblemSchema, utc_datetimes
from .service import ServiceContext
from .strictjson import schema_type_errors

log = logging.getLogger("httpapi")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class ArgumentsParser(FlaskParser):
    """webargs' parser, hardened: a body in another content type is a 415 (not "missing"), JSON
    goes through ``parse_json_body`` (400 too deep or malformed, 422 lone surrogates), and its
    values must have the JSON types the document declares (``strictjson``)."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_mimetype(req.mimetype or ""):
            if req.content_length or req.headers.get("Transfer-Encoding"):
                raise Problem(415, "Unsupported Media Type", "send the body as application/json")
            return webargs_core.missing
        return parse_json_body(req.get_data(cache=True))

    def pre_load(self, location_data: Any, *, schema: Any, req: Any, location: str) -> Any:
        if location == "json":
            errors = schema_type_errors(schema, location_data)
            if errors:
                raise ValidationError(errors)
        return super().pre_load(location_data, schema=schema, req=req, location=location)


class Blueprint(flask_smorest.Blueprint):
    """Unknown query or body fields are refused (422), not ignored."""

    ARGUMENTS_PARSER = ArgumentsParser(unknown=RAISE)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Any:
        """As flask-smorest's, with every timestamp written with its offset (``utc_datetimes``)."""
        if schema is not None and not isinstance(schema, str | dict):
            schema = utc_datetimes(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)

    def alt_response(self, status_code: Any, response: Any = None, **kwargs: Any) -> Any:
        """As flask-smorest's, but an alternative content type without a schema (a CSV or XLSX
        export) is still documented as that content type: a string, or binary for non-text."""
        content_type = kwargs.get("content_type")
        if response is None and content_type and kwargs.get("schema") is None:
            text = content_type.startswith("text/") or content_type.endswith(("+json", "/json"))
            kwargs["schema"] = {"type": "string"} if text else {"type": "string", "format": "binary"}
        return super().alt_response(status_code, response, **kwargs)


class ProblemApi(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return _from_http_exception(error)

    def _openapi_json(self) -> Response:
        # Errors documented as what they are (problem documents), on every operation.
        doc = finalize_openapi(self.spec.to_dict())
        return Response(flask_json.dumps(doc, indent=2, sort_keys=False), mimetype="application/json")


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


REPLAY_BODY: dict[str, Any] = {"oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["id"],
     "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 100,
                           "description": "Event id of one parked message"}}},
    {"type": "object", "additionalProperties": False, "required": ["all"],
     "properties": {"all": {"type": "boolean", "enum": [True], "description": "Every parked message"}}},
]}


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
    @ops.doc(requestBody={"required": True, "content": {"application/json": {"schema": REPLAY_BODY}}})
    @ops.response(200)
    @require_roles(authn.ADMIN)
    def replay() -> Any:
        body = request.get_json() if request.content_length else {}
        if not isinstance(body, dict):
            body = {"": body}
        unknown = set(body) - {"id", "all"}
        if (unknown or not (body.get("all") is True or isinstance(body.get("id"), str))
                or (isinstance(body.get("id"), str) and not 0 < len(body["id"]) <= 100)):
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
    _install_request_context(app)  # first, so even the earliest refusals carry the request id
    install_problem_handlers(app, check_methods=False)
    install_auth(app, verifier or authn.Verifier.from_settings(context.settings.auth))
    install_method_check(app)  # after authentication: a caller without credentials learns nothing
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

    @app.get("/asyncapi.json")
    def asyncapi() -> Response:
        """The events this service publishes (AsyncAPI 3.0), merged by the gateway into
        ``/api/v1/asyncapi.json``; generated from the contracts its ``events`` modules register."""
        return jsonify(asyncapi_document(event_contracts(name), title=f"{title} events",
                                         exchange=context.settings.bus.exchange))

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return app
