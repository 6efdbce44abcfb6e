"""Built-in RS256 token issuer (``AUTH_DEV_ISSUER=1``): lets the system run without an
identity provider. It publishes its public key as JWKS so the services verify its tokens
exactly as they would Keycloak's; the gateway itself checks them with the key in memory.

The private key comes from ``AUTH_ISSUER_PRIVATE_KEY`` or a key file that is created (mode
0600) on first start and reused afterwards, so a restart does not invalidate tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError, fields, validate

from httpapi import Problem, StrictSchema, problem_response

from .config import GatewayConfig
from .throttle import LoginThrottle
from .users import DEMO_USERS, User, authenticate

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = "/.well-known/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"


def _generate_key_file(path: Path) -> None:
    """Write a new key so that concurrent workers end up sharing one: the file appears
    complete (hard link of a finished temp file) or not at all, and never is replaced."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker won the race: use its key
    finally:
        tmp.unlink(missing_ok=True)


def load_private_key(config: GatewayConfig) -> rsa.RSAPrivateKey:
    if config.issuer_private_key:
        pem = config.issuer_private_key.encode("utf-8")
    else:
        if not config.issuer_key_file.exists():
            _generate_key_file(config.issuer_key_file)
        pem = config.issuer_key_file.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the issuer key must be an RSA private key")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Signs access tokens for known users and describes its public key."""

    def __init__(self, private_key: rsa.RSAPrivateKey, *, issuer: str, audience: str | None,
                 ttl: int = 3600, users: dict[str, User] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.users = users or {}
        self._clock = clock
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        # RFC 7638 thumbprint: the same key always gets the same kid, across restarts.
        canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
        self.kid = _b64(hashlib.sha256(canonical.encode("ascii")).digest())
        jwk.pop("key_ops", None)  # RFC 7517: not together with "use"
        self.jwk = {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    @classmethod
    def from_config(cls, config: GatewayConfig) -> TokenIssuer:
        return cls(load_private_key(config), issuer=config.issuer, audience=config.audience,
                   ttl=config.token_ttl, users=DEMO_USERS if config.demo_users else {})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def issue(self, user: User) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": user.username, "preferred_username": user.username,
            "name": user.name, "roles": list(user.roles), "iat": now, "exp": now + self.ttl,
        }
        if user.team:
            claims["team"] = user.team
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})

    def login(self, username: str, password: str) -> str | None:
        user = authenticate(self.users, username, password)
        return self.issue(user) if user is not None else None


class TokenRequestSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


def issuer_blueprint(issuer: TokenIssuer | None, throttle: LoginThrottle | None = None) -> Blueprint:
    """The token endpoint answers 404 when the issuer is off, so it never falls through to
    the proxy; the JWKS and discovery documents exist only when it is on. Sign-ins are
    throttled per account and per address (``throttle``)."""
    bp = Blueprint("issuer", __name__)

    @bp.post(TOKEN_PATH)
    def token() -> Response:
        if issuer is None:
            raise Problem(404, "Not Found", "the built-in token issuer is off (AUTH_DEV_ISSUER)")
        body = request.get_json()  # 415 for another content type, 400 for broken JSON
        if not isinstance(body, dict):
            raise Problem(422, "Unprocessable Content", "send a JSON object with username and password",
                          errors={"json": {"_schema": ["Invalid input type."]}})
        try:
            creds = TokenRequestSchema().load(body)
        except ValidationError as exc:
            raise Problem(422, "Unprocessable Content",
                          "The request did not validate; see errors for each field.",
                          errors={"json": exc.messages}) from exc
        address = request.remote_addr or "unknown"
        if throttle is not None:
            wait = throttle.locked_for(creds["username"], address)
            if wait:  # locked: no password is checked, the right one is refused too
                return problem_response(
                    429, "Too Many Requests",
                    f"too many failed sign-ins for this user or from this address; retry in {wait} s",
                    headers={"Retry-After": str(wait)})
        access_token = issuer.login(creds["username"], creds["password"])
        if access_token is None:
            if throttle is not None:
                throttle.failed(creds["username"], address)
            return problem_response(401, "Unauthorized", "unknown user or wrong password",
                                    headers={"WWW-Authenticate": 'Bearer realm="crm"'})
        if throttle is not None:
            throttle.succeeded(creds["username"])
        resp = jsonify(access_token=access_token, token_type="Bearer",  # noqa: S106
                       expires_in=issuer.ttl)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    if issuer is not None:
        @bp.get(JWKS_PATH)
        def jwks() -> Response:
            resp = jsonify(issuer.jwks())
            resp.headers["Cache-Control"] = "public, max-age=300"
            return resp

        @bp.get(DISCOVERY_PATH)
        def discovery() -> Response:
            root = request.url_root.rstrip("/")
            return jsonify(issuer=issuer.issuer, jwks_uri=root + JWKS_PATH,
                           token_endpoint=root + TOKEN_PATH,
                           id_token_signing_alg_values_supported=["RS256"])

    return bp
