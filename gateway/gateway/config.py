"""The gateway's settings, read from the environment in this one place (12-factor).

Everything else receives a ``GatewayConfig``, so tests build one directly instead of
patching the environment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from authn import DEFAULT_ISSUER, ApiKey, parse_api_keys

from .throttle import DEFAULT_ACCOUNT_LIMITS, DEFAULT_ADDRESS_LIMITS

DEFAULT_UPSTREAMS = (
    "leads=http://127.0.0.1:8081,accounts=http://127.0.0.1:8082,"
    "support=http://127.0.0.1:8083,notify=http://127.0.0.1:8084"
)
DEFAULT_RATE_LIMIT = "400 per 4 seconds"  # 100 a second on average, bursts of up to 400
ROUTE_CLASSES = ("read", "write", "public")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_RATE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*/\s*(?P<unit>s|sec|second|m|min|minute|h|hour)$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
                 "h": 3600, "hour": 3600}


class ConfigError(ValueError):
    """A setting cannot be understood: fail at start-up, naming the variable."""


def rate_limit_spec(name: str, spec: str) -> str:
    """A limit in the ``limits`` notation (``100/second;2000/minute``, ``400 per 4 seconds``), from
    that notation or the older ``100/s,burst=400`` (then: ``burst`` per ``burst/rate`` seconds).
    ``off`` (or ``none``, ``0``) gives the empty string: no limit."""
    from limits import parse_many

    spec = spec.strip()
    if spec.lower() in {"off", "none", "0", ""}:
        return ""
    try:
        parse_many(spec)
        return spec
    except ValueError:
        pass
    try:
        legacy = RateLimit.parse(spec)
    except ConfigError as exc:
        raise ConfigError(f"{name}: expected like '100/second;2000/minute', got {spec!r}") from exc
    if legacy is None:
        return ""
    window = max(1, math.ceil(legacy.burst / legacy.rate))
    return f"{math.ceil(legacy.burst)} per {window} seconds"


@dataclass(frozen=True)
class RateLimit:
    """The older notation's token bucket: ``rate`` per second, at most ``burst`` saved up."""

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
    # Per route class (read, write, public), ``limits`` notation; "" = no limit for that class.
    rate_limits: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(ROUTE_CLASSES, DEFAULT_RATE_LIMIT))
    # Where the counters of every gateway process live (rate limits and sign-in throttling);
    # None: in this process's memory (embedded mode, single process).
    redis_url: str | None = None
    redis_prefix: str = "crm-gateway"
    login_account_limits: str = DEFAULT_ACCOUNT_LIMITS
    login_address_limits: str = DEFAULT_ADDRESS_LIMITS
    # Trusted reverse proxies in front of the gateway (their X-Forwarded-* are believed).
    proxy_hops: int = 0
    # Verification of callers.
    jwks_url: str | None = None
    # The ``iss`` every token must carry (AUTH_ISSUER), and the one the built-in issuer writes.
    issuer: str = DEFAULT_ISSUER
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
    # What the AsyncAPI document tells subscribers: the broker's address and the exchange.
    asyncapi_broker: str = "127.0.0.1:5672"
    events_exchange: str = "crm.events"
    ready_timeout: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if environ is None else environ
        try:
            api_keys = parse_api_keys(env.get("AUTH_API_KEYS", ""))
        except ValueError as exc:
            raise ConfigError("AUTH_API_KEYS: expected 'name:role+role:sha256hex,...'") from exc
        default_limit = env.get("GATEWAY_RATE_LIMIT") or DEFAULT_RATE_LIMIT
        rate_limits = {}
        for route in ROUTE_CLASSES:
            name = f"GATEWAY_RATE_LIMIT_{route.upper()}"
            rate_limits[route] = rate_limit_spec(name if env.get(name) else "GATEWAY_RATE_LIMIT",
                                                 env.get(name) or default_limit)
        login = {}
        for name, default in (("GATEWAY_LOGIN_ACCOUNT_LIMITS", DEFAULT_ACCOUNT_LIMITS),
                              ("GATEWAY_LOGIN_ADDRESS_LIMITS", DEFAULT_ADDRESS_LIMITS)):
            login[name] = rate_limit_spec(name, env.get(name) or default)
        return cls(
            upstreams=parse_upstreams(env.get("GATEWAY_UPSTREAMS") or DEFAULT_UPSTREAMS),
            upstream_timeout=_float(env, "GATEWAY_UPSTREAM_TIMEOUT", 10.0),
            connect_timeout=_float(env, "GATEWAY_CONNECT_TIMEOUT", 2.0),
            rate_limits=rate_limits,
            redis_url=env.get("GATEWAY_REDIS_URL", "").strip() or None,
            asyncapi_broker=env.get("GATEWAY_ASYNCAPI_BROKER", "").strip() or "127.0.0.1:5672",
            events_exchange=env.get("EVENTS_EXCHANGE", "").strip() or "crm.events",
            redis_prefix=env.get("GATEWAY_REDIS_PREFIX", "").strip() or "crm-gateway",
            login_account_limits=login["GATEWAY_LOGIN_ACCOUNT_LIMITS"],
            login_address_limits=login["GATEWAY_LOGIN_ADDRESS_LIMITS"],
            proxy_hops=_int(env, "GATEWAY_PROXY_HOPS", 0),
            jwks_url=env.get("AUTH_JWKS_URL", "").strip() or None,
            issuer=env.get("AUTH_ISSUER", "").strip() or DEFAULT_ISSUER,
            audience=env.get("AUTH_AUDIENCE", "crm").strip() or None,
            api_keys=api_keys,
            dev_issuer=_flag(env, "AUTH_DEV_ISSUER"),
            issuer_private_key=env.get("AUTH_ISSUER_PRIVATE_KEY", "").strip() or None,
            issuer_key_file=Path(env.get("AUTH_ISSUER_KEY_FILE") or "var/issuer-key.pem"),
            token_ttl=_int(env, "AUTH_TOKEN_TTL", 3600),
            demo_users=_flag(env, "AUTH_DEMO_USERS"),
        )
