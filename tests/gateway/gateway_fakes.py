"""Real upstream HTTP servers for the gateway tests: small Flask apps served by werkzeug on
ephemeral ports in threads. Imported by the gateway tests' conftest and tests by this name."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, json, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

API_KEY = "test-integration-key"
SLOW_LIMIT = 10.0  # a "slow" upstream answers after this at most (or when the test ends)


@dataclass
class Served:
    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


def serve(app: Any, threaded: bool = True) -> Served:
    server = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return Served(f"http://127.0.0.1:{server.server_port}", server, thread)


@dataclass
class FakeService:
    """A real HTTP service that records what reached it and echoes it back."""

    name: str
    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    openapi_fetches: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    def last(self) -> dict[str, Any]:
        assert self.seen, f"no request reached {self.name}"
        return self.seen[-1]


def openapi_doc(service: str) -> dict[str, Any]:
    """What a service built with httpapi publishes: API paths, /ops paths, refs between schemas."""
    plural = f"/api/v1/{service}"
    return {
        "openapi": "3.0.3",
        "info": {"title": f"CRM {service}", "version": "v1"},
        "tags": [{"name": service}, {"name": "ops", "description": "Operator tools"}],
        "paths": {
            plural: {"get": {
                "tags": [service], "operationId": "list",
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Page"}}}},
                    "default": {"$ref": "#/components/responses/DEFAULT_ERROR"},
                }}},
            f"{plural}/{{item_id}}": {"get": {
                "tags": [service],
                "parameters": [{"in": "path", "name": "item_id", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Item"}}}}}}},
            "/ops/outbox": {"get": {"tags": ["ops"], "responses": {"200": {"description": "backlog"}}}},
            "/api/v1/elsewhere": {"get": {"responses": {"200": {"description": "not routed here"}}}},
        },
        "components": {
            "schemas": {
                "Item": {"type": "object", "properties": {"id": {"type": "string"}}},
                "Page": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
                "Problem": {"type": "object"},
            },
            "responses": {"DEFAULT_ERROR": {"description": "error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


def service_app(svc: FakeService) -> Flask:
    app = Flask(f"fake_{svc.name}")

    @app.get("/readyz")
    def readyz() -> Response:
        return jsonify(status="ok", service=svc.name)

    @app.get("/openapi.json")
    def openapi() -> Response:
        svc.openapi_fetches += 1
        return jsonify(openapi_doc(svc.name))

    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    def echo(path: str) -> Response:
        record = {
            "service": svc.name, "method": request.method, "path": request.path,
            "raw_uri": request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"),
            "query": request.query_string.decode(), "body": request.get_data(as_text=True),
            "headers": dict(request.headers),
        }
        svc.seen.append(record)
        if path.endswith("/slow"):
            svc.release.wait(SLOW_LIMIT)
        status = int(request.args.get("status", "200"))
        ctype = request.args.get("ctype", "application/json")
        resp = Response(json.dumps(record), status=status, content_type=ctype)
        resp.headers["ETag"] = '"v1"'
        resp.headers["X-Internal"] = "not for clients"
        return resp

    return app
