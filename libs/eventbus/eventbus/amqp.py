"""RabbitMQ adapter (kombu + py-amqp).

Publishing uses publisher confirms on a dedicated connection per thread: a batch is written
without waiting, then the confirms are drained together, so a batch of 100 costs one round
trip, not 100. A message counts as published only when the broker acked it; a nack, a timeout
or a dropped connection raises ``PublishError`` and the relay leaves the outbox rows unsent.

Consuming uses manual acks, a bounded prefetch, heartbeats, and reconnects with capped
exponential backoff; after ``max_reconnects`` consecutive failures it gives up with
``BrokerUnavailable`` so a supervisor restarts the process instead of it hanging forever.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import amqp
import kombu
from kombu import Exchange, Queue, binding

from .broker import (
    ORIGINAL_KEY_HEADER,
    PARK_ERROR_HEADER,
    PARK_REASON_HEADER,
    PARKED_AT_HEADER,
    RETRY_HEADER,
    Broker,
    Delivery,
    OutgoingMessage,
    ParkedMessage,
    PublishError,
    describe_parked,
    strip_failure_headers,
)
from .envelope import utcnow_iso
from .topology import ConsumerTopology, exchange_name

log = logging.getLogger("eventbus.amqp")
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached within the reconnect budget."""


def _connection_errors() -> tuple[type[BaseException], ...]:
    return (OSError, amqp.exceptions.AMQPError, kombu.exceptions.KombuError, EOFError)


class _ConfirmingPublisher:
    """One connection + confirm-mode channel, used by one thread."""

    def __init__(self, url: str, heartbeat: int, confirm_timeout: float) -> None:
        self.url = url
        self.heartbeat = heartbeat
        self.confirm_timeout = confirm_timeout
        self._conn: kombu.Connection | None = None
        self._ch: Any = None
        self._tag = 0
        self._pending: set[int] = set()
        self._nacked: set[int] = set()

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        settled = self._settle(tag, multiple)
        self._nacked |= settled

    def _settle(self, tag: int, multiple: bool) -> set[int]:
        done = {t for t in self._pending if t <= tag} if multiple else ({tag} & self._pending)
        self._pending -= done
        return done

    def _ensure(self) -> None:
        if self._conn is not None and self._conn.connected:
            return
        self.reset()
        conn = kombu.Connection(self.url, heartbeat=self.heartbeat, connect_timeout=5)
        conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
        ch = conn.channel()
        ch.confirm_select()
        ch.events["basic_ack"].add(self._on_ack)
        ch.events["basic_nack"].add(self._on_nack)
        self._conn, self._ch, self._tag = conn, ch, 0

    def reset(self) -> None:
        conn, self._conn, self._ch = self._conn, None, None
        self._pending.clear()
        self._nacked.clear()
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                pass

    def publish(self, items: Sequence[tuple[str, str, OutgoingMessage]]) -> None:
        last_exc: BaseException | None = None
        for _ in range(2):
            try:
                self._ensure()
                self._publish_once(items)
                return
            except PublishError:
                self.reset()
                raise
            except _connection_errors() as exc:
                last_exc = exc
                self.reset()
        raise PublishError(f"broker unreachable: {last_exc!r}") from last_exc

    def _publish_once(self, items: Sequence[tuple[str, str, OutgoingMessage]]) -> None:
        assert self._conn is not None and self._ch is not None
        for exchange, routing_key, m in items:
            msg = amqp.Message(
                m.body,
                content_type=CONTENT_TYPE,
                message_id=m.message_id,
                delivery_mode=2,
                application_headers=dict(m.headers),
            )
            self._ch.basic_publish(msg, exchange=exchange, routing_key=routing_key)
            self._tag += 1
            self._pending.add(self._tag)
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(self._pending)} message(s) not confirmed in time")
            try:
                self._conn.drain_events(timeout=remaining)
            except socket.timeout:
                continue
        if self._nacked:
            count = len(self._nacked)
            self._nacked.clear()
            raise PublishError(f"broker refused {count} message(s)")

    def heartbeat_check(self) -> None:
        if self._conn is not None and self._conn.connected:
            try:
                self._conn.heartbeat_check()
            except _connection_errors():
                self.reset()


class _AmqpDelivery(Delivery):
    def __init__(self, broker: AmqpBroker, topology: ConsumerTopology, message: Any) -> None:
        self._broker = broker
        self._topology = topology
        self._message = message
        self.body = message.body if isinstance(message.body, bytes) else message.body.encode()
        self.routing_key = message.delivery_info.get("routing_key", "")
        self.headers = dict(message.headers or {})
        self.message_id = message.properties.get("message_id")

    def ack(self) -> None:
        self._message.ack()

    def _forward(self, queue: str, headers: dict[str, Any]) -> None:
        # Confirmed copy first, then ack: a crash between the two duplicates, never loses.
        out = OutgoingMessage(self.routing_key, self.body, self.message_id or "", headers)
        self._broker._publisher().publish([("", queue, out)])
        self._message.ack()

    def retry(self, delay: float, error: str) -> None:
        headers = {**self.headers, RETRY_HEADER: self.retries + 1}
        headers.setdefault(ORIGINAL_KEY_HEADER, self.routing_key)
        self._forward(self._topology.retry_queue(delay), headers)

    def park(self, reason: str, error: str) -> None:
        headers = {
            **self.headers,
            PARK_REASON_HEADER: reason,
            PARK_ERROR_HEADER: error[:2000],
            PARKED_AT_HEADER: utcnow_iso(),
            ORIGINAL_KEY_HEADER: self.headers.get(ORIGINAL_KEY_HEADER, self.routing_key),
        }
        self._forward(self._topology.parking_queue, headers)


class AmqpBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        heartbeat: int = 20,
        confirm_timeout: float = 15.0,
        max_reconnects: int | None = 30,
    ) -> None:
        self.url = url
        self.heartbeat = heartbeat
        self.confirm_timeout = confirm_timeout
        self.max_reconnects = max_reconnects
        self._local = threading.local()
        self._all_publishers: list[_ConfirmingPublisher] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()

    # --- publishing ---------------------------------------------------------------------
    def _publisher(self) -> _ConfirmingPublisher:
        pub = getattr(self._local, "publisher", None)
        if pub is None:
            pub = _ConfirmingPublisher(self.url, self.heartbeat, self.confirm_timeout)
            self._local.publisher = pub
            with self._lock:
                self._all_publishers.append(pub)
        return pub

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        exchange = exchange_name()
        pub = self._publisher()
        if not getattr(self._local, "exchange_declared", False):
            self._declare_exchanges(exchange)
            self._local.exchange_declared = True
        pub.publish([(exchange, m.routing_key, m) for m in messages])

    def idle(self) -> None:
        self._publisher().heartbeat_check()

    def _declare_exchanges(self, exchange: str) -> None:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            ch = conn.channel()
            Exchange(exchange, type="topic", durable=True)(ch).declare()

    # --- topology -----------------------------------------------------------------------
    @staticmethod
    def _queues(topology: ConsumerTopology) -> tuple[Queue, Queue, list[Queue]]:
        events = Exchange(topology.exchange, type="topic", durable=True)
        dlx = Exchange(topology.dlx, type="direct", durable=True)
        reliable = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        main = Queue(
            topology.queue,
            bindings=[binding(events, routing_key=key) for key in topology.bindings],
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": topology.delivery_limit,
                "x-dead-letter-exchange": topology.dlx,
                "x-dead-letter-routing-key": topology.parking_queue,
                **reliable,
            },
        )
        parking = Queue(
            topology.parking_queue, exchange=dlx, routing_key=topology.parking_queue,
            durable=True, queue_arguments={"x-queue-type": "quorum"},
        )
        retries = [
            Queue(
                topology.retry_queue(delay),
                durable=True,
                queue_arguments={
                    "x-queue-type": "quorum",
                    "x-message-ttl": int(round(delay * 1000)),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": topology.queue,
                    **reliable,
                },
            )
            for delay in sorted(set(topology.retry_delays))
        ]
        return main, parking, retries

    def _declare_on(self, channel: Any, topology: ConsumerTopology) -> Queue:
        main, parking, retries = self._queues(topology)
        Exchange(topology.exchange, type="topic", durable=True)(channel).declare()
        Exchange(topology.dlx, type="direct", durable=True)(channel).declare()
        for q in (parking, *retries, main):
            q(channel).declare()
        return main

    def declare(self, topology: ConsumerTopology) -> None:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            self._declare_on(conn.channel(), topology)

    # --- consuming ----------------------------------------------------------------------
    def consume(self, topology: ConsumerTopology, on_delivery: Callable[[Delivery], None],
                stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                with kombu.Connection(self.url, heartbeat=self.heartbeat, connect_timeout=5) as conn:
                    conn.ensure_connection(max_retries=1)
                    channel = conn.channel()
                    main = self._declare_on(channel, topology)
                    consumer = kombu.Consumer(
                        channel,
                        queues=[main],
                        on_message=lambda m: on_delivery(_AmqpDelivery(self, topology, m)),
                        no_ack=False,
                        prefetch_count=topology.prefetch,
                    )
                    consumer.consume()
                    failures = 0
                    self.connected.set()
                    log.info("consuming %s", topology.queue)
                    while not stop.is_set():
                        try:
                            conn.drain_events(timeout=0.5)
                        except socket.timeout:
                            pass
                        conn.heartbeat_check()
                    try:
                        consumer.cancel()
                    except _connection_errors():
                        pass
            except _connection_errors() as exc:
                self.connected.clear()
                failures += 1
                if self.max_reconnects is not None and failures > self.max_reconnects:
                    raise BrokerUnavailable(f"gave up after {failures - 1} reconnects: {exc!r}") from exc
                delay = min(15.0, 0.25 * 2 ** min(failures, 6))
                log.warning("broker connection lost (%r); reconnect %d in %.1fs", exc, failures, delay)
                stop.wait(delay)
        self.connected.clear()

    # --- operator tools -----------------------------------------------------------------
    def _get_all(self, channel: Any, queue: str, limit: int) -> list[Any]:
        _, count, _ = channel.queue_declare(queue=queue, passive=True)
        out = []
        for _ in range(min(count, limit)):
            m = channel.basic_get(queue=queue, no_ack=False)
            if m is None:
                break
            out.append(m)
        return out

    def list_parked(self, topology: ConsumerTopology, limit: int = 100) -> list[ParkedMessage]:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            self._declare_on(conn.channel(), topology)
            channel = conn.channel()
            msgs = self._get_all(channel, topology.parking_queue, limit)
            parked = [
                describe_parked(
                    m.body if isinstance(m.body, bytes) else m.body.encode(),
                    dict(m.headers or {}), m.properties.get("message_id"),
                    m.delivery_info.get("routing_key"),
                )
                for m in msgs
            ]
            channel.close()  # unacked messages go back to the parking queue
            return parked

    def replay_parked(self, topology: ConsumerTopology, message_id: str | None = None) -> int:
        replayed = 0
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            self._declare_on(conn.channel(), topology)
            channel = conn.channel()
            for m in self._get_all(channel, topology.parking_queue, 1_000_000):
                body = m.body if isinstance(m.body, bytes) else m.body.encode()
                headers = dict(m.headers or {})
                info = describe_parked(body, headers, m.properties.get("message_id"),
                                       m.delivery_info.get("routing_key"))
                if message_id is not None and info.message_id != message_id:
                    continue
                out = OutgoingMessage(info.routing_key or "", body, info.message_id or "",
                                      strip_failure_headers(headers))
                self._publisher().publish([("", topology.queue, out)])
                channel.basic_ack(m.delivery_tag)
                replayed += 1
            channel.close()
        return replayed

    def queue_depths(self, topology: ConsumerTopology) -> dict[str, int]:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            channel = conn.channel()
            self._declare_on(channel, topology)
            depths = {}
            for name in (topology.queue, topology.parking_queue):
                _, count, _ = channel.queue_declare(queue=name, passive=True)
                depths[name] = count
            return depths

    def close(self) -> None:
        with self._lock:
            pubs, self._all_publishers = self._all_publishers, []
        for pub in pubs:
            pub.reset()
