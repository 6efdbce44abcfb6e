"""RabbitMQ adapter (kombu + py-amqp).

Publishing uses publisher confirms on a dedicated connection per thread: a batch is written
without waiting, then the confirms are drained together, so a batch of 100 costs one round
trip, not 100. A message counts as published only when the broker acked it; a nack, a timeout
or a dropped connection raises ``PublishError`` and the relay leaves the outbox rows unsent.

Consuming uses manual acks, a bounded prefetch (1 until the first message of a connection
is settled, see ``_consume_on``), heartbeats on every connection (publishers included), and
reconnects with capped exponential backoff; after ``max_reconnects`` consecutive failures it
gives up with ``BrokerUnavailable`` so a supervisor restarts the process instead of it
hanging forever.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import amqp
import amqp.transport
import kombu
import kombu.transport.pyamqp
from kombu import Exchange, Queue, binding

from telemetry import outage

from .broker import (
    DELIVERY_COUNT_HEADER,
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
    PublishError,
    describe_parked,
    strip_failure_headers,
)
from .envelope import utcnow_iso
from .settings import DEFAULT_EXCHANGE
from .topology import ConsumerTopology

log = logging.getLogger("eventbus.amqp")
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached within the reconnect budget."""


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError, amqp.exceptions.AMQPError, kombu.exceptions.KombuError, EOFError)
_DISCARD_ERRORS: tuple[type[BaseException], ...] = (*_CONNECTION_ERRORS, AttributeError)
_DECLARE_ERRORS: tuple[type[BaseException], ...] = (*_CONNECTION_ERRORS, RuntimeError)
_CONSUME_ERRORS: tuple[type[BaseException], ...] = (*_CONNECTION_ERRORS, PublishError)


def _connection_errors() -> tuple[type[BaseException], ...]:
    return _CONNECTION_ERRORS


class _ReadAheadTransport(amqp.transport.TCPTransport):
    """py-amqp's TCP transport, reading what has arrived (up to ``READ_AHEAD`` bytes) instead
    of exactly the part of a frame it needs next: it made three ``recv`` calls a frame, nine
    a delivered message. A ``recv`` never waits for more than what is there, so nothing waits
    longer than before; what is read beyond the frame stays in ``_read_buffer``, where py-amqp
    keeps partial reads anyway."""

    READ_AHEAD = 4096  # a few messages; small, as the rest of the buffer is copied per read

    def _read(self, n: int, initial: bool = False,
              _errnos: tuple[int, ...] = (errno.EAGAIN, errno.EINTR)) -> bytes:
        recv = self._quick_recv
        rbuf: bytes = self._read_buffer  # type: ignore[has-type]
        try:
            while len(rbuf) < n:
                try:
                    s = recv(max(n - len(rbuf), self.READ_AHEAD))
                except OSError as exc:
                    if exc.errno in _errnos:
                        if initial and self.raise_on_initial_eintr:
                            raise TimeoutError() from exc
                        continue
                    raise
                if not s:
                    raise OSError("Server unexpectedly closed connection")
                rbuf += s
        except BaseException:
            self._read_buffer = rbuf
            raise
        result, self._read_buffer = rbuf[:n], rbuf[n:]
        return bytes(result)


class _PyAmqpConnection(kombu.transport.pyamqp.Connection):
    def Transport(self, host: Any, connect_timeout: Any, ssl: Any = False,  # noqa: N802 - py-amqp's name
                  read_timeout: Any = None, write_timeout: Any = None, socket_settings: Any = None,
                  **kwargs: Any) -> Any:
        if ssl:
            return super().Transport(host, connect_timeout, ssl=ssl, read_timeout=read_timeout,
                                     write_timeout=write_timeout, socket_settings=socket_settings,
                                     **kwargs)
        return _ReadAheadTransport(host, connect_timeout=connect_timeout, read_timeout=read_timeout,
                                   write_timeout=write_timeout, socket_settings=socket_settings,
                                   **kwargs)


class _PyAmqpTransport(kombu.transport.pyamqp.Transport):
    Connection = _PyAmqpConnection


def _connection(url: str, **kwargs: Any) -> kombu.Connection:
    """A kombu connection whose frames are read ahead (``amqp://``; others as kombu makes them)."""
    if url.startswith("amqp://"):
        return kombu.Connection(url, transport=_PyAmqpTransport, **kwargs)
    return kombu.Connection(url, **kwargs)


class _ConfirmingPublisher:
    """One connection + confirm-mode channel, used by one thread."""

    # How often an idle connection reads what the server sent and sends its own heartbeat.
    TICK_SECONDS = 1.0

    def __init__(self, url: str, heartbeat: int, confirm_timeout: float) -> None:
        self.url = url
        self.heartbeat = heartbeat
        self.confirm_timeout = confirm_timeout
        self._conn: kombu.Connection | None = None
        self._ch: Any = None
        self._tag = 0
        self._pending: set[int] = set()
        self._nacked: set[int] = set()
        self._last_tick = 0.0
        self._generation = 0

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
        self.reset(graceful=False)
        conn = _connection(self.url, heartbeat=self.heartbeat, connect_timeout=5)
        try:
            conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
            ch = conn.channel()
            ch.confirm_select()
        except BaseException:
            _discard(conn)
            raise
        ch.events["basic_ack"].add(self._on_ack)
        ch.events["basic_nack"].add(self._on_nack)
        self._conn, self._ch, self._tag = conn, ch, 0
        self._generation += 1  # tickets of the previous connection can no longer be confirmed
        self._last_tick = time.monotonic()

    def reset(self, graceful: bool = True) -> None:
        """Forget the connection; close it politely only if it is believed healthy.

        After an error the socket may be half-open, and a polite close waits for the server's
        CloseOk without a timeout: such connections are dropped without a handshake.
        """
        conn, self._conn, self._ch = self._conn, None, None
        self._pending.clear()
        self._nacked.clear()
        if conn is None:
            return
        if graceful:
            _close(conn)
        else:
            _discard(conn)

    def publish(self, items: Sequence[tuple[str, str, OutgoingMessage]]) -> None:
        last_exc: BaseException | None = None
        for _ in range(2):
            try:
                self._ensure()
                self._publish_once(items)
                return
            except PublishError:
                self.reset(graceful=False)
                raise
            except _connection_errors() as exc:
                last_exc = exc
                self.reset(graceful=False)
        raise PublishError(f"broker unreachable: {last_exc!r}") from last_exc

    def _publish_once(self, items: Sequence[tuple[str, str, OutgoingMessage]]) -> None:
        self._await(self._write(items)[1])

    def send(self, items: Sequence[tuple[str, str, OutgoingMessage]]) -> tuple[int, int]:
        """Write a batch without waiting for its confirms; ``wait`` with the returned ticket
        returns once they arrived. Tickets are waited for in the order they were sent."""
        last_exc: BaseException | None = None
        for _ in range(2):
            try:
                self._ensure()  # a new connection: earlier tickets fail (see ``wait``)
                return self._write(items)
            except _connection_errors() as exc:
                last_exc = exc
                self.reset(graceful=False)
        raise PublishError(f"broker unreachable: {last_exc!r}") from last_exc

    def _write(self, items: Sequence[tuple[str, str, OutgoingMessage]]) -> tuple[int, int]:
        assert self._ch is not None
        for exchange, routing_key, m in items:
            msg = amqp.Message(
                m.body,
                content_type=CONTENT_TYPE,
                message_id=m.message_id or None,  # no empty ids on messages that had none
                delivery_mode=2,
                application_headers=dict(m.headers),
            )
            self._ch.basic_publish(msg, exchange=exchange, routing_key=routing_key)
            self._tag += 1
            self._pending.add(self._tag)
        return self._generation, self._tag

    def _await(self, last: int) -> None:
        """Drain until every delivery tag up to ``last`` is confirmed; PublishError if one was
        nacked or they take longer than ``confirm_timeout``."""
        assert self._conn is not None
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending and min(self._pending) <= last:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                count = sum(1 for t in self._pending if t <= last)
                raise PublishError(f"{count} message(s) not confirmed in time")
            try:
                self._conn.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        self._last_tick = time.monotonic()
        refused = {t for t in self._nacked if t <= last}
        if refused:
            self._nacked -= refused
            raise PublishError(f"broker refused {len(refused)} message(s)")

    def wait(self, ticket: tuple[int, int]) -> None:
        """Return once the ticket's batch (and every one sent before it) is confirmed; raise
        ``PublishError`` if one of its messages was nacked, or the connection it was sent on
        is gone (its confirms can never arrive: the caller publishes it again)."""
        generation, last = ticket
        if generation != self._generation or self._conn is None:
            raise PublishError("broker connection lost before the confirms arrived")
        try:
            self._await(last)
        except PublishError:  # as ``publish`` does: batches still in flight are sent again
            self.reset(graceful=False)
            raise
        except _connection_errors() as exc:
            self.reset(graceful=False)
            raise PublishError(f"broker connection lost before the confirms arrived: {exc!r}") from exc

    def heartbeat_check(self) -> None:
        """Keep an idle connection alive; cheap enough to call in any loop (rate-limited).

        ``heartbeat_tick`` only counts bytes already read, and an idle publisher reads nothing:
        without draining the server's heartbeats first, it declared a healthy connection dead
        after two intervals (and, if never ticked, the server dropped it), so every quiet spell
        ended in a reconnect.
        """
        if self._conn is None or time.monotonic() - self._last_tick < self.TICK_SECONDS:
            return
        self._last_tick = time.monotonic()
        try:
            if not self._conn.connected:
                raise ConnectionError("publisher connection closed")
            try:
                self._conn.drain_events(timeout=0.005)
            except TimeoutError:
                pass
            self._conn.heartbeat_check()
        except _connection_errors():
            self.reset(graceful=False)


def _ensure_exchange(conn: kombu.Connection, channel: Any, name: str, kind: str) -> Any:
    """Declare a shared exchange; a user that may not create it (per-service broker users,
    see ``crm-broker-users``) checks that it exists instead. Returns a usable channel."""
    try:
        Exchange(name, type=kind, durable=True)(channel).declare()
        return channel
    except amqp.exceptions.AccessRefused:
        channel = conn.channel()  # the broker closed the refused one
        try:
            Exchange(name, type=kind, durable=True)(channel).declare(passive=True)
        except amqp.exceptions.NotFound as exc:
            raise BrokerUnavailable(
                f"exchange {name} does not exist and this broker user may not create it: "
                "create the broker users and exchanges first (crm-broker-users)") from exc
        return channel


def _close(conn: kombu.Connection) -> None:
    try:
        conn.release()
    except _connection_errors():
        _discard(conn)


def _discard(conn: kombu.Connection) -> None:
    """Drop a connection without talking to the server (it may not answer)."""
    try:
        conn.collect()
    except _DISCARD_ERRORS as exc:
        log.debug("discarding a broken connection: %r", exc)


class _AmqpDelivery(Delivery):
    def __init__(self, broker: AmqpBroker, topology: ConsumerTopology, message: Any,
                 acks: list[_AmqpDelivery] | None = None) -> None:
        self._broker = broker
        self._topology = topology
        self._message = message
        self._acks = acks
        self.settled = False
        self.body = message.body if isinstance(message.body, bytes) else message.body.encode()
        self.routing_key = message.delivery_info.get("routing_key", "")
        self.headers = dict(message.headers or {})
        self.message_id = message.properties.get("message_id")

    @property
    def tag(self) -> int:
        return int(self._message.delivery_tag)

    def ack(self) -> None:
        """Acked with the rest of its batch once the batch was handed back (see ``_flush_acks``);
        the consumer calls this only after its commit, so that changes when, not whether."""
        self.settled = True
        if self._acks is None:
            self._message.ack()
        else:
            self._acks.append(self)

    def _forward(self, queue: str, headers: dict[str, Any]) -> None:
        # Confirmed copy first, then ack: a crash between the two duplicates, never loses.
        # x-delivery-count is the broker's count for *this* copy; the new copy starts afresh.
        headers = {k: v for k, v in headers.items() if k != DELIVERY_COUNT_HEADER}
        out = OutgoingMessage(self.routing_key, self.body, self.message_id or "", headers)
        self._broker._publisher().publish([(self._topology.forward_exchange, queue, out)])
        self._message.ack()
        self.settled = True

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


def _flush_acks(batch: list[Delivery], acks: list[_AmqpDelivery] | None) -> None:
    """Send the acks the consumer gave for ``batch``: one ``basic.ack(multiple)`` up to the
    last delivery before the first one still unsettled (held through an outage), single acks
    after it. ``multiple`` acks every unacked delivery of the channel up to the tag; earlier
    batches are settled before a new one is handed over, so it can only cover this batch's
    settled deliveries: none still held is acked by it."""
    if not acks:
        return
    acked = {id(d) for d in acks}
    acks.clear()
    channels: dict[int, tuple[Any, list[_AmqpDelivery]]] = {}
    for d in batch:
        if isinstance(d, _AmqpDelivery):
            channels.setdefault(id(d._message.channel), (d._message.channel, []))[1].append(d)
    for channel, deliveries in channels.values():
        deliveries.sort(key=lambda d: d.tag)
        upto = 0
        for d in deliveries:
            if not d.settled:
                break
            if id(d) in acked:
                upto = d.tag
        if upto:
            channel.basic_ack(upto, multiple=True)
        for d in deliveries:
            if id(d) in acked and d.tag > upto:
                channel.basic_ack(d.tag)


class AmqpBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        exchange: str = DEFAULT_EXCHANGE,
        heartbeat: int = 20,
        confirm_timeout: float = 15.0,
        max_reconnects: int | None = 30,
    ) -> None:
        self.url = url
        self.exchange = exchange
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

    def _declared(self) -> set[str]:
        """This thread's exchanges known to exist; the configured one is declared once here
        (and again after a failed publish, in case it was deleted)."""
        declared: set[str] | None = getattr(self._local, "declared_exchanges", None)
        if declared is None:
            declared = self._local.declared_exchanges = set()
        if self.exchange not in declared:
            self._declare_exchanges(self.exchange)
            declared.add(self.exchange)
        return declared

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        exchange = self.exchange
        pub = self._publisher()
        declared = self._declared()
        try:
            pub.publish([(exchange, m.routing_key, m) for m in messages])
        except PublishError:
            declared.discard(exchange)  # declare again next time, in case it was deleted
            raise

    def publish_nowait(self, messages: Sequence[OutgoingMessage]) -> Callable[[], None]:
        exchange = self.exchange
        pub = self._publisher()
        declared = self._declared()
        try:
            ticket = pub.send([(exchange, m.routing_key, m) for m in messages])
        except PublishError:
            declared.discard(exchange)
            raise

        def confirmed() -> None:
            try:
                pub.wait(ticket)
            except PublishError:
                declared.discard(exchange)  # declare again next time, in case it was deleted
                raise

        return confirmed

    def idle(self) -> None:
        self._publisher().heartbeat_check()

    def _declare_exchanges(self, exchange: str) -> None:
        try:
            with kombu.Connection(self.url, connect_timeout=5) as conn:
                conn.ensure_connection(max_retries=2)
                _ensure_exchange(conn, conn.channel(), exchange, "topic")
        except _DECLARE_ERRORS as exc:  # RuntimeError: BrokerUnavailable from _ensure_exchange
            raise PublishError(f"cannot declare exchange {exchange}: {exc!r}") from exc

    # --- topology -----------------------------------------------------------------------
    @staticmethod
    def _queues(topology: ConsumerTopology) -> tuple[Queue, Queue, list[Queue]]:
        # Exchanges are declared by _declare (tolerating a user that may not create them);
        # no_declare keeps kombu from declaring them again with each queue.
        events = Exchange(topology.exchange, type="topic", durable=True, no_declare=True)
        dlx = Exchange(topology.dlx, type="direct", durable=True, no_declare=True)
        forward = Exchange(topology.forward_exchange, type="direct", durable=True, no_declare=True)
        reliable = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        main = Queue(
            topology.queue,
            bindings=[binding(events, routing_key=key) for key in topology.bindings]
            + [binding(forward, routing_key=topology.queue)],
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": topology.delivery_limit,
                "x-dead-letter-exchange": topology.dlx,
                "x-dead-letter-routing-key": topology.parking_queue,
                **reliable,
            },
        )
        parking = Queue(  # kombu ignores exchange= when bindings= is given: both are bindings
            topology.parking_queue,
            bindings=[binding(dlx, routing_key=topology.parking_queue),
                      binding(forward, routing_key=topology.parking_queue)],
            durable=True, queue_arguments={"x-queue-type": "quorum"},
        )
        retries = [
            Queue(
                topology.retry_queue(delay),
                bindings=[binding(forward, routing_key=topology.retry_queue(delay))],
                durable=True,
                queue_arguments={
                    "x-queue-type": "quorum",
                    "x-message-ttl": round(delay * 1000),
                    # Back through the service's own exchange: declaring a queue that
                    # dead-letters needs write access to where it dead-letters to.
                    "x-dead-letter-exchange": topology.forward_exchange,
                    "x-dead-letter-routing-key": topology.queue,
                    **reliable,
                },
            )
            for delay in sorted(set(topology.retry_delays))
        ]
        return main, parking, retries

    def _declare(self, conn: kombu.Connection, topology: ConsumerTopology, *,
                 tolerant: bool = False) -> Any:
        """Declare exchanges, queues and bindings; returns an open channel on ``conn``.

        A queue that exists with other arguments (EVENTS_DELIVERY_LIMIT changed) makes the
        broker refuse with PRECONDITION_FAILED. A worker fails on it, as documented in the
        operations guide. The operator tools (``tolerant``) use the queue as it is: listing or
        replaying parked messages must work from a shell whose environment differs.
        """
        main, parking, retries = self._queues(topology)
        channel = conn.channel()
        channel = _ensure_exchange(conn, channel, topology.exchange, "topic")
        channel = _ensure_exchange(conn, channel, topology.dlx, "direct")
        Exchange(topology.forward_exchange, type="direct", durable=True)(channel).declare()
        for q in (parking, *retries, main):
            try:
                q(channel).declare()
            except amqp.exceptions.PreconditionFailed as exc:
                if not tolerant:
                    raise
                log.warning("queue %s exists with other arguments; using it as it is (%s)", q.name, exc)
                channel = conn.channel()  # the broker closed the previous one
                bound = q(channel)
                bound.queue_declare(passive=True)
                if bound.exchange and bound.exchange.name:
                    bound.queue_bind()
                for b in bound.bindings:
                    b.bind(bound, channel=channel)
        return channel

    def declare(self, topology: ConsumerTopology) -> None:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            self._declare(conn, topology)

    # --- consuming ----------------------------------------------------------------------
    def consume(self, topology: ConsumerTopology, on_delivery: Callable[[Delivery], None],
                stop: threading.Event) -> None:
        def each(batch: list[Delivery]) -> None:
            for delivery in batch:
                on_delivery(delivery)

        self.consume_batches(topology, each, stop, max_batch=1)

    def consume_batches(self, topology: ConsumerTopology, on_batch: Batch, stop: threading.Event,
                        max_batch: int = 50) -> None:
        failures = 0
        while not stop.is_set():
            conn = _connection(self.url, heartbeat=self.heartbeat, connect_timeout=5)
            started = threading.Event()
            try:
                conn.ensure_connection(max_retries=1)
                self._consume_on(conn, topology, on_batch, stop, started, max_batch)
            except _CONSUME_ERRORS as exc:
                # PublishError: a retry/park copy was not confirmed; the message is still
                # unacked and comes back after the reconnect, instead of killing the worker.
                _discard(conn)
                self.connected.clear()
                failures = 1 if started.is_set() else failures + 1
                if self.max_reconnects is not None and failures > self.max_reconnects:
                    raise BrokerUnavailable(f"gave up after {failures - 1} reconnects: {exc!r}") from exc
                delay = min(15.0, 0.25 * 2 ** min(failures, 6))
                outage("broker").failed(exc, f"consumer {topology.queue}")
                log.debug("broker connection lost (%r); reconnect %d in %.1fs", exc, failures, delay)
                stop.wait(delay)
            except BaseException:
                _discard(conn)
                raise
            else:
                _close(conn)
        self.connected.clear()

    def _consume_on(self, conn: kombu.Connection, topology: ConsumerTopology, on_batch: Batch,
                    stop: threading.Event, started: threading.Event, max_batch: int) -> None:
        """Consume on one connection until ``stop`` or a connection error.

        Messages are read into a buffer and handed over in batches of what has arrived (never
        waiting to fill one), so one transaction can commit many events.

        Each connection starts with a prefetch of 1 and widens to the topology's prefetch once
        a message was settled. RabbitMQ 3.x counts a delivery for every unacked message of a
        consumer that dies, so with full prefetch a message that kills the worker dragged up
        to ``prefetch`` innocent neighbours past the delivery limit into the parking queue.
        A consumer's prefetch is fixed when it starts (basic.qos only affects later consumers),
        so widening means a second consumer on a new channel, then cancelling the first.
        """
        queue = self._queues(topology)[0]
        buffer: list[Delivery] = []
        acks: list[_AmqpDelivery] = []  # acked by the consumer, not yet sent (one frame a batch)
        settled = 0
        active: list[Any] = []  # the channel whose deliveries count

        def on_message(message: Any) -> None:
            # A delivery still in flight to the narrow consumer after it was cancelled cannot
            # be acked once its channel closes; the broker requeues it, so it is skipped here.
            if message.channel is active[0]:
                buffer.append(_AmqpDelivery(self, topology, message, acks))

        def start(channel: Any, prefetch: int) -> kombu.Consumer:
            consumer = kombu.Consumer(channel, queues=[queue], on_message=on_message, no_ack=False,
                                      prefetch_count=prefetch, auto_declare=False)
            consumer.consume()
            return consumer

        narrow_channel = self._declare(conn, topology)
        active.append(narrow_channel)
        consumer = start(narrow_channel, 1)
        started.set()
        self.connected.set()
        outage("broker").ok()
        log.info("consuming %s", topology.queue)
        widened = topology.prefetch <= 1
        publisher = self._publisher()
        while not stop.is_set():
            try:
                conn.drain_events(timeout=0.5)
                while len(buffer) < max_batch:  # take what else has already arrived
                    conn.drain_events(timeout=0.001)
            except TimeoutError:
                pass
            if buffer:
                batch = buffer[:max_batch]
                del buffer[:max_batch]
                self._deliver(conn, batch, on_batch, stop, acks)
                settled += len(batch)
            if not widened and settled and not buffer:
                # From here the narrow consumer's deliveries are skipped: opening the new
                # channel reads frames, and one may be for the narrow channel, about to close.
                active[0] = None
                wide_channel = conn.channel()
                active[0] = wide_channel
                wide = start(wide_channel, topology.prefetch)
                consumer.cancel()
                narrow_channel.close()
                consumer, widened = wide, True
            conn.heartbeat_check()
            publisher.heartbeat_check()  # this thread's retry/park publisher
        try:
            consumer.cancel()
        except _connection_errors():
            pass

    @staticmethod
    def _deliver(conn: kombu.Connection, batch: list[Delivery], on_batch: Batch,
                 stop: threading.Event, acks: list[_AmqpDelivery] | None = None) -> None:
        """Hand the batch over; through a database outage, hold what is unsettled (unacked, so
        nothing is lost or counted as a failed delivery) and keep the connection alive. With
        prefetch, at most ``prefetch`` messages are held; the rest wait in the queue. The acks
        the consumer gave are sent after each hand-over (``_flush_acks``)."""
        whole = batch
        while batch and not stop.is_set():
            try:
                on_batch(batch)
                _flush_acks(whole, acks)
                return
            except DependencyUnavailable as outage:
                _flush_acks(whole, acks)  # what committed before the outage
                batch = outage.pending
                while not stop.is_set() and not outage.ready():
                    try:  # reads the server's heartbeats; new deliveries wait in the buffer
                        conn.drain_events(timeout=1.0)
                    except TimeoutError:
                        pass
                    conn.heartbeat_check()
            except BaseException:
                try:
                    _flush_acks(whole, acks)  # committed work need not come back
                except _connection_errors():
                    pass  # the connection is gone: those come back, and the inbox drops them
                raise

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

    @staticmethod
    def _describe(m: Any) -> ParkedMessage:
        body = m.body if isinstance(m.body, bytes) else m.body.encode()
        return describe_parked(body, dict(m.headers or {}), m.properties.get("message_id"),
                               m.delivery_info.get("routing_key"))

    def list_parked(self, topology: ConsumerTopology, limit: int = 100) -> list[ParkedMessage]:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            channel = self._declare(conn, topology, tolerant=True)
            parked = [self._describe(m) for m in self._get_all(channel, topology.parking_queue, limit)]
            channel.close()  # unacked messages go back to the parking queue
            return parked

    def replay_parked(self, topology: ConsumerTopology, message_id: str | None = None) -> int:
        replayed = 0
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            channel = self._declare(conn, topology, tolerant=True)
            for m in self._get_all(channel, topology.parking_queue, 1_000_000):
                info = self._describe(m)
                if message_id is not None and info.message_id != message_id:
                    continue
                body = m.body if isinstance(m.body, bytes) else m.body.encode()
                headers = strip_failure_headers(dict(m.headers or {}))
                if info.routing_key:
                    # Dead-lettered by the broker, the original key lived only in x-death.
                    headers[ORIGINAL_KEY_HEADER] = info.routing_key
                out = OutgoingMessage(info.routing_key or "", body, info.message_id or "", headers)
                self._publisher().publish([(topology.forward_exchange, topology.queue, out)])
                channel.basic_ack(m.delivery_tag)
                replayed += 1
            channel.close()
        return replayed

    def discard_parked(self, topology: ConsumerTopology, chosen: ParkedFilter) -> int:
        """Take every parked message (unacked), ack the chosen ones (gone for good) and close
        the channel, which puts the rest back in the parking queue."""
        discarded = 0
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            channel = self._declare(conn, topology, tolerant=True)
            for m in self._get_all(channel, topology.parking_queue, 1_000_000):
                if chosen.matches(self._describe(m)):
                    channel.basic_ack(m.delivery_tag)
                    discarded += 1
            channel.close()
        return discarded

    def queue_depths(self, topology: ConsumerTopology) -> dict[str, int]:
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
            channel = self._declare(conn, topology, tolerant=True)
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
