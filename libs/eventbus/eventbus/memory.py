"""In-process broker for the embedded mode: the same routing, retry and parking semantics as
the AMQP adapter, without a server. Messages live in memory, so what is in flight is lost
when the process stops; the outbox is not, because rows are marked sent only after
``publish`` returns and the embedded runner drains consumers before exiting.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .broker import (
    ORIGINAL_KEY_HEADER,
    PARK_ERROR_HEADER,
    PARK_REASON_HEADER,
    PARKED_AT_HEADER,
    RETRY_HEADER,
    Batch,
    Broker,
    Delivery,
    DependencyUnavailable,
    OutgoingMessage,
    ParkedFilter,
    ParkedMessage,
    describe_parked,
    strip_failure_headers,
)
from .envelope import utcnow_iso
from .topology import ConsumerTopology, topic_matches


@dataclass
class _Message:
    routing_key: str
    body: bytes
    message_id: str | None
    headers: dict[str, Any] = field(default_factory=dict)


class _Queue:
    def __init__(self) -> None:
        self.items: deque[_Message] = deque()
        self.cond = threading.Condition()

    def put(self, msg: _Message) -> None:
        with self.cond:
            self.items.append(msg)
            self.cond.notify()

    def get(self, timeout: float) -> _Message | None:
        with self.cond:
            if not self.items:
                self.cond.wait(timeout)
            return self.items.popleft() if self.items else None


class _MemoryDelivery(Delivery):
    def __init__(self, broker: InMemoryBroker, topology: ConsumerTopology, msg: _Message) -> None:
        self._broker = broker
        self._topology = topology
        self._msg = msg
        self.body = msg.body
        self.routing_key = msg.routing_key
        self.headers = dict(msg.headers)
        self.message_id = msg.message_id

    def ack(self) -> None:
        pass  # taken off the queue on delivery

    def retry(self, delay: float, error: str) -> None:
        again = replace(self._msg, headers={**self._msg.headers, RETRY_HEADER: self.retries + 1})
        timer = threading.Timer(delay, self._broker._queue(self._topology.queue).put, (again,))
        timer.daemon = True
        timer.start()

    def park(self, reason: str, error: str) -> None:
        headers = {
            **self._msg.headers,
            PARK_REASON_HEADER: reason,
            PARK_ERROR_HEADER: error[:2000],
            PARKED_AT_HEADER: utcnow_iso(),
            ORIGINAL_KEY_HEADER: self._msg.routing_key,
        }
        self._broker._queue(self._topology.parking_queue).put(replace(self._msg, headers=headers))


class InMemoryBroker(Broker):
    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}
        self._bindings: list[tuple[str, str]] = []  # (pattern, queue)
        self._lock = threading.Lock()

    def _queue(self, name: str) -> _Queue:
        with self._lock:
            return self._queues.setdefault(name, _Queue())

    def declare(self, topology: ConsumerTopology) -> None:
        self._queue(topology.queue)
        self._queue(topology.parking_queue)
        with self._lock:
            for pattern in topology.bindings:
                if (pattern, topology.queue) not in self._bindings:
                    self._bindings.append((pattern, topology.queue))

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        with self._lock:
            bindings = list(self._bindings)
        for m in messages:
            targets = {q for pattern, q in bindings if topic_matches(pattern, m.routing_key)}
            for q in targets:
                self._queue(q).put(_Message(m.routing_key, m.body, m.message_id, dict(m.headers)))

    def consume(self, topology: ConsumerTopology, on_delivery: Callable[[Delivery], None],
                stop: threading.Event) -> None:
        self.declare(topology)
        queue = self._queue(topology.queue)
        while not stop.is_set():
            msg = queue.get(timeout=0.2)
            if msg is not None:
                on_delivery(_MemoryDelivery(self, topology, msg))

    def consume_batches(self, topology: ConsumerTopology, on_batch: Batch, stop: threading.Event,
                        max_batch: int = 50) -> None:
        self.declare(topology)
        queue = self._queue(topology.queue)
        while not stop.is_set():
            first = queue.get(timeout=0.2)
            if first is None:
                continue
            batch = [first]
            while len(batch) < max_batch and (more := queue.get(timeout=0)) is not None:
                batch.append(more)
            deliveries: list[Delivery] = [_MemoryDelivery(self, topology, m) for m in batch]
            while deliveries and not stop.is_set():
                try:
                    on_batch(deliveries)
                    deliveries = []
                except DependencyUnavailable as exc:
                    deliveries = exc.pending
                    while not stop.is_set() and not exc.ready():
                        stop.wait(0.5)
            with queue.cond:  # stopping while holding some: back to the queue's head
                for d in reversed(deliveries):
                    queue.items.appendleft(d._msg)  # type: ignore[attr-defined]

    def list_parked(self, topology: ConsumerTopology, limit: int = 100) -> list[ParkedMessage]:
        q = self._queue(topology.parking_queue)
        with q.cond:
            items = list(q.items)[:limit]
        return [describe_parked(m.body, m.headers, m.message_id, m.routing_key) for m in items]

    def replay_parked(self, topology: ConsumerTopology, message_id: str | None = None) -> int:
        parked = self._queue(topology.parking_queue)
        with parked.cond:
            chosen = [m for m in parked.items
                      if message_id is None or _identity(m) == message_id]
            for m in chosen:
                parked.items.remove(m)
        target = self._queue(topology.queue)
        for m in chosen:
            target.put(replace(m, routing_key=m.headers.get(ORIGINAL_KEY_HEADER, m.routing_key),
                               headers=strip_failure_headers(m.headers)))
        return len(chosen)

    def discard_parked(self, topology: ConsumerTopology, chosen: ParkedFilter) -> int:
        parked = self._queue(topology.parking_queue)
        with parked.cond:
            doomed = [m for m in parked.items
                      if chosen.matches(describe_parked(m.body, m.headers, m.message_id, m.routing_key))]
            for m in doomed:
                parked.items.remove(m)
        return len(doomed)

    def queue_depths(self, topology: ConsumerTopology) -> dict[str, int]:
        return {name: len(self._queue(name).items)
                for name in (topology.queue, topology.parking_queue)}


def _identity(m: _Message) -> str | None:
    return describe_parked(m.body, m.headers, m.message_id, m.routing_key).message_id

