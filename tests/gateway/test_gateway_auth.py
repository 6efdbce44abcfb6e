"""Authentication at the gateway: bearer tokens (own and an external provider's), API keys,
and never fetching its own JWKS over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from gateway_fakes import API_KEY, serve

from authn import DEFAULT_ISSUER, AuthError, Verifier
from gateway.app import create_app
from gateway.auth import is_own_jwks_url
from gateway.config import GatewayConfig


def _external_token(issuer: Any, kid: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": DEFAULT_ISSUER, "sub": "kc-user", "preferred_username": "kc-user",
               "roles": ["sales_rep"], "aud": "crm", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(payload, issuer.key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def external_jwks(issuer: Any) -> Any:
    """A real JWKS endpoint (as Keycloak would serve) for the test issuer's key."""
    app = Flask("fake_keycloak")
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key(), as_dict=True),
           "kid": "kc-1", "use": "sig", "alg": "RS256"}

    @app.get("/realms/crm/protocol/openid-connect/certs")
    def certs() -> Any:
        return jsonify(keys=[jwk])

    served = serve(app)
    yield f"{served.url}/realms/crm/protocol/openid-connect/certs"
    served.stop()


@pytest.fixture
def leads_config(base_config: GatewayConfig, make_service: Callable[[str], Any]) -> GatewayConfig:
    return replace(base_config, upstreams={**base_config.upstreams, "leads": make_service("leads").url})


def test_unauthenticated_request_is_401_problem_and_never_forwarded(
        leads_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(leads_config)
    resp = client.get("/api/v1/leads")
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="crm"'
    body = resp.get_json()
    assert body["status"] == 401 and body["request_id"] == resp.headers["X-Request-ID"]
    bad = client.get("/api/v1/leads", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_api_key_accepted_and_wrong_key_refused(leads_config: GatewayConfig,
                                                make_gateway: Callable[..., FlaskClient],
                                                make_service: Callable[[str], Any]) -> None:
    client = make_gateway(leads_config)
    ok = client.get("/api/v1/leads", headers={"X-API-Key": API_KEY})
    assert ok.status_code == 200
    assert ok.get_json()["headers"]["X-Api-Key"] == API_KEY  # the service checks it again
    wrong = client.get("/api/v1/leads", headers={"X-API-Key": "not-the-key"})
    assert wrong.status_code == 401
    assert wrong.content_type == "application/problem+json"


def test_token_signed_by_another_key_is_refused(leads_config: GatewayConfig, issuer: Any,
                                                make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(leads_config)
    no_kid = issuer.token("mallory", "admin")
    resp = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {no_kid}"})
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"
    own_kid = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    forged = _external_token(issuer, own_kid, sub="mallory", roles=["admin"])
    resp = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401
    assert "Signature verification failed" in resp.get_json()["detail"]


def test_expired_own_token_is_refused(leads_config: GatewayConfig,
                                      make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(leads_config, token_ttl=-120)  # already past the 30 s leeway
    token = client.post("/api/v1/auth/token",
                        json={"username": "rep1", "password": "crm-demo"}).get_json()["access_token"]
    resp = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401


def test_external_provider_tokens_work_beside_own_tokens(
        leads_config: GatewayConfig, issuer: Any, external_jwks: str,
        make_gateway: Callable[..., FlaskClient], login: Callable[..., dict[str, str]]) -> None:
    client = make_gateway(leads_config, jwks_url=external_jwks)
    external = {"Authorization": f"Bearer {_external_token(issuer, 'kc-1')}"}
    assert client.get("/api/v1/leads", headers=external).status_code == 200
    assert client.get("/api/v1/leads", headers=login(client, "rep1")).status_code == 200


def test_own_tokens_never_need_the_external_jwks(
        leads_config: GatewayConfig, issuer: Any, closed_url: str,
        make_gateway: Callable[..., FlaskClient], login: Callable[..., dict[str, str]]) -> None:
    client = make_gateway(leads_config, jwks_url=f"{closed_url}/realms/crm/protocol/openid-connect/certs")
    assert client.get("/api/v1/leads", headers=login(client, "rep1")).status_code == 200
    # A token for the unreachable provider cannot be checked: 503, not 401.
    external = {"Authorization": f"Bearer {_external_token(issuer, 'kc-1')}"}
    resp = client.get("/api/v1/leads", headers=external)
    assert resp.status_code == 503
    assert resp.content_type == "application/problem+json"


def test_single_threaded_gateway_pointed_at_its_own_jwks_does_not_deadlock(
        leads_config: GatewayConfig) -> None:
    """One sync worker whose AUTH_JWKS_URL is itself: it must use the key in memory."""
    holder: dict[str, Flask] = {}

    def late_app(environ: Any, start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    served = serve(late_app, threaded=False)
    try:
        config = replace(leads_config, jwks_url=f"{served.url}/.well-known/jwks.json")
        holder["app"] = app = create_app(config)
        with httpx.Client(base_url=served.url, timeout=5.0) as http:
            token = http.post("/api/v1/auth/token",
                              json={"username": "rep1", "password": "crm-demo"}).json()["access_token"]
            resp = http.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
        assert app.extensions["authn"].jwks_url is None
    finally:
        served.stop()
        if "app" in holder:
            holder["app"].extensions["gateway"].close()


@pytest.mark.parametrize(("url", "own"), [
    ("http://127.0.0.1:8080/.well-known/jwks.json", True),
    ("http://localhost:8080/.well-known/jwks.json/", True),
    ("http://gateway:8080/.well-known/jwks.json", True),
    ("https://auth.example.com/.well-known/jwks.json", False),
    ("https://10.0.0.7/.well-known/jwks.json", False),
    ("http://127.0.0.1:8180/realms/crm/protocol/openid-connect/certs", False),
])
def test_recognises_its_own_jwks_url(url: str, own: bool) -> None:
    assert is_own_jwks_url(url) is own


def test_verifier_prefers_local_keys_by_kid_and_stays_compatible(issuer: Any, closed_url: str) -> None:
    """The authn change: ``signing_keys`` beside a JWKS URL; ``public_keys`` as before."""
    token = _external_token(issuer, "local-1")
    both = Verifier(jwks_url=f"{closed_url}/certs", signing_keys={"local-1": issuer.key.public_key()},
                    issuer=DEFAULT_ISSUER)
    assert both.verify_token(token).sub == "kc-user"  # no fetch: the URL is unreachable
    only_local = Verifier(signing_keys={"local-1": issuer.key.public_key()}, issuer=DEFAULT_ISSUER)
    with pytest.raises(AuthError):
        only_local.verify_token(_external_token(issuer, "other"))
    legacy = Verifier(public_keys=[issuer.key.public_key()], issuer=issuer.ISSUER)
    assert legacy.verify_token(issuer.token("rep1", "sales_rep")).username == "rep1"
    with pytest.raises(ValueError, match="required"):
        Verifier()


def test_the_verifier_pins_one_issuer(issuer: Any) -> None:
    """A token signed by a trusted key but naming another issuer (or none) is refused."""
    with pytest.raises(ValueError, match="issuer to pin is required"):
        Verifier(public_keys=[issuer.key.public_key()])
    verifier = Verifier(public_keys=[issuer.key.public_key()], issuer="https://sso.example/realms/crm")
    with pytest.raises(AuthError, match="issuer"):
        verifier.verify_token(issuer.token("rep1", "sales_rep"))  # iss "crm-test"
    with pytest.raises(AuthError, match="iss"):
        verifier.verify_token(issuer.token("rep1", "sales_rep", iss=None))
    ok = issuer.token("rep1", "sales_rep", iss="https://sso.example/realms/crm")
    assert verifier.verify_token(ok).username == "rep1"


def test_gateway_refuses_a_token_of_another_issuer(leads_config: GatewayConfig, issuer: Any,
                                                   external_jwks: str,
                                                   make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(leads_config, jwks_url=external_jwks)  # the key is trusted...
    other = _external_token(issuer, "kc-1", iss="https://evil.example")  # ...the issuer is not
    resp = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {other}"})
    assert resp.status_code == 401 and "issuer" in resp.get_json()["detail"].lower()
    assert client.get("/api/v1/leads", headers={
        "Authorization": f"Bearer {_external_token(issuer, 'kc-1')}"}).status_code == 200
