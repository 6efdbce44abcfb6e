"""Names and shapes of the broker objects, shared by the AMQP and in-process brokers.

One durable topic exchange carries every event (routing key = event type). Each consuming
service owns one quorum queue bound with the event types it handles, a delivery limit that
dead-letters to its parking queue (the safety net for a worker that dies on a message), retry
queues that hold a failed message for a fixed delay and then dead-letter it back, and the
parking queue an operator lists and replays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .settings import DEFAULT_EXCHANGE, BusSettings


def dead_letter_exchange(exchange: str) -> str:
    return f"{exchange}.dlx"


@dataclass(frozen=True)
class ConsumerTopology:
    """Everything the broker needs to know to deliver to one consuming service."""

    queue: str
    bindings: tuple[str, ...]
    exchange: str = DEFAULT_EXCHANGE
    # Delays in seconds between attempts; len(retry_delays) retries, then parking.
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0)
    delivery_limit: int = 10
    prefetch: int = 100

    @property
    def parking_queue(self) -> str:
        return f"{self.queue}.parked"

    @property
    def dlx(self) -> str:
        return dead_letter_exchange(self.exchange)

    @property
    def forward_exchange(self) -> str:
        """The service's own direct exchange for copies it sends to its own queues (retry,
        park, replay). Its queues are bound to it by name, so a service never needs to publish
        to the default exchange, through which it could reach any queue on the broker."""
        return f"{self.queue}.forward"

    def retry_queue(self, delay: float) -> str:
        """Holds a failed message for ``delay``, then dead-letters it back through the forward
        exchange. (Named ``.delay.``: the older ``.retry.<ms>ms`` queues dead-lettered through the
        default exchange, which a per-service broker user may not write to; once empty they can
        be deleted.)"""
        return f"{self.queue}.delay.{round(delay * 1000)}ms"

    @property
    def max_retries(self) -> int:
        return len(self.retry_delays)

    def delay_for(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        return self.retry_delays[min(attempt, len(self.retry_delays)) - 1]


def consumer_topology(queue: str, bindings: tuple[str, ...], settings: BusSettings) -> ConsumerTopology:
    """Retry policy is an operator setting: EVENTS_RETRY_DELAYS="1,5,30", EVENTS_DELIVERY_LIMIT."""
    return ConsumerTopology(queue=queue, bindings=bindings, exchange=settings.exchange,
                            retry_delays=settings.retry_delays, delivery_limit=settings.delivery_limit,
                            prefetch=settings.prefetch)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic semantics: ``*`` is exactly one word, ``#`` is zero or more words."""
    regex = _PATTERN_CACHE.get(pattern)
    if regex is None:
        parts = []
        for word in pattern.split("."):
            if word == "#":
                parts.append(r"(?:[^.]+(?:\.[^.]+)*)?")
            elif word == "*":
                parts.append(r"[^.]+")
            else:
                parts.append(re.escape(word))
        body = r"\.".join(parts)
        # "a.#" must match "a" too: let a "#" swallow its preceding dot.
        body = body.replace(r"\.(?:[^.]+(?:\.[^.]+)*)?", r"(?:\.[^.]+)*")
        body = body.replace(r"(?:[^.]+(?:\.[^.]+)*)?\.", r"(?:[^.]+\.)*")
        regex = re.compile(f"^{body}$")
        _PATTERN_CACHE[pattern] = regex
    return bool(regex.match(routing_key))


_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}
