"""The native hot path: a real nginx with the configuration `gateway.nginx` renders, in front of
real upstream HTTP servers and the real Python gateway. It must do the gateway's duties on
the proxied paths (routing, request ids, trace context, rate limits, body limit, problem+json
on upstream failure, one access line per request) and hand everything else to the Python
gateway."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_fakes import FakeService, serve

from eventbus.testing import wait_for
from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.nginx import nginx_rate, read_env_file, render, render_ingress, write, zones
from httpapi.problems import MAX_BODY_BYTES

NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Front:
    url: str
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # being written
                pass
        return out

    def line_for(self, request_id: str) -> dict[str, Any]:
        return wait_for(lambda: next((x for x in self.lines() if x["request_id"] == request_id), None),
                        5, message=f"access line of {request_id}")


@pytest.fixture
def start_front(tmp_path: Path) -> Iterator[Callable[[GatewayConfig], Front]]:
    if NGINX is None:
        if os.environ.get("CRM_REQUIRE_INTEGRATION") == "1":
            pytest.fail("nginx required (CRM_REQUIRE_INTEGRATION=1): `make proxy` installs it")
        pytest.skip("nginx is not installed (`make proxy` installs it)")
    procs: list[subprocess.Popen[bytes]] = []
    served = []

    def start(config: GatewayConfig) -> Front:
        app = serve(create_app(replace(config, proxy_hops=1)))
        served.append(app)
        port = _free_port()
        run = tmp_path / f"nginx-{port}"
        log = run / "access.log"
        files = render(config, listen=f"127.0.0.1:{port}", app=app.url.split("://")[1],
                       run_dir=run, access_log=str(log), worker_processes="1")
        conf = write(files, run)
        proc = subprocess.Popen([str(NGINX), "-p", str(run), "-e", "stderr", "-c", str(conf)],
                                stderr=subprocess.PIPE, start_new_session=True)
        procs.append(proc)

        def listening() -> bool:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "nginx exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_for(listening, 10, message="nginx listening")
        return Front(f"http://127.0.0.1:{port}", log)

    yield start
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    for app in served:
        app.stop()


@pytest.fixture
def upstreams(make_service: Callable[[str], FakeService]) -> dict[str, FakeService]:
    return {name: make_service(name) for name in ("leads", "accounts", "support", "notify")}


@pytest.fixture
def config(base_config: GatewayConfig, upstreams: dict[str, FakeService]) -> GatewayConfig:
    return replace(base_config, upstreams={n: s.url for n, s in upstreams.items()})


BEARER = {"Authorization": "Bearer some.token.value"}


def test_rates_translate_to_nginx_zones() -> None:
    # burst + 1 requests pass at once in nginx: the burst is one less than the quota.
    assert nginx_rate(400, 4) == ("100r/s", 399)
    assert nginx_rate(30, 60) == ("30r/m", 29)
    assert nginx_rate(400, 4, replicas=2) == ("50r/s", 199)
    made = zones({"read": "400 per 4 seconds;2000/minute", "write": "50/second", "public": ""})
    assert [(z.name, z.key, z.rate, z.burst) for z in made] == [
        ("crm_read_0", "$crm_key_read", "100r/s", 399),
        ("crm_read_1", "$crm_key_read", "33r/s", 1999),
        ("crm_write_0", "$crm_key_write", "50r/s", 49),
        ("crm_address", "$binary_remote_addr", "1000r/s", 3999),
    ]


def test_every_route_of_the_table_is_rendered_once(config: GatewayConfig, tmp_path: Path) -> None:
    conf = render(config, listen="127.0.0.1:1", app="127.0.0.1:2", run_dir=tmp_path)["nginx.conf"]
    for service in config.upstreams:
        assert conf.count(f"location = /api/v1/{service} {{") == 1
        assert conf.count(f"location ^~ /api/v1/{service}/ {{") == 1
        assert conf.count(f"location ^~ /api/v1/ops/{service}/ {{") == 1
        assert conf.count(f"upstream crm_{service} {{") == 1
    assert conf.count("location / {") == 1
    if NGINX:
        files = write(render(config, listen="127.0.0.1:1", app="127.0.0.1:2", run_dir=tmp_path),
                      tmp_path)
        check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(files)],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr


def test_routes_go_straight_to_their_service(start_front: Callable[[GatewayConfig], Front],
                                             config: GatewayConfig,
                                             upstreams: dict[str, FakeService]) -> None:
    front = start_front(config)
    with httpx.Client(base_url=front.url, headers=BEARER, timeout=10) as client:
        for name, svc in upstreams.items():
            resp = client.get(f"/api/v1/{name}/items/a%2Fb", params={"q": "x y"})
            assert resp.status_code == 200
            assert svc.last()["raw_uri"] == f"/api/v1/{name}/items/a%2Fb?q=x+y"
            assert client.get(f"/api/v1/{name}").status_code == 200
            assert svc.last()["path"] == f"/api/v1/{name}"
        ops = client.get("/api/v1/ops/notify/outbox")
        assert ops.status_code == 200 and upstreams["notify"].last()["path"] == "/ops/outbox"
        before = len(upstreams["leads"].seen)
        other = client.get("/api/v1/leadsx/1")  # not a service: the Python gateway answers
        assert other.status_code in (401, 404)
        assert other.headers["content-type"].startswith("application/problem+json")
        assert len(upstreams["leads"].seen) == before
        # The upstream's own answers pass unchanged, errors included; internal headers stay.
        conflict = client.post("/api/v1/accounts/x", params={"status": "409"}, json={"a": 1})
        assert conflict.status_code == 409 and conflict.json()["body"] == '{"a":1}'
        assert conflict.headers["ETag"] == '"v1"'
        # What only the Python gateway does: sign-in, documents, probes.
        token = client.post("/api/v1/auth/token", json={"username": "rep1", "password": "crm-demo"})
        assert token.status_code == 200 and token.json()["access_token"]
        assert client.get("/healthz").status_code == 200


def test_request_ids_and_trace_context(start_front: Callable[[GatewayConfig], Front],
                                       config: GatewayConfig,
                                       upstreams: dict[str, FakeService]) -> None:
    front = start_front(config)
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with httpx.Client(base_url=front.url, headers=BEARER, timeout=10) as client:
        kept = client.get("/api/v1/leads/1", headers={"X-Request-ID": "client-id-1",
                                                      "traceparent": parent, "tracestate": "k=v"})
        seen = upstreams["leads"].last()["headers"]
        assert kept.headers["X-Request-ID"] == "client-id-1" == seen["X-Request-Id"]
        assert seen["Traceparent"] == parent and seen["Tracestate"] == "k=v"
        line = front.line_for("client-id-1")
        assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"

        fresh = client.get("/api/v1/leads/1", headers={"X-Request-ID": "bad id <script>",
                                                       "traceparent": "00-" + "0" * 32 + "-1-01",
                                                       "tracestate": "k=v"})
        seen = upstreams["leads"].last()["headers"]
        rid = fresh.headers["X-Request-ID"]
        assert len(rid) == 32 and rid == seen["X-Request-Id"]
        assert seen["Traceparent"].startswith(f"00-{rid}-") and "Tracestate" not in seen


def test_one_access_line_per_request_with_the_principal(start_front: Callable[[GatewayConfig], Front],
                                                        config: GatewayConfig,
                                                        make_service: Callable[[str], FakeService],
                                                        ) -> None:
    front = start_front(config)
    with httpx.Client(base_url=front.url, headers=BEARER, timeout=10) as client:
        resp = client.get("/api/v1/support/tickets/7", headers={"X-Request-ID": "log-1"})
    line = front.line_for("log-1")
    assert line["logger"] == "crm.access" and line["service"] == "gateway"
    assert line["status"] == 200 and line["method"] == "GET" and line["route"] == "/api/v1/support/*"
    assert isinstance(line["duration_ms"], float) and line["path"] == "/api/v1/support/tickets/7"
    assert resp.status_code == 200
    assert sum(1 for x in front.lines() if x["request_id"] == "log-1") == 1


def test_principal_header_is_logged_and_never_returned(start_front: Callable[[GatewayConfig], Front],
                                                       base_config: GatewayConfig) -> None:
    """A real service (httpapi) names its caller in X-CRM-Principal for this line."""
    from flask import Flask, Response

    svc = Flask("principal")

    @svc.get("/api/v1/leads/me")
    def me() -> Response:
        resp = Response("{}", content_type="application/json")
        resp.headers["X-CRM-Principal"] = "rep1"
        return resp

    served = serve(svc)
    try:
        front = start_front(replace(base_config, upstreams={"leads": served.url}))
        resp = httpx.get(f"{front.url}/api/v1/leads/me", headers={**BEARER, "X-Request-ID": "p-1"})
        assert resp.status_code == 200 and "X-CRM-Principal" not in resp.headers
        assert front.line_for("p-1")["principal"] == "rep1"
    finally:
        served.stop()


def test_oversized_body_is_a_413_problem(start_front: Callable[[GatewayConfig], Front],
                                         config: GatewayConfig,
                                         upstreams: dict[str, FakeService]) -> None:
    front = start_front(config)
    resp = httpx.post(f"{front.url}/api/v1/leads", headers={**BEARER, "X-Request-ID": "big-1",
                                                            "Content-Type": "application/json"},
                      content=b"x" * (MAX_BODY_BYTES + 1), timeout=10)
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/problem+json"
    doc = resp.json()
    assert doc["status"] == 413 and doc["request_id"] == "big-1" and doc["instance"] == "/api/v1/leads"
    assert not upstreams["leads"].seen


def test_rate_limits_per_caller_and_class(start_front: Callable[[GatewayConfig], Front],
                                          config: GatewayConfig) -> None:
    front = start_front(replace(config, rate_limits={"read": "3 per 60 seconds",
                                                     "write": "2 per 60 seconds",
                                                     "public": "2 per 60 seconds"}))
    with httpx.Client(base_url=front.url, timeout=10) as client:
        first = {"Authorization": "Bearer caller-one"}
        assert [client.get("/api/v1/leads/1", headers=first).status_code for _ in range(3)] == [200] * 3
        refused = client.get("/api/v1/leads/1", headers=first)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 429
        # Another caller, and the same caller's writes, have budgets of their own.
        other = {"Authorization": "Bearer caller-two"}
        assert client.get("/api/v1/leads/1", headers=other).status_code == 200
        assert client.post("/api/v1/leads", headers=first, json={}).status_code == 200
        # Without credentials: the address's public budget (the service then answers 401).
        assert [client.get("/api/v1/leads/1").status_code for _ in range(3)] == [200, 200, 429]


def test_upstream_failures_are_problems(start_front: Callable[[GatewayConfig], Front],
                                        config: GatewayConfig, closed_url: str,
                                        upstreams: dict[str, FakeService]) -> None:
    front = start_front(replace(config, upstream_timeout=1.0,
                                upstreams={**config.upstreams, "notify": closed_url}))
    with httpx.Client(base_url=front.url, headers=BEARER, timeout=10) as client:
        down = client.get("/api/v1/notify/x", headers={"X-Request-ID": "down-1"})
        assert down.status_code == 503 and down.headers["Retry-After"] == "5"
        assert down.headers["content-type"] == "application/problem+json"
        assert down.json()["request_id"] == "down-1"
        slow = client.get("/api/v1/support/slow")
        assert slow.status_code == 504 and slow.json()["status"] == 504
        upstreams["support"].release.set()
        # A service's own 503 passes through as it is (not rewritten by nginx).
        own = client.get("/api/v1/leads/x", params={"status": "503"})
        assert own.status_code == 503 and own.json()["service"] == "leads"


def test_the_kubernetes_ingress_is_rendered_from_the_route_table() -> None:
    """deploy/k8s/ingress.yaml is what the renderer makes of gateway.env: no drift."""
    import yaml

    k8s = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
    config = GatewayConfig.from_env(read_env_file(k8s / "gateway.env"))
    text = render_ingress(config)
    assert (k8s / "ingress.yaml").read_text() == text
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(text)}
    api = docs["crm-api"]["spec"]["rules"][0]["http"]["paths"]
    assert {(p["path"], p["backend"]["service"]["name"]) for p in api} == {
        (f"/api/v1/{s}", s) for s in config.upstreams}
    notes = docs["crm-api"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/global-rate-limit"] == "400"
    assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == "1m"
    rest = docs["crm-gateway"]["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in rest] == [("/", "gateway")]
