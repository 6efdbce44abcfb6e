"""Rate limits shared by every gateway process, through the ``limits`` library.

Counters live in Redis in the distributed mode (``GATEWAY_REDIS_URL``: every gateway process
spends from the same counters, so N processes allow the limit, not N times it) and in memory in
the embedded mode. Each caller has one budget per **route class**:

- ``read``: GET, HEAD, OPTIONS under ``/api/v1/``, per principal;
- ``write``: POST, PUT, PATCH, DELETE under ``/api/v1/``, per principal;
- ``public``: what needs no credentials (sign-in, the API documents, web-form submissions) and
  failed authentication, per client address.

A refusal is a 429 problem with ``Retry-After`` and the IETF draft headers ``RateLimit-Policy``
(every limit of the class: quota ``q`` per window ``w`` seconds) and ``RateLimit`` (the exhausted
one: ``r`` remaining, ``t`` seconds until it resets).

**Redis unavailable: fail open to per-process limits.** The gateway keeps answering; each
process falls back to its own in-memory counters (so limits still hold, per process) and tries
Redis again after ``RETRY_SECONDS``. Refusing every request because a counter store is down
would turn a cache outage into a full outage, and the services still authenticate and
authorize every call themselves.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.strategies import RateLimiter as Strategy

log = logging.getLogger("gateway.ratelimit")
T = TypeVar("T")
READ, WRITE, PUBLIC = "read", "write", "public"
ROUTE_CLASSES = (READ, WRITE, PUBLIC)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_SECONDS = 5.0  # after a Redis failure, local counters for this long before trying again


def route_class(method: str) -> str:
    return READ if method.upper() in READ_METHODS else WRITE


@dataclass(frozen=True)
class Verdict:
    """A refusal: how long to wait, and the RateLimit headers that say why."""

    retry_after: int
    headers: dict[str, str]


def policy_name(route: str, item: RateLimitItem) -> str:
    return f"{route}-{item.get_expiry()}s"


class LimitStore:
    """Limiters over the shared store (Redis) with a per-process fallback in memory."""

    def __init__(self, url: str | None, prefix: str = "crm-gateway", *, moving: bool = False,
                 timeout: float = 0.25, clock: Callable[[], float] = time.monotonic) -> None:
        strategy = MovingWindowRateLimiter if moving else SlidingWindowCounterRateLimiter
        self.url = url
        self.local: Strategy = strategy(MemoryStorage())
        self.shared: Strategy | None = None
        if url and not url.startswith("memory://"):
            storage = storage_from_string(
                url, key_prefix=prefix, wrap_exceptions=True, socket_timeout=timeout,
                socket_connect_timeout=timeout, health_check_interval=0)
            assert isinstance(storage, Storage)  # a synchronous store, as the URL scheme says
            self.shared = strategy(storage)
        self._clock = clock
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self.shared is not None and self._clock() < self._down_until

    def call(self, op: Callable[[Strategy], T]) -> T:
        """``op`` on the shared limiter, or on the local one while the shared store is down."""
        if self.shared is not None and not self.degraded:
            try:
                return op(self.shared)
            except Exception as exc:  # noqa: BLE001 - any store failure: fail open to local counters
                with self._lock:
                    if not self.degraded:
                        log.warning("rate-limit store %s unavailable (%s); per-process limits for %.0f s",
                                    self.url, type(exc).__name__, RETRY_SECONDS)
                    self._down_until = self._clock() + RETRY_SECONDS
        return op(self.local)


class RateLimiter:
    """Per caller and route class; ``hit`` spends one request and says whether it may pass."""

    def __init__(self, limits: Mapping[str, list[RateLimitItem]], store: LimitStore) -> None:
        self.limits = {route: list(items) for route, items in limits.items() if items}
        self.store = store

    @classmethod
    def from_specs(cls, specs: Mapping[str, str], redis_url: str | None = None,
                   prefix: str = "crm-gateway") -> RateLimiter:
        return cls({route: parse_many(spec) for route, spec in specs.items() if spec},
                   LimitStore(redis_url, prefix))

    def hit(self, route: str, key: str) -> Verdict | None:
        items = self.limits.get(route)
        if not items:
            return None

        def spend(limiter: Strategy) -> Verdict | None:
            for item in items:
                if not limiter.hit(item, route, key):
                    return self._verdict(limiter, route, key, item)
            return None

        return self.store.call(spend)

    def _verdict(self, limiter: Strategy, route: str, key: str, exhausted: RateLimitItem) -> Verdict:
        stats = limiter.get_window_stats(exhausted, route, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        policy = ", ".join(f'"{policy_name(route, i)}";q={i.amount};w={i.get_expiry()}'
                           for i in self.limits[route])
        return Verdict(wait, {
            "Retry-After": str(wait),
            "RateLimit-Policy": policy,
            "RateLimit": f'"{policy_name(route, exhausted)}";r={max(0, stats.remaining)};t={wait}',
        })

    def describe(self) -> dict[str, Any]:
        return {route: [str(i) for i in items] for route, items in self.limits.items()}
