"""Sign-in throttling at ``POST /api/v1/auth/token``: a temporary lockout that grows.

Failed attempts are counted per account (the username, known or not, so a lockout reveals
nothing) and per client address, in escalating moving windows — by default 5 a minute, 20 an
hour and 100 a day per account, 30 a minute and 300 an hour per address. When any window is
full the account (or address) is locked until its oldest failure leaves that window: every
attempt is answered 429 with ``Retry-After``, **the right password included**, and no password is
checked. A guesser therefore gets at most 5 tries a minute, 20 an hour and 100 a day on one
account, whatever it sends. A success clears the account's counters.

The counters are shared by every gateway process through the same store as the rate limits
(Redis in the distributed mode, memory in the embedded one) and fall back to per-process
counters while Redis is unreachable (see ``ratelimit``).

Locking an account can be abused to keep its owner out (a few wrong passwords a minute); the
lock is short at first and the owner is never locked out for longer than the attacker keeps
failing, which is the usual trade-off (OWASP ASVS 2.2.1).
"""

from __future__ import annotations

import math
import time
import unicodedata

from limits import RateLimitItem, parse_many
from limits.strategies import RateLimiter as Strategy

from .ratelimit import LimitStore

DEFAULT_ACCOUNT_LIMITS = "5/minute;20/hour;100/day"
DEFAULT_ADDRESS_LIMITS = "30/minute;300/hour"


def _account_key(username: str) -> str:
    """One counter per account however the name is typed (case, width, surrounding spaces)."""
    return unicodedata.normalize("NFKC", username).strip().casefold()[:200]


class LoginThrottle:
    def __init__(self, store: LimitStore, account_limits: str = DEFAULT_ACCOUNT_LIMITS,
                 address_limits: str = DEFAULT_ADDRESS_LIMITS) -> None:
        self.store = store
        self.account_limits: list[RateLimitItem] = parse_many(account_limits) if account_limits else []
        self.address_limits: list[RateLimitItem] = parse_many(address_limits) if address_limits else []

    def _keys(self, username: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        account = _account_key(username)
        return ([(item, "account", account) for item in self.account_limits]
                + [(item, "address", address) for item in self.address_limits])

    def locked_for(self, username: str, address: str) -> int:
        """Seconds until an attempt for ``username`` from ``address`` may be checked; 0 if now."""
        keys = self._keys(username, address)

        def wait(limiter: Strategy) -> int:
            longest = 0.0
            for item, kind, key in keys:
                if not limiter.test(item, "login", kind, key):
                    stats = limiter.get_window_stats(item, "login", kind, key)
                    longest = max(longest, stats.reset_time - time.time())
            return max(1, math.ceil(longest)) if longest > 0 else 0

        return self.store.call(wait)

    def failed(self, username: str, address: str) -> None:
        keys = self._keys(username, address)

        def record(limiter: Strategy) -> None:
            for item, kind, key in keys:
                limiter.hit(item, "login", kind, key)

        self.store.call(record)

    def succeeded(self, username: str) -> None:
        account = _account_key(username)

        def clear(limiter: Strategy) -> None:
            for item in self.account_limits:
                limiter.clear(item, "login", "account", account)

        self.store.call(clear)
