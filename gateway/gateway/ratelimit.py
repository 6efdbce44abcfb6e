"""In-memory token buckets, one per caller (principal, or client address before sign-in).

Per process: with several gunicorn workers each enforces its own share. That is enough to
stop a runaway client; a shared store would be the next step if limits had to be exact.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import RateLimit

MAX_BUCKETS = 50_000  # past this, full (idle) buckets are dropped: memory stays bounded


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket: 0.0 if allowed, else seconds until one is back."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.limit.burst, now)
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self.limit.burst, bucket.tokens + elapsed * self.limit.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.limit.rate

    def _prune(self, now: float) -> None:
        refill = self.limit.burst / self.limit.rate
        idle = [k for k, b in self._buckets.items() if now - b.updated >= refill]
        for key in idle:
            del self._buckets[key]

    @staticmethod
    def retry_after(wait: float) -> str:
        """Retry-After takes whole seconds; round up so an early retry is not refused again."""
        return str(max(1, math.ceil(wait)))
