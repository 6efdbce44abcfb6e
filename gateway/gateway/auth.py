"""Who may pass: every ``/api/v1/*`` request needs a bearer JWT or an API key (except getting a
token and the API document), and every caller spends from its rate-limit bucket.

The gateway only authenticates; the services verify the token again and decide what the
caller may do, so a request that bypasses the gateway gets no more than one through it.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

from authn import AuthError, AuthUnavailable, Principal, Verifier
from httpapi import problem_response

from .asyncapi import ASYNCAPI_PATH, SCHEMAS_PREFIX
from .config import ConfigError, GatewayConfig
from .issuer import JWKS_PATH, TOKEN_PATH, TokenIssuer
from .openapi import OPENAPI_PATH
from .proxy import API_PREFIX
from .ratelimit import PUBLIC, RateLimiter, route_class

PUBLIC_API = frozenset({("POST", TOKEN_PATH), ("GET", OPENAPI_PATH), ("HEAD", OPENAPI_PATH),
                        ("GET", ASYNCAPI_PATH), ("HEAD", ASYNCAPI_PATH)})
# Public by pattern: a web form posting a lead proves itself with the form's own X-Form-Key,
# which only the leads service can check. Only this method and exact shape; the client's IP
# rate limit still applies, and leads adds the per-form limit.
WEB_FORM_SUBMISSION = re.compile(r"^/api/v1/leads/web-forms/[^/]{1,36}/submissions$")
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})


def is_own_jwks_url(url: str) -> bool:
    """Whether ``url`` names this gateway's own JWKS, as the services are pointed at it in
    embedded, local and demo cluster setups (``http://127.0.0.1:8080/...``,
    ``http://gateway:8080/...``). Fetching it from inside a request would wait on ourselves —
    a deadlock with one sync worker — so such a URL is replaced by the key in memory.

    Recognised: our exact path on a loopback address, this machine's name, or a single-label
    (cluster-internal) host. External providers use a domain name or their own path."""
    parts = urlsplit(url)
    if parts.path.rstrip("/") != JWKS_PATH:
        return False
    host = (parts.hostname or "").lower()
    return (host in _LOOPBACK or host.startswith("127.") or host == socket.gethostname().lower()
            or (bool(host) and "." not in host and ":" not in host))


def build_verifier(config: GatewayConfig, issuer: TokenIssuer | None) -> Verifier:
    """Own tokens are checked with the issuer's key in memory (by ``kid``, never fetched);
    an external provider's JWKS URL, when configured, serves every other ``kid``."""
    external = config.jwks_url
    if external and issuer is not None and is_own_jwks_url(external):
        external = None
    if not external and issuer is None:
        raise ConfigError("no token key source: set AUTH_JWKS_URL (the OIDC provider's JWKS) "
                          "or AUTH_DEV_ISSUER=1 (built-in issuer)")
    return Verifier(
        jwks_url=external,
        signing_keys={issuer.kid: issuer.public_key} if issuer is not None else None,
        issuer=config.issuer,
        audience=config.audience,
        api_keys=list(config.api_keys),
    )


def is_public_api(method: str, path: str) -> bool:
    """API requests that need no bearer token or API key at the gateway."""
    return (method, path) in PUBLIC_API or (
        method == "POST" and WEB_FORM_SUBMISSION.match(path) is not None) or (
        method in {"GET", "HEAD"} and path.startswith(SCHEMAS_PREFIX))


def _challenge(bearer_sent: bool) -> str:
    return 'Bearer realm="crm", error="invalid_token"' if bearer_sent else 'Bearer realm="crm"'


def too_many(verdict_headers: dict[str, str], retry_after: int, detail: str) -> Response:
    return problem_response(429, "Too Many Requests", f"{detail}; retry in {retry_after} s",
                            headers=verdict_headers)


def install_guard(app: Flask, verifier: Verifier, limiter: RateLimiter) -> None:
    """Install after the request id, so every refusal carries it."""
    app.extensions["authn"] = verifier  # as authn.flask.install does: authn.flask.verifier() works

    def limit(route: str, key: str) -> Response | None:
        verdict = limiter.hit(route, key)
        if verdict is None:
            return None
        return too_many(verdict.headers, verdict.retry_after, f"rate limit of {route} requests exceeded")

    @app.before_request
    def _guard() -> Response | None:
        path = request.path
        if path in UNLIMITED_PATHS:
            return None
        client_key = f"ip:{request.remote_addr or 'unknown'}"
        if not path.startswith(API_PREFIX) or is_public_api(request.method, path):
            return limit(PUBLIC, client_key)
        try:
            principal: Principal = verifier.verify_headers(request.headers)
        except AuthUnavailable as exc:
            return problem_response(503, "Service Unavailable", str(exc), headers={"Retry-After": "5"})
        except AuthError as exc:
            # Failed attempts spend the client's bucket, so guessing keys is rate limited too.
            bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
            return limit(PUBLIC, client_key) or problem_response(
                401, "Unauthorized", str(exc), headers={"WWW-Authenticate": _challenge(bearer)})
        g.principal = principal
        return limit(route_class(request.method), f"{principal.kind}:{principal.sub}")
