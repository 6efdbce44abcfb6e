"""Rate limits per caller, health and readiness, and settings read from the environment."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from gateway_fakes import FakeService

from gateway.config import ConfigError, GatewayConfig, RateLimit, parse_upstreams, rate_limit_spec


@pytest.fixture
def leads_up(base_config: GatewayConfig, make_service: Callable[[str], FakeService]) -> GatewayConfig:
    return GatewayConfig(**{**base_config.__dict__,
                            "upstreams": {**base_config.upstreams, "leads": make_service("leads").url}})


def test_rate_limit_is_429_problem_per_principal(leads_up: GatewayConfig,
                                                 make_gateway: Callable[..., FlaskClient],
                                                 login: Callable[..., dict[str, str]]) -> None:
    # A long window so the test cannot race the clock; sign-ins spend the public budget.
    client = make_gateway(leads_up, rate_limits={"read": "3/hour", "write": "2/hour", "public": "50/hour"})
    rep1, rep2 = login(client, "rep1"), login(client, "rep2")
    assert [client.get("/api/v1/leads", headers=rep1).status_code for _ in range(3)] == [200] * 3
    limited = client.get("/api/v1/leads", headers=rep1)
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert limited.headers["RateLimit-Policy"] == '"read-3600s";q=3;w=3600'
    assert limited.headers["RateLimit"] == f'"read-3600s";r=0;t={limited.headers["Retry-After"]}'
    # Writes have their own budget, and so has every other caller.
    assert client.post("/api/v1/leads", headers=rep1, json={}).status_code == 200
    assert client.get("/api/v1/leads", headers=rep2).status_code == 200
    for _ in range(10):
        assert client.get("/healthz").status_code == 200  # health is never limited


def test_several_limits_per_class_and_the_policy_header_lists_them(
        leads_up: GatewayConfig, make_gateway: Callable[..., FlaskClient],
        login: Callable[..., dict[str, str]]) -> None:
    client = make_gateway(leads_up, rate_limits={"read": "100/hour;2/day", "write": "", "public": ""})
    rep1 = login(client, "rep1")
    assert [client.get("/api/v1/leads", headers=rep1).status_code for _ in range(3)] == [200, 200, 429]
    limited = client.get("/api/v1/leads", headers=rep1)
    assert limited.headers["RateLimit-Policy"] == '"read-3600s";q=100;w=3600, "read-86400s";q=2;w=86400'
    assert limited.headers["RateLimit"].startswith('"read-86400s";r=0;t=')
    for _ in range(5):  # "" turns a class's limit off
        assert client.delete("/api/v1/leads/1", headers=rep1).status_code == 200


def test_failed_authentication_is_limited_by_client_address(base_config: GatewayConfig,
                                                           make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config, rate_limits={**base_config.rate_limits, "public": "2/hour"})
    codes = [client.get("/api/v1/leads", headers={"X-API-Key": f"guess-{i}"}).status_code for i in range(3)]
    assert codes == [401, 401, 429]


def test_rate_limit_settings_accept_the_older_notation() -> None:
    assert rate_limit_spec("X", "100/s,burst=400") == "400 per 4 seconds"
    assert rate_limit_spec("X", "120/m") == "120 per 60 seconds"
    assert rate_limit_spec("X", "120/minute;5/second") == "120/minute;5/second"
    assert rate_limit_spec("X", "off") == ""
    with pytest.raises(ConfigError, match="X"):
        rate_limit_spec("X", "fast")
    assert RateLimit.parse("120/m") == RateLimit(rate=2, burst=120)


def test_healthz_always_ok(base_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    resp = make_gateway(base_config).get("/healthz")  # every upstream is down
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"


def test_readyz_lists_each_service_and_is_503_when_one_is_down(
        base_config: GatewayConfig, make_service: Callable[[str], FakeService], closed_url: str,
        make_gateway: Callable[..., FlaskClient]) -> None:
    up = {name: make_service(name).url for name in ("leads", "accounts", "support")}
    all_up = make_gateway(base_config, upstreams=up).get("/readyz")
    assert all_up.status_code == 200
    assert all_up.get_json()["services"] == {name: {"status": "ready"} for name in up}

    started = time.monotonic()
    one_down = make_gateway(base_config, upstreams={**up, "notify": closed_url}).get("/readyz")
    assert time.monotonic() - started < 3.0
    assert one_down.status_code == 503
    assert one_down.content_type == "application/problem+json"
    services = one_down.get_json()["services"]
    assert services["notify"]["status"] == "unreachable"
    assert services["leads"] == {"status": "ready"}


def test_config_from_environment() -> None:
    config = GatewayConfig.from_env({})
    assert config.upstreams == {"leads": "http://127.0.0.1:8081", "accounts": "http://127.0.0.1:8082",
                                "support": "http://127.0.0.1:8083", "notify": "http://127.0.0.1:8084"}
    assert (config.upstream_timeout, config.connect_timeout) == (10.0, 2.0)
    assert config.rate_limits == dict.fromkeys(("read", "write", "public"), "400 per 4 seconds")
    assert config.redis_url is None and config.login_account_limits == "5/minute;20/hour;100/day"
    assert not config.dev_issuer and not config.demo_users and config.jwks_url is None
    assert config.issuer == "crm-embedded"  # pinned even when AUTH_ISSUER is not set
    assert config.issuer_key_file == Path("var/issuer-key.pem") and config.token_ttl == 3600

    config = GatewayConfig.from_env({
        "GATEWAY_UPSTREAMS": "leads=http://leads:8000/", "GATEWAY_UPSTREAM_TIMEOUT": "3.5",
        "GATEWAY_RATE_LIMIT": "50/s,burst=200", "AUTH_DEV_ISSUER": "1", "AUTH_DEMO_USERS": "1",
        "AUTH_ISSUER": "https://crm.example", "AUTH_TOKEN_TTL": "600",
        "AUTH_JWKS_URL": "https://kc/certs", "AUTH_API_KEYS": "ci:integration:" + "ab" * 32,
    })
    assert config.upstreams == {"leads": "http://leads:8000"}
    assert config.upstream_timeout == 3.5
    assert config.rate_limits == dict.fromkeys(("read", "write", "public"), "200 per 4 seconds")
    assert config.dev_issuer and config.demo_users and config.token_ttl == 600
    assert config.issuer == "https://crm.example"
    assert config.jwks_url == "https://kc/certs" and config.api_keys[0].roles == {"integration"}
    off = GatewayConfig.from_env({"GATEWAY_RATE_LIMIT": "off", "GATEWAY_RATE_LIMIT_WRITE": "10/second",
                                  "GATEWAY_REDIS_URL": "redis://cache:6379/1",
                                  "GATEWAY_LOGIN_ACCOUNT_LIMITS": "3/minute"})
    assert off.rate_limits == {"read": "", "write": "10/second", "public": ""}
    assert off.redis_url == "redis://cache:6379/1" and off.login_account_limits == "3/minute"


@pytest.mark.parametrize("env", [
    {"GATEWAY_UPSTREAMS": "leads"}, {"GATEWAY_UPSTREAMS": "ops=http://x"},
    {"GATEWAY_RATE_LIMIT": "fast"}, {"GATEWAY_RATE_LIMIT_READ": "lots"},
    {"GATEWAY_LOGIN_ADDRESS_LIMITS": "many"}, {"GATEWAY_UPSTREAM_TIMEOUT": "soon"},
    {"AUTH_API_KEYS": "broken"},
])
def test_bad_settings_fail_at_start_naming_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        GatewayConfig.from_env(env)


def test_no_key_source_fails_at_start(base_config: GatewayConfig,
                                      make_gateway: Callable[..., FlaskClient]) -> None:
    with pytest.raises(ConfigError, match="AUTH_JWKS_URL"):
        make_gateway(base_config, dev_issuer=False)
    assert parse_upstreams("a=http://x, b=https://y") == {"a": "http://x", "b": "https://y"}
