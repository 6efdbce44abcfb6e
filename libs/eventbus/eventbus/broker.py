"""The broker port: what the relay, the consumer and the operator tools need from a broker.

Two adapters implement it: ``AmqpBroker`` (RabbitMQ through kombu, publisher confirms, quorum
queues) and ``InMemoryBroker`` (one process, for the embedded mode and fast unit tests).
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .topology import ConsumerTopology

RETRY_HEADER = "x-retry-count"
PARK_REASON_HEADER = "x-parked-reason"
PARK_ERROR_HEADER = "x-parked-error"
PARKED_AT_HEADER = "x-parked-at"
ORIGINAL_KEY_HEADER = "x-original-routing-key"
DELIVERY_COUNT_HEADER = "x-delivery-count"  # set by RabbitMQ quorum queues on redelivery


class PublishError(RuntimeError):
    """The broker did not confirm every message of a batch; the caller must retry."""


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParkedMessage:
    """A parked message as operators see it."""

    message_id: str | None
    routing_key: str | None
    event_type: str | None
    reason: str | None
    error: str | None
    parked_at: str | None
    retries: int
    body: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "routing_key": self.routing_key,
            "event_type": self.event_type,
            "reason": self.reason,
            "error": self.error,
            "parked_at": self.parked_at,
            "retries": self.retries,
            "body": self.body,
        }


@dataclass(frozen=True)
class ParkedFilter:
    """Which parked messages an operator means: one by id, or all of a type and/or parked
    longer than ``older_than`` ago, or (all fields empty) every one."""

    message_id: str | None = None
    event_type: str | None = None
    older_than: timedelta | None = None

    def matches(self, parked: ParkedMessage, now: datetime | None = None) -> bool:
        if self.message_id is not None and parked.message_id != self.message_id:
            return False
        if self.event_type is not None and parked.event_type != self.event_type:
            return False
        if self.older_than is not None:
            when = _parse_time(parked.parked_at)
            if when is None or (now or datetime.now(UTC)) - when < self.older_than:
                return False  # an unknown age is never "old enough" to discard
        return True


def _parse_time(value: str | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def describe_parked(body: bytes, headers: dict[str, Any], message_id: str | None,
                    routing_key: str | None) -> ParkedMessage:
    """How an operator sees a parked message, whoever parked it.

    The consumer parks with ``x-parked-*`` headers. The broker (delivery limit) parks with
    only ``x-death``, where the original routing key and the time also live; without reading
    it, such messages showed the parking queue's name as routing key and no time.
    """
    event_type = None
    text = body.decode("utf-8", errors="replace")
    try:
        raw = json.loads(text)
        if isinstance(raw, dict):
            event_type = raw.get("type") if isinstance(raw.get("type"), str) else None
            message_id = message_id or (str(raw["id"]) if raw.get("id") is not None else None)
    except (ValueError, RecursionError):
        pass
    deaths = [d for d in headers.get("x-death") or () if isinstance(d, dict)]
    reason = headers.get(PARK_REASON_HEADER)
    error = headers.get(PARK_ERROR_HEADER)
    parked_at = headers.get(PARKED_AT_HEADER)
    original_key = headers.get(ORIGINAL_KEY_HEADER)
    if reason is None and deaths:
        # dead-lettered by the broker: a worker kept dying (or stalling) on it
        last = deaths[0]  # RabbitMQ keeps the most recent death first
        why = str(last.get("reason", ""))
        reason = "delivery-limit" if why in ("delivery_limit", "") else f"dead-lettered:{why}"
        error = error or (f"dead-lettered by the broker from {last.get('queue')} ({why or 'unknown'}) "
                          f"after {headers.get(DELIVERY_COUNT_HEADER, '?')} redeliveries")
        when = last.get("time")
        if parked_at is None and isinstance(when, datetime):
            parked_at = (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat().replace("+00:00", "Z")
        if original_key is None:
            keys = deaths[-1].get("routing-keys") or ()  # the first death saw the published key
            original_key = str(keys[0]) if keys else None
    return ParkedMessage(
        message_id=message_id or None,
        routing_key=original_key or routing_key,
        event_type=event_type,
        reason=reason,
        error=error,
        parked_at=parked_at,
        retries=int(headers.get(RETRY_HEADER, 0) or 0),
        body=text[:4000],
    )


_FAILURE_HEADERS = frozenset({
    RETRY_HEADER, PARK_REASON_HEADER, PARK_ERROR_HEADER, PARKED_AT_HEADER, DELIVERY_COUNT_HEADER,
    "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
})


def strip_failure_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """A replayed message starts its retry budget afresh."""
    return {k: v for k, v in headers.items() if k not in _FAILURE_HEADERS}


class Delivery(ABC):
    """One received message; exactly one of ack/retry/park settles it."""

    body: bytes
    routing_key: str
    headers: dict[str, Any]
    message_id: str | None

    @property
    def retries(self) -> int:
        return int(self.headers.get(RETRY_HEADER, 0) or 0)

    @abstractmethod
    def ack(self) -> None: ...

    @abstractmethod
    def retry(self, delay: float, error: str) -> None:
        """Deliver again to this consumer after ``delay`` seconds, counting the attempt."""

    @abstractmethod
    def park(self, reason: str, error: str) -> None:
        """Move to the parking queue for an operator; never delivered again by itself."""


class DependencyUnavailable(Exception):
    """Something every handler needs (the service's database) is down. ``pending`` are the
    deliveries of the batch left unsettled: the broker keeps them, keeps its connection alive,
    and offers them again once ``ready()`` says so. Work waits; it is neither retried nor parked."""

    def __init__(self, cause: BaseException, ready: Callable[[], bool],
                 pending: list[Delivery] | None = None) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.ready = ready
        self.pending: list[Delivery] = pending or []


Batch = Callable[[list[Delivery]], None]


def _confirmed() -> None:
    """The waiter of a publish that already returned confirmed."""


class Broker(ABC):
    @abstractmethod
    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish to the events exchange; returns only once the broker confirmed all."""

    def publish_nowait(self, messages: Sequence[OutgoingMessage]) -> Callable[[], None]:
        """Start publishing; the returned function returns once the broker confirmed all (or
        raises ``PublishError``). Lets a relay write the next batch while this one's confirms
        travel. Waiters are called in the order of the calls, from the publishing thread.
        By default it publishes at once (the waiter has nothing left to wait for)."""
        self.publish(messages)
        return _confirmed

    @abstractmethod
    def consume(self, topology: ConsumerTopology, on_delivery: Callable[[Delivery], None],
                stop: threading.Event) -> None:
        """Deliver messages to ``on_delivery`` until ``stop`` is set (blocking)."""

    def consume_batches(self, topology: ConsumerTopology, on_batch: Batch, stop: threading.Event,
                        max_batch: int = 50) -> None:
        """Like ``consume``, but hands over what has arrived (up to ``max_batch``) at once, so
        a consumer can commit many events in one transaction. ``on_batch`` may raise
        ``DependencyUnavailable``; adapters that batch wait and offer the batch again."""
        self.consume(topology, lambda d: on_batch([d]), stop)

    @abstractmethod
    def declare(self, topology: ConsumerTopology) -> None: ...

    @abstractmethod
    def list_parked(self, topology: ConsumerTopology, limit: int = 100) -> list[ParkedMessage]: ...

    @abstractmethod
    def replay_parked(self, topology: ConsumerTopology, message_id: str | None = None) -> int:
        """Send parked messages (one by id, or all) back to the consumer's queue."""

    @abstractmethod
    def discard_parked(self, topology: ConsumerTopology, chosen: ParkedFilter) -> int:
        """Remove the chosen parked messages for good; returns how many."""

    @abstractmethod
    def queue_depths(self, topology: ConsumerTopology) -> dict[str, int]: ...

    def idle(self) -> None:  # noqa: B027 - optional hook, a no-op for most brokers
        """Called while the relay waits (about once a second): keep connections alive."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op for most brokers
        """Release connections."""
