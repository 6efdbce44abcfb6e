"""The system's events as one AsyncAPI 3.0 document, beside the OpenAPI one, and each event
type's payload schema at the address its CloudEvents name in ``dataschema``.

Each service serves ``/asyncapi.json`` for the types it publishes (generated from the contracts
its ``events`` modules register, ``eventbus.contracts``); the gateway merges them like the
OpenAPI documents, so a type another service adds appears here without a change to the gateway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from typing import Any

import httpx
from flask import Blueprint, Response, json, request

from eventbus.contracts import JSON_SCHEMA_DIALECT, merge_asyncapi
from httpapi import Problem

log = logging.getLogger("gateway.asyncapi")

ASYNCAPI_PATH = "/api/v1/asyncapi.json"
SCHEMAS_PREFIX = "/api/v1/asyncapi/schemas/"
SCHEMA_JSON = "application/schema+json"
Doc = dict[str, Any]
DESCRIPTION = (
    "Every event the CRM publishes, as CloudEvents 1.0 in structured mode (the AMQP body is the "
    "JSON envelope, content type application/cloudevents+json) on one durable topic exchange, "
    "with the event type as routing key. Bind your own queue with the patterns you need "
    "(accounts.#); delivery is at least once and unordered: dedupe on the envelope's id. Each "
    "event names the JSON Schema of its data in dataschema (served under "
    f"{SCHEMAS_PREFIX}<type>). Catalogue and rules: docs/events.md.")


def fetch_asyncapi(client: httpx.Client, base_url: str, timeout: float) -> Doc:
    resp = client.get(f"{base_url}/asyncapi.json", timeout=httpx.Timeout(timeout))
    resp.raise_for_status()
    doc = resp.json()
    if not isinstance(doc, dict) or not str(doc.get("asyncapi", "")).startswith("3."):
        raise ValueError("not an AsyncAPI 3 document")
    return doc


class AsyncApiAggregator:
    """The services' documents, fetched concurrently and merged, kept ``ttl`` seconds (a short
    time when a service was missing, so its events reappear soon after it recovers)."""

    def __init__(self, client: httpx.Client, upstreams: dict[str, str], executor: Executor, *,
                 broker_host: str, exchange: str, timeout: float = 2.0, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.upstreams, self.executor = client, upstreams, executor
        self.broker_host, self.exchange = broker_host, exchange
        self.timeout, self.ttl, self._clock = timeout, ttl, clock
        self._lock = threading.Lock()
        self._cached: Doc | None = None
        self._expires = 0.0

    def document(self) -> Doc:
        with self._lock:
            now = self._clock()
            if self._cached is None or now >= self._expires:
                self._cached, complete = self._build()
                self._expires = now + (self.ttl if complete else min(self.ttl, 5.0))
            return self._cached

    def _build(self) -> tuple[Doc, bool]:
        futures: dict[str, Future[Doc]] = {
            name: self.executor.submit(fetch_asyncapi, self.client, url, self.timeout)
            for name, url in self.upstreams.items()}
        wait(futures.values(), timeout=self.timeout + 1.0)
        docs, unavailable = [], []
        for name in sorted(futures):
            fut = futures[name]
            error = fut.exception() if fut.done() else TimeoutError("no answer in time")
            if error is not None:
                log.warning("AsyncAPI of %s unavailable: %r", name, error)
                unavailable.append(name)
            else:
                docs.append(fut.result())
        merged = merge_asyncapi(docs, title="CRM events", description=DESCRIPTION)
        merged["servers"] = {"broker": {
            "host": self.broker_host, "protocol": "amqp", "protocolVersion": "0-9-1",
            "description": f"RabbitMQ; the exchange is {self.exchange} (topic). Ask the operator "
                           "for a user that may read it and declare queues under your own prefix."}}
        merged["x-unavailable-services"] = unavailable
        return merged, not unavailable


def asyncapi_blueprint(aggregator: AsyncApiAggregator) -> Blueprint:
    bp = Blueprint("asyncapi", __name__)

    @bp.get(ASYNCAPI_PATH)
    def asyncapi_json() -> Response:
        return Response(json.dumps(aggregator.document()), mimetype="application/json")

    @bp.get(SCHEMAS_PREFIX + "<event_type>")
    def event_schema(event_type: str) -> Response:
        schemas = aggregator.document()["components"]["schemas"]
        if event_type == "CloudEvent" or event_type not in schemas:
            raise Problem(404, "Not Found", f"no event type {event_type} is published")
        doc = {"$schema": JSON_SCHEMA_DIALECT, "$id": request.base_url, **schemas[event_type]}
        resp = Response(json.dumps(doc), mimetype=SCHEMA_JSON)
        resp.headers["Cache-Control"] = "public, max-age=300"
        return resp

    return bp
