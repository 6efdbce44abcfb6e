"""The gateway's settings, read from the environment in this one place (12-factor).

Everything else receives a ``GatewayConfig``, so tests build one directly instead of
patching the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from authn import ApiKey, parse_api_keys

DEFAULT_UPSTREAMS = (
    "leads=http://127.0.0.1:8081,accounts=http://127.0.0.1:8082,"
    "support=http://127.0.0.1:8083,notify=http://127.0.0.1:8084"
)
DEFAULT_RATE_LIMIT = "100/s,burst=400"
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_RATE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*/\s*(?P<unit>s|sec|second|m|min|minute|h|hour)$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
                 "h": 3600, "hour": 3600}


class ConfigError(ValueError):
    """A setting cannot be understood: fail at start-up, naming the variable."""


@dataclass(frozen=True)
class RateLimit:
    """Token bucket: ``rate`` tokens per second refill, at most ``burst`` saved up."""

    rate: float
    burst: float

    @classmethod
    def parse(cls, spec: str) -> RateLimit | None:
        """``50/s,burst=200`` (also ``/m``, ``/h``); ``off`` disables limiting."""
        spec = spec.strip().lower()
        if spec in {"off", "none", "0"}:
            return None
        head, _, tail = spec.partition(",")
        match = _RATE.match(head.strip())
        if not match:
            raise ConfigError(f"GATEWAY_RATE_LIMIT: expected like '50/s,burst=200', got {spec!r}")
        rate = float(match["n"]) / _UNIT_SECONDS[match["unit"]]
        burst = float(match["n"])
        if tail:
            key, _, value = tail.partition("=")
            if key.strip() != "burst":
                raise ConfigError(f"GATEWAY_RATE_LIMIT: unknown option {key.strip()!r}")
            try:
                burst = float(value)
            except ValueError as exc:
                raise ConfigError(f"GATEWAY_RATE_LIMIT: burst must be a number, got {value!r}") from exc
        if rate <= 0 or burst < 1:
            raise ConfigError("GATEWAY_RATE_LIMIT: rate must be > 0 and burst >= 1")
        return cls(rate=rate, burst=burst)


def parse_upstreams(spec: str) -> dict[str, str]:
    """``name=http://host:port`` entries separated by commas."""
    upstreams: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, sep, url = entry.partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not sep or not _SERVICE_NAME.match(name) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"GATEWAY_UPSTREAMS: expected 'name=http://host:port', got {entry!r}")
        if name == "ops":
            raise ConfigError("GATEWAY_UPSTREAMS: 'ops' is reserved for /api/v1/ops/<service>/...")
        upstreams[name] = url
    return upstreams


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: expected a number of seconds, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name}: must be positive")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name}: expected an integer, got {raw!r}") from exc


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class GatewayConfig:
    upstreams: dict[str, str] = field(default_factory=lambda: parse_upstreams(DEFAULT_UPSTREAMS))
    upstream_timeout: float = 10.0
    connect_timeout: float = 2.0
    rate_limit: RateLimit | None = field(default_factory=lambda: RateLimit.parse(DEFAULT_RATE_LIMIT))
    # Trusted reverse proxies in front of the gateway (their X-Forwarded-* are believed).
    proxy_hops: int = 0
    # Verification of callers.
    jwks_url: str | None = None
    issuer: str = "crm-embedded"  # the ``iss`` the built-in issuer writes
    # The ``iss`` every token must carry: pinned only when AUTH_ISSUER is set, as the services
    # do, so an external provider's tokens pass with the defaults.
    required_issuer: str | None = None
    audience: str | None = "crm"
    api_keys: list[ApiKey] = field(default_factory=list)
    # Built-in token issuer (development and embedded mode).
    dev_issuer: bool = False
    issuer_private_key: str | None = None
    issuer_key_file: Path = Path("var/issuer-key.pem")
    token_ttl: int = 3600
    demo_users: bool = False
    # Aggregation of the upstreams' documents and readiness.
    openapi_timeout: float = 2.0
    openapi_cache_seconds: float = 30.0
    ready_timeout: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if environ is None else environ
        try:
            api_keys = parse_api_keys(env.get("AUTH_API_KEYS", ""))
        except ValueError as exc:
            raise ConfigError("AUTH_API_KEYS: expected 'name:role+role:sha256hex,...'") from exc
        pinned_issuer = env.get("AUTH_ISSUER", "").strip() or None
        return cls(
            upstreams=parse_upstreams(env.get("GATEWAY_UPSTREAMS") or DEFAULT_UPSTREAMS),
            upstream_timeout=_float(env, "GATEWAY_UPSTREAM_TIMEOUT", 10.0),
            connect_timeout=_float(env, "GATEWAY_CONNECT_TIMEOUT", 2.0),
            rate_limit=RateLimit.parse(env.get("GATEWAY_RATE_LIMIT") or DEFAULT_RATE_LIMIT),
            proxy_hops=_int(env, "GATEWAY_PROXY_HOPS", 0),
            jwks_url=env.get("AUTH_JWKS_URL", "").strip() or None,
            issuer=pinned_issuer or "crm-embedded",
            audience=env.get("AUTH_AUDIENCE", "crm").strip() or None,
            api_keys=api_keys,
            dev_issuer=_flag(env, "AUTH_DEV_ISSUER"),
            issuer_private_key=env.get("AUTH_ISSUER_PRIVATE_KEY", "").strip() or None,
            issuer_key_file=Path(env.get("AUTH_ISSUER_KEY_FILE") or "var/issuer-key.pem"),
            token_ttl=_int(env, "AUTH_TOKEN_TTL", 3600),
            demo_users=_flag(env, "AUTH_DEMO_USERS"),
            required_issuer=pinned_issuer,
        )
