"""The composition every service's web app shares: flask-smorest API, problem errors,
authentication, request ids and trace context, health, metrics and the operator endpoints."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import flask_smorest
from flask import Flask, Response, g, jsonify, request
from flask import json as flask_json
from flask_smorest.utils import resolve_schema_instance
from jsonschema import Draft4Validator
from marshmallow import RAISE, ValidationError
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
from telemetry import bind, unbind
from telemetry.http import PRINCIPAL, REQUEST_ID, ROUTE, RequestTelemetry, metrics_payload, trace_id
from telemetry.tracing import current_traceparent, setup_tracing

from .dependencies import install_dependency_checks, readiness
from .fastdump import compile_dump
from .fastflask import FastFlask
from .hardening import install_method_check, install_problem_handlers, is_json_mimetype, parse_json_body
from .openapi import finalize_openapi
from .parked import parked_filter
from .problems import Problem, _from_http_exception
from .schemas import ProblemSchema, utc_datetimes
from .service import ServiceContext
from .strictjson import schema_type_errors

PRINCIPAL_HEADER = "X-CRM-Principal"  # who called, for a proxy's access line
_PRINCIPAL_SAFE = "@._-:+!~*'()"

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

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with a schema class made an instance once, here: webargs would
        build a new instance on every request (about 3 % of a list request's CPU)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Any:
        """As flask-smorest's, with every timestamp written with its offset (``utc_datetimes``),
        and serialized along the precomputed path of ``compile_dump``."""
        if schema is not None and not isinstance(schema, str | dict):
            schema = compile_dump(utc_datetimes(resolve_schema_instance(schema)))
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
        # With tracing on, this request's SERVER span is the parent of the events it emits.
        g.traceparent = current_traceparent() or (tp if TRACEPARENT.match(tp) else None)
        g.trace_token = set_context(TraceContext(correlation_id=g.request_id,
                                                 traceparent=g.traceparent))
        # Every line logged while this request runs names it (and the access line too).
        g.log_token = bind(request_id=g.request_id, trace_id=trace_id(g.traceparent))
        request.environ[REQUEST_ID] = g.request_id
        if request.url_rule is not None:
            request.environ[ROUTE] = request.url_rule.rule

    @app.after_request
    def _stamp(resp: Response) -> Response:
        resp.headers["X-Request-ID"] = getattr(g, "request_id", "")
        principal = getattr(g, "principal", None)
        if principal is not None:
            request.environ[PRINCIPAL] = principal.sub
            # For the access line of a native proxy in front (nginx hides it from clients).
            resp.headers[PRINCIPAL_HEADER] = quote(principal.sub, safe=_PRINCIPAL_SAFE)
        return resp

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("trace_token", None)
        if token is not None:
            reset_context(token)
        log_token = g.pop("log_token", None)
        if log_token is not None:
            unbind(log_token)


REPLAY_BODY: dict[str, Any] = {"oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["id"],
     "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 100,
                           "description": "Event id of one parked message"}}},
    {"type": "object", "additionalProperties": False, "required": ["all"],
     "properties": {"all": {"type": "boolean", "enum": [True], "description": "Every parked message"}}},
]}


DISCARD_BODY: dict[str, Any] = {"oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["id"],
     "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 200,
                           "description": "Event id of one parked message"}}},
    {"type": "object", "additionalProperties": False, "required": ["confirm"],
     "minProperties": 2,
     "description": "A filter (at least one of type, older_than, all: true); it can discard many "
                    "messages, so it needs confirm: true",
     "properties": {
         "type": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Event type"},
         "older_than": {"type": "number", "minimum": 0, "maximum": 315_360_000,
                        "description": "Parked more than this many seconds ago"},
         "all": {"type": "boolean", "enum": [True], "description": "Every parked message"},
         "confirm": {"type": "boolean", "enum": [True]}}},
]}


def _check_body(schema: dict[str, Any], body: Any) -> None:
    """422 unless ``body`` is what the operation's declared request schema allows."""
    errors = sorted(Draft4Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise Problem(422, "Unprocessable Content", "the body does not match the operation's schema",
                      errors={"json": {"/".join(map(str, e.path)) or "_schema": [e.message[:200]]
                                       for e in errors}})


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

    @ops.route("/parked/discard", methods=["POST"])
    @ops.doc(requestBody={"required": True, "content": {"application/json": {"schema": DISCARD_BODY}}})
    @ops.response(200)
    @require_roles(authn.ADMIN)
    def discard() -> Any:
        """Remove parked messages for good: one by ``id``, or every one matching ``type`` and/or
        ``older_than`` (seconds), or ``all``; a filter needs ``"confirm": true``."""
        body = request.get_json(silent=True)
        _check_body(DISCARD_BODY, body)
        try:
            chosen = parked_filter(body if isinstance(body, dict) else {})
        except ValueError as exc:
            raise Problem(422, "Unprocessable Content", str(exc)) from exc
        try:
            count = bus.discard_parked(chosen)
        except Exception as exc:
            raise Problem(503, "Broker unavailable", str(exc)) from exc
        if chosen.message_id and count == 0:
            raise Problem(404, "Not Found", f"no parked message {chosen.message_id}")
        return {"discarded": count}

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
    setup_tracing(name)  # off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    app = FastFlask(name)
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
    gate = install_dependency_checks(app, context)
    checks = list(extra_ready_checks)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=name)

    @app.get("/readyz")
    def readyz() -> Response:
        """Ready = the database answers, its schema is not behind the code, extra checks pass."""
        problem = readiness(context, gate, checks)
        if problem is not None:
            resp = jsonify(status="unavailable", service=name, reason=problem)
            resp.status_code = 503
            resp.headers["Retry-After"] = "5"
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
        body, content_type = metrics_payload()
        return Response(body, content_type=content_type)  # not mimetype=: no second charset

    # Outermost: times and logs every answer, the probes' and the error handlers' included.
    app.wsgi_app = RequestTelemetry(app.wsgi_app, name)  # type: ignore[method-assign]
    return app
