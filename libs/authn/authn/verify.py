"""Verify a request's credentials into a ``Principal``.

Bearer tokens are RS256 JWTs checked against keys from a JWKS URL (an OIDC provider such as
Keycloak, or the gateway's built-in issuer in embedded mode), against public keys known
locally by ``kid`` (the gateway's own issuer, which must never fetch its own JWKS over HTTP),
or both: a token naming a local ``kid`` never causes a fetch. Roles come from a ``roles``
claim or Keycloak's ``realm_access.roles``. API keys are compared by SHA-256 digest, so the
configuration never holds a usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .principal import Principal

ALGORITHMS = ["RS256"]
# The built-in issuer's name (embedded mode, `make up`, compose and the demo cluster). Tokens are
# always checked for one exact ``iss``: this one unless AUTH_ISSUER names another (an OIDC
# provider's issuer URL). A verifier never accepts "any issuer".
DEFAULT_ISSUER = "crm-embedded"


class AuthError(Exception):
    """Credentials missing or invalid: 401."""


class AuthUnavailable(Exception):
    """The key source cannot be reached, so no token can be checked: 503."""


@dataclass(frozen=True)
class AuthSettings:
    """``AUTH_JWKS_URL``, ``AUTH_ISSUER``, ``AUTH_AUDIENCE``, ``AUTH_API_KEYS``, parsed once."""

    jwks_url: str = "http://127.0.0.1:8080/.well-known/jwks.json"
    issuer: str = DEFAULT_ISSUER
    audience: str | None = "crm"
    api_keys: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if environ is None else environ
        return cls(
            jwks_url=env.get("AUTH_JWKS_URL") or cls.jwks_url,
            issuer=(env.get("AUTH_ISSUER") or "").strip() or DEFAULT_ISSUER,
            audience=env.get("AUTH_AUDIENCE", "crm") or None,
            api_keys=env.get("AUTH_API_KEYS", ""),
        )


@dataclass(frozen=True)
class ApiKey:
    name: str
    digest: str
    roles: frozenset[str]


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_api_keys(spec: str) -> list[ApiKey]:
    """``name:role+role:sha256hex`` entries separated by commas."""
    keys = []
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, roles, digest = entry.split(":", 2)
        keys.append(ApiKey(name, digest.lower(), frozenset(filter(None, roles.split("+")))))
    return keys


class Verifier:
    def __init__(
        self,
        *,
        jwks_url: str | None = None,
        public_keys: list[Any] | None = None,
        issuer: str | None = None,
        audience: str | None = "crm",
        api_keys: list[ApiKey] | None = None,
        leeway: int = 30,
        signing_keys: Mapping[str, Any] | None = None,
    ) -> None:
        """``signing_keys`` maps ``kid`` to a public key checked locally before the JWKS URL;
        ``public_keys[0]`` is used for any token when there is no JWKS URL (kid ignored).
        ``issuer`` is required: every token must carry exactly that ``iss``."""
        if not jwks_url and not public_keys and not signing_keys:
            raise ValueError("a JWKS URL or a public key is required")
        if not issuer:
            raise ValueError("the issuer to pin is required (AUTH_ISSUER); tokens of any issuer "
                             "are never accepted")
        self.jwks_url = jwks_url
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5) if jwks_url else None
        self._public_keys = public_keys or []
        self._signing_keys = dict(signing_keys or {})
        self.issuer = issuer
        self.audience = audience
        self.api_keys = api_keys or []
        self.leeway = leeway
        self._verified = _VerifiedTokens()

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Verifier:
        return cls(jwks_url=settings.jwks_url, issuer=settings.issuer, audience=settings.audience,
                   api_keys=parse_api_keys(settings.api_keys))

    @classmethod
    def from_env(cls) -> Verifier:
        return cls.from_settings(AuthSettings.from_env())

    def verify_headers(self, headers: Any) -> Principal:
        auth = headers.get("Authorization", "")
        api_key = headers.get("X-API-Key")
        if auth.lower().startswith("bearer "):
            return self.verify_token(auth[7:].strip())
        if api_key:
            return self.verify_api_key(api_key)
        raise AuthError("missing credentials: send 'Authorization: Bearer <token>' or 'X-API-Key'")

    def _key_for(self, token: str) -> Any:
        if self._signing_keys:
            kid = jwt.get_unverified_header(token).get("kid")
            if isinstance(kid, str) and kid in self._signing_keys:
                return self._signing_keys[kid]
        if self._jwks is None:
            if not self._public_keys:
                raise AuthError("unknown signing key")
            return self._public_keys[0]
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthUnavailable("token keys cannot be fetched") from exc
        except jwt.PyJWKClientError as exc:
            raise AuthError(f"unknown signing key: {exc}") from exc

    def verify_token(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        principal, expires = self._verify_token(token)
        self._verified.put(token, principal, expires)
        return principal

    def _verify_token(self, token: str) -> tuple[Principal, float]:
        try:
            key = self._key_for(token)
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, issuer=self.issuer, audience=self.audience,
                leeway=self.leeway, options={"require": ["exp", "sub", "iss"],
                                             "verify_aud": self.audience is not None},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        roles = claims.get("roles")
        if roles is None:
            roles = (claims.get("realm_access") or {}).get("roles", [])
        return Principal(
            sub=str(claims["sub"]),
            username=str(claims.get("preferred_username") or claims["sub"]),
            roles=frozenset(str(r) for r in roles),
            team=claims.get("team"),
            name=claims.get("name"),
        ), float(claims["exp"])

    def verify_api_key(self, key: str) -> Principal:
        digest = hash_api_key(key)
        for candidate in self.api_keys:
            if hmac.compare_digest(candidate.digest, digest):
                return Principal(sub=f"apikey:{candidate.name}", username=candidate.name,
                                 roles=candidate.roles, kind="apikey")
        raise AuthError("unknown API key")


class _VerifiedTokens:
    """Tokens already verified, until they expire (at most ``TTL`` seconds, so a key removed
    from the JWKS stops being honoured soon). An RS256 check costs far more than a request's
    routing, and clients send the same token many times."""

    TTL = 60.0
    SIZE = 10_000

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        with self._lock:
            item = self._items.get(token)
            if item is None:
                return None
            if item[1] <= time.time():
                del self._items[token]
                return None
            self._items.move_to_end(token)
            return item[0]

    def put(self, token: str, principal: Principal, expires: float) -> None:
        with self._lock:
            self._items[token] = (principal, min(expires, time.time() + self.TTL))
            self._items.move_to_end(token)
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)
