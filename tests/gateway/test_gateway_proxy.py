"""Routing and forwarding against real upstream servers: what reaches the service, what comes
back, and bounded failures when a service is down or slow."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from gateway_fakes import FakeService, serve

from gateway.config import GatewayConfig
from gateway.proxy import resolve

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


@pytest.fixture
def services(make_service: Callable[[str], FakeService]) -> dict[str, FakeService]:
    return {name: make_service(name) for name in ("leads", "accounts", "support", "notify")}


@pytest.fixture
def client(base_config: GatewayConfig, services: dict[str, FakeService],
           make_gateway: Callable[..., FlaskClient]) -> FlaskClient:
    return make_gateway(base_config, upstreams={name: svc.url for name, svc in services.items()})


@pytest.fixture
def rep1(client: FlaskClient, login: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login(client, "rep1")


def test_request_with_token_request_id_and_trace_reaches_the_service(
        client: FlaskClient, services: dict[str, FakeService], rep1: dict[str, str]) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    headers = {**rep1, "X-Request-ID": "req-123", "traceparent": traceparent,
               "tracestate": "vendor=1", "If-Match": '"v1"', "Accept": "application/json",
               "Cookie": "session=secret", "X-Internal-Debug": "1"}
    resp = client.post("/api/v1/leads?status=201&q=a%20b", json={"name": "Ada"}, headers=headers)
    assert resp.status_code == 201
    assert resp.headers["X-Request-ID"] == "req-123"
    assert resp.headers["ETag"] == '"v1"'
    assert "X-Internal" not in resp.headers  # only a known set of upstream headers comes back
    seen = services["leads"].last()
    assert resp.get_json() == seen  # the upstream's body, unchanged
    assert seen["method"] == "POST" and seen["path"] == "/api/v1/leads"
    assert seen["query"] == "status=201&q=a%20b"
    assert seen["body"] == '{"name": "Ada"}'
    sent = seen["headers"]
    assert sent["Authorization"] == rep1["Authorization"]
    assert sent["X-Request-Id"] == "req-123"
    assert sent["Traceparent"] == traceparent and sent["Tracestate"] == "vendor=1"
    assert sent["If-Match"] == '"v1"' and sent["Content-Type"] == "application/json"
    assert sent["X-Forwarded-For"] == "127.0.0.1" and sent["X-Forwarded-Proto"] == "http"
    assert "Cookie" not in sent and "X-Internal-Debug" not in sent


def test_request_id_and_traceparent_are_made_when_missing_or_invalid(
        client: FlaskClient, services: dict[str, FakeService], rep1: dict[str, str]) -> None:
    resp = client.get("/api/v1/accounts/42",
                      headers={**rep1, "X-Request-ID": "bad id with spaces", "traceparent": "garbage"})
    assert resp.status_code == 200
    rid = resp.headers["X-Request-ID"]
    assert str(uuid.UUID(rid)) == rid
    sent = services["accounts"].last()["headers"]
    assert sent["X-Request-Id"] == rid
    assert TRACEPARENT.match(sent["Traceparent"])
    assert "00000000000000000000000000000000" not in sent["Traceparent"]


@pytest.mark.parametrize(("path", "service", "upstream_path"), [
    ("/api/v1/leads", "leads", "/api/v1/leads"),
    ("/api/v1/leads/7/convert", "leads", "/api/v1/leads/7/convert"),
    ("/api/v1/accounts", "accounts", "/api/v1/accounts"),
    ("/api/v1/support/tickets/3", "support", "/api/v1/support/tickets/3"),
    ("/api/v1/notify/templates", "notify", "/api/v1/notify/templates"),
    ("/api/v1/ops/leads/outbox", "leads", "/ops/outbox"),
    ("/api/v1/ops/notify/parked/replay", "notify", "/ops/parked/replay"),
])
def test_routes_by_prefix(path: str, service: str, upstream_path: str, client: FlaskClient,
                          services: dict[str, FakeService], rep1: dict[str, str]) -> None:
    resp = client.get(path, headers=rep1)
    assert resp.status_code == 200
    assert resp.get_json()["service"] == service
    assert services[service].last()["path"] == upstream_path


def test_unknown_prefix_is_404_problem(client: FlaskClient, rep1: dict[str, str]) -> None:
    for path in ("/api/v1/invoices", "/api/v1/leadsx", "/api/v1/ops/billing/outbox", "/api/v1/ops/leads"):
        resp = client.get(path, headers=rep1)
        assert resp.status_code == 404, path
        assert resp.content_type == "application/problem+json"
        assert resp.get_json()["request_id"] == resp.headers["X-Request-ID"]


def test_gateway_own_paths_answer_405_with_allow_for_other_methods(client: FlaskClient) -> None:
    """The catch-all proxy route must not turn another method on the token endpoint into a 404
    (nor a 401: the path needs no credentials)."""
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        resp = client.open("/api/v1/auth/token", method=method)
        assert resp.status_code == 405, method
        assert resp.content_type == "application/problem+json"
        assert resp.headers["Allow"] == "OPTIONS, POST"
    assert client.put("/api/v1/openapi.json").headers["Allow"] == "GET, HEAD, OPTIONS"
    options = client.options("/api/v1/auth/token")
    assert options.status_code == 200 and options.headers["Allow"] == "OPTIONS, POST"


def test_upstream_status_body_and_content_type_come_back_unchanged(
        client: FlaskClient, rep1: dict[str, str]) -> None:
    resp = client.delete("/api/v1/leads/9?status=409&ctype=application/problem%2Bjson", headers=rep1)
    assert resp.status_code == 409
    assert resp.content_type == "application/problem+json"
    assert resp.get_json()["method"] == "DELETE"


def test_encoded_slash_stays_one_segment(client: FlaskClient, services: dict[str, FakeService],
                                         rep1: dict[str, str]) -> None:
    assert client.get("/api/v1/leads/a%2Fb", headers=rep1).status_code == 200
    assert services["leads"].last()["raw_uri"] == "/api/v1/leads/a%2Fb"


def test_upstream_down_is_503_problem_quickly(base_config: GatewayConfig,
                                              make_gateway: Callable[..., FlaskClient],
                                              login: Callable[..., dict[str, str]]) -> None:
    client = make_gateway(base_config)  # every upstream is a refusing port
    headers = login(client, "rep1")
    started = time.monotonic()
    resp = client.get("/api/v1/leads", headers=headers)
    assert time.monotonic() - started < 2.0
    assert resp.status_code == 503
    assert resp.content_type == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0
    body = resp.get_json()
    assert body["service"] == "leads" and "Traceback" not in resp.get_data(as_text=True)


def test_slow_upstream_is_504_within_the_timeout(base_config: GatewayConfig,
                                                 services: dict[str, FakeService],
                                                 make_gateway: Callable[..., FlaskClient],
                                                 login: Callable[..., dict[str, str]]) -> None:
    client = make_gateway(base_config, upstream_timeout=0.5,
                          upstreams={name: svc.url for name, svc in services.items()})
    headers = login(client, "rep1")
    started = time.monotonic()
    resp = client.get("/api/v1/support/slow", headers=headers)
    elapsed = time.monotonic() - started
    assert resp.status_code == 504
    assert resp.content_type == "application/problem+json"
    assert 0.4 < elapsed < 2.5


def test_body_over_one_mib_is_413_problem(client: FlaskClient, services: dict[str, FakeService],
                                          rep1: dict[str, str]) -> None:
    resp = client.post("/api/v1/leads", data=b"x" * ((1 << 20) + 1), headers=rep1,
                       content_type="application/json")
    assert resp.status_code == 413
    assert resp.content_type == "application/problem+json"
    assert not services["leads"].seen
    just_fits = client.post("/api/v1/leads", data=b"x" * (1 << 20), headers=rep1,
                            content_type="application/octet-stream")
    assert just_fits.status_code == 200


def test_resolve_keeps_business_out_of_routing() -> None:
    upstreams = {"leads": "http://l", "accounts": "http://a"}
    assert resolve(upstreams, "/api/v1/leads/1").path == "/api/v1/leads/1"  # type: ignore[union-attr]
    assert resolve(upstreams, "/api/v1/ops/accounts/parked").path == "/ops/parked"  # type: ignore[union-attr]
    assert resolve(upstreams, "/api/v2/leads") is None
    assert resolve(upstreams, "/api/v1/ops/leads/") is None
    route: Any = resolve(upstreams, "/api/v1/accounts")
    assert (route.service, route.base_url) == ("accounts", "http://a")



def test_chunked_body_over_one_mib_is_413_not_truncated(
        client: FlaskClient, services: dict[str, FakeService], rep1: dict[str, str]) -> None:
    """Without a Content-Length the limit is found while reading; the service never sees a cut body."""
    served = serve(client.application)
    try:
        def body(size: int) -> Iterator[bytes]:
            yield b"x" * (size - 1)
            yield b"x"

        with httpx.Client(base_url=served.url, timeout=5.0) as http:
            too_big = http.post("/api/v1/leads", content=body((1 << 20) + 1), headers=rep1)
            assert too_big.status_code == 413
            assert too_big.headers["Content-Type"] == "application/problem+json"
            assert not services["leads"].seen
            fits = http.post("/api/v1/leads", content=body(1 << 20), headers=rep1)
            assert fits.status_code == 200
            assert len(services["leads"].last()["body"]) == 1 << 20
    finally:
        served.stop()
