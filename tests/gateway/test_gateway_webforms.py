"""The one tokenless API route: a web form's submission, forwarded with its X-Form-Key and
limited by the client's address; every neighbouring route still needs a token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.auth import is_public_api
from gateway.config import GatewayConfig

SUBMIT = "/api/v1/leads/web-forms/0b6f7c1e-6f55-4f0e-9d1b-2a4f6d3c9e10/submissions"


@pytest.fixture
def leads_config(base_config: GatewayConfig, make_service: Callable[[str], Any]) -> GatewayConfig:
    return replace(base_config, upstreams={**base_config.upstreams, "leads": make_service("leads").url})


@pytest.mark.parametrize(("method", "path", "public"), [
    ("POST", SUBMIT, True),
    ("GET", SUBMIT, False),
    ("POST", "/api/v1/leads/web-forms", False),
    ("POST", "/api/v1/leads/web-forms/x/rotate-key", False),
    ("POST", "/api/v1/leads/web-forms/x/submissions/extra", False),
    ("POST", "/api/v1/leads/web-forms//submissions", False),
    ("POST", "/api/v1/accounts/web-forms/x/submissions", False),
    ("POST", "/api/v1/leads/x/web-forms/y/submissions", False),
])
def test_only_the_submission_route_is_public(method: str, path: str, public: bool) -> None:
    assert is_public_api(method, path) is public


def test_submission_is_forwarded_with_the_form_key_and_no_token(
        leads_config: GatewayConfig, make_gateway: Callable[..., FlaskClient],
        make_service: Callable[[str], Any]) -> None:
    client = make_gateway(leads_config)
    resp = client.post(SUBMIT, json={"name": "李雷"}, headers={"X-Form-Key": "wf_secret"})
    assert resp.status_code == 200  # the fake leads service echoes what reached it
    seen = resp.get_json()
    assert seen["path"] == SUBMIT and seen["method"] == "POST"
    assert seen["headers"]["X-Form-Key"] == "wf_secret" and "Authorization" not in seen["headers"]
    assert client.get(SUBMIT).status_code == 401
    assert client.post("/api/v1/leads/web-forms", json={}).status_code == 401


def test_submissions_spend_the_client_address_bucket(
        leads_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(leads_config, rate_limits={**leads_config.rate_limits, "public": "2/minute"})
    codes = [client.post(SUBMIT, json={}, headers={"X-Form-Key": "k"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
