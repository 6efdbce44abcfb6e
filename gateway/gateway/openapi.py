"""One OpenAPI document for the whole system, merged from each service's ``/openapi.json``.

Paths are shown as a client calls them through the gateway (``/ops/...`` becomes
``/api/v1/ops/<service>/...``); component names get a ``<service>.`` prefix and every
``$ref`` follows, so two services may both define ``Error`` without clashing. An upstream
that cannot be reached is left out and named under ``x-unavailable-services``.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from typing import Any

import httpx
from flask import Blueprint, Response, jsonify

from httpapi.openapi import finalize_openapi

from .issuer import DISCOVERY_PATH, JWKS_PATH, TOKEN_PATH
from .proxy import API_PREFIX, OPS, resolve

log = logging.getLogger("gateway.openapi")

OPENAPI_PATH = "/api/v1/openapi.json"
OPENAPI_VERSION = "3.0.3"
REF_PREFIX = "#/components/"
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
Doc = dict[str, Any]


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _prefixed_ref(ref: str, service: str) -> str:
    """``#/components/schemas/Lead`` -> ``#/components/schemas/leads.Lead``; other refs kept."""
    if not ref.startswith(REF_PREFIX):
        return ref
    parts = ref[len(REF_PREFIX):].split("/")
    if len(parts) < 2 or parts[0] == "securitySchemes":
        return ref
    parts[1] = _escape(f"{service}.{_unescape(parts[1])}")
    return REF_PREFIX + "/".join(parts)


def rewrite_refs(node: Any, service: str) -> Any:
    """A copy of ``node`` with every ``$ref`` (and discriminator mapping) pointing at the
    service's prefixed components."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = _prefixed_ref(value, service)
            elif key == "mapping" and isinstance(value, dict):
                out[key] = {k: _prefixed_ref(v, service) if isinstance(v, str) else rewrite_refs(v, service)
                            for k, v in value.items()}
            else:
                out[key] = rewrite_refs(value, service)
        return out
    if isinstance(node, list):
        return [rewrite_refs(item, service) for item in node]
    return node


def gateway_path(service: str, path: str, upstreams: dict[str, str]) -> str | None:
    """Where a client reaches the upstream ``path`` through the gateway, or None if it can't."""
    if path == f"/{OPS}" or path.startswith(f"/{OPS}/"):
        return f"{API_PREFIX}{OPS}/{service}{path[len(OPS) + 1:]}"
    route = resolve(upstreams, path)
    return path if route is not None and route.service == service else None


def _merge_service(merged: Doc, service: str, doc: Doc, upstreams: dict[str, str]) -> None:
    doc = rewrite_refs(doc, service)
    tags = {t["name"]: t for t in merged["tags"]}
    for tag in doc.get("tags") or []:
        name = f"{service}-ops" if tag.get("name") == OPS else tag.get("name")
        if name and name not in tags:
            tags[name] = {**tag, "name": name}
    for path, item in (doc.get("paths") or {}).items():
        public = gateway_path(service, path, upstreams)
        if public is None:
            log.debug("%s documents %s, which the gateway does not route to it", service, path)
            continue
        item = copy.deepcopy(item)
        is_ops = public.startswith(f"{API_PREFIX}{OPS}/")
        for method, op in item.items():
            if method not in HTTP_METHODS or not isinstance(op, dict):
                continue
            if op.get("operationId"):
                op["operationId"] = f"{service}.{op['operationId']}"
            if is_ops:
                op["tags"] = [f"{service}-ops"]
                tags.setdefault(f"{service}-ops", {
                    "name": f"{service}-ops", "description": f"Operator tools of {service} (admin only)"})
            elif not op.get("tags"):
                op["tags"] = [service]
                tags.setdefault(service, {"name": service})
        merged["paths"][public] = item
    for section, entries in (doc.get("components") or {}).items():
        if not isinstance(entries, dict):
            continue
        target = merged["components"].setdefault(section, {})
        if section == "securitySchemes":
            for name, scheme in entries.items():
                target.setdefault(name, scheme)
            continue
        for name, value in entries.items():
            target[f"{service}.{name}"] = value
    merged["tags"] = list(tags.values())


def merge_documents(docs: dict[str, Doc], unavailable: list[str], upstreams: dict[str, str]) -> Doc:
    """Pure merge: the gateway's own part first, then each service in name order."""
    merged: Doc = copy.deepcopy(GATEWAY_DOCUMENT)
    for service in sorted(docs):
        _merge_service(merged, service, docs[service], upstreams)
    merged["paths"] = dict(sorted(merged["paths"].items()))
    merged["x-unavailable-services"] = sorted(unavailable)
    return merged


def fetch_document(client: httpx.Client, base_url: str, timeout: float) -> Doc:
    resp = client.get(f"{base_url}/openapi.json", timeout=httpx.Timeout(timeout))
    resp.raise_for_status()
    doc = resp.json()
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        raise ValueError("not an OpenAPI document")
    return doc


class OpenApiAggregator:
    """Fetches the services' documents concurrently and keeps the merge for ``ttl`` seconds
    (a short time when a service was missing, so it reappears soon after it recovers)."""

    def __init__(self, client: httpx.Client, upstreams: dict[str, str], executor: Executor,
                 timeout: float = 2.0, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.upstreams = upstreams
        self.executor = executor
        self.timeout = timeout
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: Doc | None = None
        self._expires = 0.0

    def document(self) -> Doc:
        with self._lock:  # one refresh at a time; the others wait at most one timeout
            now = self._clock()
            if self._cached is None or now >= self._expires:
                self._cached, complete = self._build()
                self._expires = now + (self.ttl if complete else min(self.ttl, 5.0))
            return self._cached

    def _build(self) -> tuple[Doc, bool]:
        futures: dict[str, Future[Doc]] = {
            name: self.executor.submit(fetch_document, self.client, url, self.timeout)
            for name, url in self.upstreams.items()}
        wait(futures.values(), timeout=self.timeout + 1.0)
        docs: dict[str, Doc] = {}
        unavailable: list[str] = []
        for name, fut in futures.items():
            error = fut.exception() if fut.done() else TimeoutError("no answer in time")
            if error is not None:
                log.warning("OpenAPI of %s unavailable: %r", name, error)
                unavailable.append(name)
            else:
                docs[name] = fut.result()
        return merge_documents(docs, unavailable, self.upstreams), not unavailable


def openapi_blueprint(aggregator: OpenApiAggregator) -> Blueprint:
    bp = Blueprint("openapi", __name__)

    @bp.get(OPENAPI_PATH)
    def openapi_json() -> Response:
        return jsonify(finalize_openapi(aggregator.document(), GATEWAY_PROBLEM))

    return bp


GATEWAY_PROBLEM = "gateway.Problem"


def _problem_response(description: str) -> Doc:
    schema = {"$ref": f"#/components/schemas/{GATEWAY_PROBLEM}"}
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


_PUBLIC: list[dict[str, list[str]]] = []  # "security: []" — no credentials needed

GATEWAY_DOCUMENT: Doc = {
    "openapi": OPENAPI_VERSION,
    "info": {
        "title": "CRM API",
        "version": "v1",
        "description": (
            "The whole CRM through its gateway. Send `Authorization: Bearer <token>` (from "
            f"`POST {TOKEN_PATH}` when the built-in issuer is on, or from the OIDC provider) or "
            "`X-API-Key`. Errors are RFC 9457 problem documents. Through the gateway every "
            "operation may also answer 401 (no valid credentials), 429 (rate limit, see "
            "Retry-After), 502/503 (service unreachable) or 504 (service too slow)."),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}, {"apiKey": []}],
    "tags": [{"name": "gateway", "description": "Sign-in, health and discovery of the gateway itself"}],
    "paths": {
        TOKEN_PATH: {"post": {
            "tags": ["gateway"], "operationId": "gateway.issueToken", "security": _PUBLIC,
            "summary": "Get an access token from the built-in issuer (AUTH_DEV_ISSUER=1)",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/gateway.TokenRequest"}}}},
            "responses": {
                "200": {"description": "A bearer token", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/gateway.TokenResponse"}}}},
                "401": _problem_response("Unknown user or wrong password"),
                "404": _problem_response("The built-in issuer is off"),
                "415": _problem_response("The body is not application/json"),
                "422": _problem_response("Missing or unknown fields"),
                "429": _problem_response("Too many attempts for this user or from this address; "
                                         "see Retry-After"),
            },
        }},
        OPENAPI_PATH: {"get": {
            "tags": ["gateway"], "operationId": "gateway.openapi", "security": _PUBLIC,
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI document of the whole system"}},
        }},
        "/api/v1/asyncapi.json": {"get": {
            "tags": ["gateway"], "operationId": "gateway.asyncapi", "security": _PUBLIC,
            "summary": "The events the CRM publishes (AsyncAPI 3.0): channels, messages, payload schemas",
            "responses": {"200": {"description": "AsyncAPI document of the whole system",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
        "/api/v1/asyncapi/schemas/{event_type}": {"get": {
            "tags": ["gateway"], "operationId": "gateway.eventSchema", "security": _PUBLIC,
            "summary": "JSON Schema of one event type's data: what each CloudEvent names in `dataschema`",
            "parameters": [{"name": "event_type", "in": "path", "required": True,
                            "description": "An event type, e.g. leads.lead.registered.v1",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
            "responses": {
                "200": {"description": "JSON Schema (draft-07)",
                        "content": {"application/schema+json": {"schema": {"type": "object"}}}},
                "404": _problem_response("No such event type is published"),
            },
        }},
        "/healthz": {"get": {
            "tags": ["gateway"], "operationId": "gateway.healthz", "security": _PUBLIC,
            "summary": "Liveness: the gateway process answers",
            "responses": {"200": {"description": "Alive"}},
        }},
        "/readyz": {"get": {
            "tags": ["gateway"], "operationId": "gateway.readyz", "security": _PUBLIC,
            "summary": "Readiness: every service answers its /readyz",
            "responses": {
                "200": {"description": "All services ready", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/gateway.Readiness"}}}},
                "503": _problem_response("Some service is not ready; `services` lists each state"),
            },
        }},
        JWKS_PATH: {"get": {
            "tags": ["gateway"], "operationId": "gateway.jwks", "security": _PUBLIC,
            "summary": "Public keys of the built-in issuer (JWKS), for services verifying its tokens",
            "responses": {"200": {"description": "JSON Web Key Set"},
                          "404": _problem_response("The built-in issuer is off")},
        }},
        DISCOVERY_PATH: {"get": {
            "tags": ["gateway"], "operationId": "gateway.openidConfiguration", "security": _PUBLIC,
            "summary": "Issuer and JWKS location of the built-in issuer",
            "responses": {"200": {"description": "Discovery document"},
                          "404": _problem_response("The built-in issuer is off")},
        }},
    },
    "components": {
        "securitySchemes": SECURITY_SCHEMES,
        "schemas": {
            "gateway.TokenRequest": {
                "type": "object", "additionalProperties": False, "required": ["username", "password"],
                "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 200},
                               "password": {"type": "string", "format": "password",
                                            "minLength": 1, "maxLength": 200}},
            },
            "gateway.TokenResponse": {
                "type": "object", "required": ["access_token", "token_type", "expires_in"],
                "properties": {"access_token": {"type": "string"},
                               "token_type": {"type": "string", "enum": ["Bearer"]},
                               "expires_in": {"type": "integer", "description": "Seconds"}},
            },
            "gateway.Readiness": {
                "type": "object",
                "properties": {"status": {"type": "string"}, "service": {"type": "string"},
                               "services": {"type": "object", "additionalProperties": {"type": "object"}}},
            },
            "gateway.Problem": {
                "type": "object", "description": "RFC 9457 problem details",
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "detail": {"type": "string"},
                               "instance": {"type": "string"}, "request_id": {"type": "string"},
                               "errors": {"type": "object"}},
            },
        },
    },
}
