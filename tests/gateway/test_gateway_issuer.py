"""The built-in issuer: tokens for the demo users, its JWKS, and its key kept across restarts."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from gateway.config import GatewayConfig
from gateway.users import DEMO_USERS

EXPECTED = {
    "admin": (["admin"], None),
    "manager": (["sales_manager"], "east"),
    "rep1": (["sales_rep"], "east"),
    "rep2": (["sales_rep"], "east"),
    "agent": (["support_agent"], "service"),
}


def _claims(client: FlaskClient, token: str) -> dict[str, Any]:
    jwks = client.get("/.well-known/jwks.json").get_json()
    (jwk,) = jwks["keys"]
    assert jwk["use"] == "sig" and jwk["alg"] == "RS256" and jwk["kid"]
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    key = jwt.PyJWK(jwk).key
    return jwt.decode(token, key, algorithms=["RS256"], audience="crm", issuer="crm-embedded")


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_demo_user_gets_a_token_with_its_roles_and_team(
        username: str, base_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config)
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": "crm-demo"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert resp.headers["Cache-Control"] == "no-store"
    claims = _claims(client, body["access_token"])
    roles, team = EXPECTED[username]
    assert claims["sub"] == username and claims["preferred_username"] == username
    assert claims["roles"] == roles and claims.get("team") == team
    assert claims["name"] == DEMO_USERS[username].name
    assert claims["aud"] == "crm" and claims["iss"] == "crm-embedded"
    assert claims["exp"] - claims["iat"] == 3600


def test_wrong_password_is_401_problem(base_config: GatewayConfig,
                                       make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config)
    for username in ("rep1", "nobody"):
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": "guess"})
        assert resp.status_code == 401
        assert resp.content_type == "application/problem+json"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert resp.get_json()["detail"] == "unknown user or wrong password"  # same for both


def test_unknown_or_missing_fields_are_422_problem(base_config: GatewayConfig,
                                                   make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config)
    resp = client.post("/api/v1/auth/token",
                       json={"username": "rep1", "password": "crm-demo", "scope": "admin"})
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    assert resp.get_json()["errors"] == {"json": {"scope": ["Unknown field."]}}
    missing = client.post("/api/v1/auth/token", json={"username": "rep1"})
    assert missing.status_code == 422
    assert "password" in missing.get_json()["errors"]["json"]
    not_json = client.post("/api/v1/auth/token", data="username=rep1", content_type="text/plain")
    assert not_json.status_code == 415 and not_json.content_type == "application/problem+json"
    no_body = client.post("/api/v1/auth/token")
    assert no_body.status_code == 422
    array = client.post("/api/v1/auth/token", json=["rep1", "crm-demo"])
    assert array.status_code == 422


def test_demo_users_off_means_nobody_can_sign_in(base_config: GatewayConfig,
                                                 make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config, demo_users=False)
    resp = client.post("/api/v1/auth/token", json={"username": "admin", "password": "crm-demo"})
    assert resp.status_code == 401


def test_issuer_off_answers_404_problem(base_config: GatewayConfig, closed_url: str,
                                        make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config, dev_issuer=False,
                          jwks_url=f"{closed_url}/realms/crm/protocol/openid-connect/certs")
    resp = client.post("/api/v1/auth/token", json={"username": "admin", "password": "crm-demo"})
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"
    assert client.get("/.well-known/jwks.json").status_code == 404


def test_discovery_document_names_issuer_and_jwks(base_config: GatewayConfig,
                                                  make_gateway: Callable[..., FlaskClient]) -> None:
    body = make_gateway(base_config).get("/.well-known/openid-configuration").get_json()
    assert body["issuer"] == "crm-embedded"
    assert body["jwks_uri"] == "http://localhost/.well-known/jwks.json"


def test_key_file_is_created_private_and_reused(base_config: GatewayConfig,
                                                make_gateway: Callable[..., FlaskClient],
                                                login: Callable[..., dict[str, str]],
                                                make_service: Callable[[str], Any]) -> None:
    leads = make_service("leads")
    config = replace(base_config, upstreams={"leads": leads.url})
    first = make_gateway(config)
    headers = login(first, "rep1")
    mode = stat.S_IMODE(config.issuer_key_file.stat().st_mode)
    assert mode == 0o600
    restarted = make_gateway(config)  # same key file: the old token is still good
    assert restarted.get("/api/v1/leads", headers=headers).status_code == 200


def test_private_key_from_environment_text(base_config: GatewayConfig,
                                           make_gateway: Callable[..., FlaskClient]) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    client = make_gateway(base_config, issuer_private_key=pem)
    token = client.post("/api/v1/auth/token",
                        json={"username": "admin", "password": "crm-demo"}).get_json()["access_token"]
    jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="crm")
    assert not base_config.issuer_key_file.exists()
