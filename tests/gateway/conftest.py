"""Fixtures of the gateway tests: real upstream services (see gateway_fakes), a port that
refuses connections for outages, and gateways built from a test configuration."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gateway_fakes import API_KEY, FakeService, Served, serve, service_app

from authn import ApiKey, parse_api_keys
from gateway.app import create_app
from gateway.config import ROUTE_CLASSES, GatewayConfig


@pytest.fixture
def make_service() -> Iterator[Callable[[str], FakeService]]:
    started: list[tuple[FakeService, Served]] = []

    def start(name: str) -> FakeService:
        svc = FakeService(name)
        served = serve(service_app(svc))
        svc.url = served.url
        started.append((svc, served))
        return svc

    yield start
    for svc, served in started:
        svc.release.set()
        served.stop()


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A port that is bound but not listening: connections are refused at once, and no
    other process can take the port while the test runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def base_config(tmp_path: Path, closed_url: str) -> GatewayConfig:
    """Built-in issuer with demo users; every upstream down unless a test says otherwise."""
    return GatewayConfig(
        upstreams={name: closed_url for name in ("leads", "accounts", "support", "notify")},
        upstream_timeout=2.0,
        connect_timeout=1.0,
        dev_issuer=True,
        demo_users=True,
        issuer_key_file=tmp_path / "issuer-key.pem",
        api_keys=[_api_key("ci", "integration", API_KEY)],
        openapi_timeout=1.0,
        ready_timeout=1.0,
        rate_limits=dict.fromkeys(ROUTE_CLASSES, "1000/second"),
    )


def _api_key(name: str, roles: str, key: str) -> ApiKey:
    return parse_api_keys(f"{name}:{roles}:{hashlib.sha256(key.encode()).hexdigest()}")[0]


@pytest.fixture
def make_gateway() -> Iterator[Callable[..., FlaskClient]]:
    apps: list[Flask] = []

    def build(config: GatewayConfig, **changes: Any) -> FlaskClient:
        app = create_app(replace(config, **changes))
        apps.append(app)
        return app.test_client()

    yield build
    for app in apps:
        app.extensions["gateway"].close()


@pytest.fixture
def login() -> Callable[[FlaskClient, str], dict[str, str]]:
    def _login(client: FlaskClient, username: str) -> dict[str, str]:
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": "crm-demo"})
        assert resp.status_code == 200, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['access_token']}"}

    return _login
