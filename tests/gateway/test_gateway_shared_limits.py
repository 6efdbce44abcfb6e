"""Rate limits and sign-in throttling shared by several gateway processes through real Redis
(each test under its own key prefix), and what happens when Redis goes away: the gateway fails
open to per-process counters — it keeps answering, and limits still hold in each process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from gateway_fakes import FakeService

from eventbus.testing import wait_for
from gateway.config import GatewayConfig
from testkit.ports import free_port_block
from testkit.tcpproxy import TcpProxy

LEADS = "/api/v1/leads"


@pytest.fixture
def leads(make_service: Callable[[str], FakeService]) -> FakeService:
    return make_service("leads")


@pytest.fixture
def two_gateways(tmp_path: Path, leads: FakeService, redis_server: str,
                 redis_prefix: str) -> Iterator[list[str]]:
    """Two ``crm-gateway`` processes (waitress) with the same issuer key and the same Redis."""
    base = free_port_block(2)
    env = {**os.environ, "GATEWAY_UPSTREAMS": f"leads={leads.url}", "AUTH_DEV_ISSUER": "1",
           "AUTH_DEMO_USERS": "1", "AUTH_ISSUER_KEY_FILE": str(tmp_path / "issuer-key.pem"),
           "GATEWAY_REDIS_URL": redis_server, "GATEWAY_REDIS_PREFIX": redis_prefix,
           "GATEWAY_RATE_LIMIT_READ": "10/hour", "GATEWAY_RATE_LIMIT_WRITE": "off",
           "GATEWAY_RATE_LIMIT_PUBLIC": "off", "LOG_LEVEL": "WARNING"}
    env.pop("AUTH_ISSUER", None)
    procs = []
    try:
        for port in (base, base + 1):
            log = (tmp_path / f"gateway-{port}.log").open("w")
            procs.append(subprocess.Popen([sys.executable, "-m", "gateway", "--port", str(port)],
                                          env=env, stdout=log, stderr=subprocess.STDOUT))
        urls = [f"http://127.0.0.1:{port}" for port in (base, base + 1)]

        def up() -> bool:
            for proc in procs:
                assert proc.poll() is None, (tmp_path / "gateway-*.log")
            try:
                return all(httpx.get(f"{u}/healthz", timeout=1).status_code == 200 for u in urls)
            except httpx.HTTPError:
                return False

        wait_for(up, 60, interval=0.2, message="both gateways up")
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _token(url: str, username: str) -> dict[str, str]:
    resp = httpx.post(f"{url}/api/v1/auth/token", json={"username": username, "password": "crm-demo"},
                      timeout=10)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_two_gateway_processes_share_one_budget(two_gateways: list[str]) -> None:
    """10 reads an hour per caller: alternating between the processes still allows 10, not 20."""
    rep1 = _token(two_gateways[0], "rep1")
    codes = [httpx.get(f"{two_gateways[i % 2]}{LEADS}", headers=rep1, timeout=10).status_code
             for i in range(14)]
    assert codes == [200] * 10 + [429] * 4
    refused = httpx.get(f"{two_gateways[1]}{LEADS}", headers=rep1, timeout=10)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["RateLimit-Policy"] == '"read-3600s";q=10;w=3600'
    assert refused.headers["RateLimit"].startswith('"read-3600s";r=0;t=')
    assert int(refused.headers["Retry-After"]) >= 1
    # Another caller has a budget of its own, on both processes.
    rep2 = _token(two_gateways[1], "rep2")
    assert httpx.get(f"{two_gateways[0]}{LEADS}", headers=rep2, timeout=10).status_code == 200


def test_two_gateway_processes_share_the_sign_in_lockout(two_gateways: list[str]) -> None:
    def attempt(i: int, password: str) -> int:
        return httpx.post(f"{two_gateways[i % 2]}/api/v1/auth/token", timeout=10,
                          json={"username": "rep3", "password": password}).status_code

    assert [attempt(i, "wrong") for i in range(6)] == [401] * 5 + [429]
    assert attempt(0, "crm-demo") == 429 and attempt(1, "crm-demo") == 429


def _config(base: GatewayConfig, leads: FakeService, redis_url: str, prefix: str) -> GatewayConfig:
    return replace(base, upstreams={**base.upstreams, "leads": leads.url}, redis_url=redis_url,
                   redis_prefix=prefix, rate_limits={"read": "5/hour", "write": "", "public": ""})


def test_redis_outage_fails_open_to_per_process_limits(
        base_config: GatewayConfig, leads: FakeService, redis_prefix: str,
        make_gateway: Callable[..., FlaskClient], login: Callable[..., dict[str, str]]) -> None:
    with TcpProxy("127.0.0.1", 6379) as proxy:
        config = _config(base_config, leads, f"redis://{proxy.url_host}/0", redis_prefix)
        first, second = make_gateway(config), make_gateway(config)
        rep1 = login(first, "rep1")
        assert [first.get(LEADS, headers=rep1).status_code for _ in range(3)] == [200] * 3
        assert [second.get(LEADS, headers=rep1).status_code for _ in range(2)] == [200] * 2
        assert second.get(LEADS, headers=rep1).status_code == 429  # shared: 5 in all

        proxy.cut()  # Redis unreachable: no request fails because of it ...
        during = [first.get(LEADS, headers=rep1).status_code for _ in range(7)]
        assert during == [200] * 5 + [429] * 2  # ... and each process still limits on its own
        assert second.get(LEADS, headers=login(second, "rep2")).status_code == 200

        proxy.restore()
        store = first.application.extensions["gateway"].limiter.store
        store._down_until = 0.0  # skip the retry pause rather than wait for it
        assert first.get(LEADS, headers=rep1).status_code == 429  # Redis' counters again
        assert not store.degraded


def test_redis_down_from_the_start_serves_with_local_limits(
        base_config: GatewayConfig, leads: FakeService, closed_url: str,
        make_gateway: Callable[..., FlaskClient], login: Callable[..., dict[str, str]]) -> None:
    port = closed_url.rsplit(":", 1)[1]
    client = make_gateway(_config(base_config, leads, f"redis://127.0.0.1:{port}/0", "unused"))
    rep1 = login(client, "rep1")  # sign-in throttling falls back too: the sign-in works
    assert [client.get(LEADS, headers=rep1).status_code for _ in range(6)] == [200] * 5 + [429]


def test_keys_stay_under_the_configured_prefix(two_gateways: list[str], redis_server: str,
                                               redis_prefix: str) -> None:
    import redis

    httpx.get(f"{two_gateways[0]}{LEADS}", headers=_token(two_gateways[0], "rep1"), timeout=10)
    keys: list[Any] = list(redis.Redis.from_url(redis_server).scan_iter(f"{redis_prefix}*"))
    assert keys, "no counter was written under the prefix"
