"""Wiring of one service's bus: its tables, broker, relay, consumer and operator views.

A service builds one ``ServiceBus`` in its composition root; its web process uses ``emit`` and
the operator views, its worker process runs ``run_worker``. Which broker is used comes from
the broker URL alone: ``amqp://…`` for RabbitMQ, ``memory://`` for the embedded mode. Every
number comes from one ``BusSettings`` parsed by the service's settings.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .broker import Broker, ParkedFilter, ParkedMessage
from .consumer import EventConsumer, Subscription
from .envelope import Envelope, new_event, schema_url
from .memory import InMemoryBroker
from .relay import OutboxRelay
from .settings import BusSettings
from .store import add_to_outbox, define_tables
from .topology import consumer_topology

log = logging.getLogger("eventbus.runtime")
_memory_broker: InMemoryBroker | None = None
_memory_lock = threading.Lock()


def broker_from_url(url: str, settings: BusSettings | None = None) -> Broker:
    if url.startswith("memory://"):
        global _memory_broker
        with _memory_lock:  # one in-process broker shared by every service in the process
            if _memory_broker is None:
                _memory_broker = InMemoryBroker()
            return _memory_broker
    from .amqp import AmqpBroker

    settings = settings or BusSettings()
    return AmqpBroker(url, exchange=settings.exchange, max_reconnects=settings.max_reconnects)


class ServiceBus:
    def __init__(
        self,
        *,
        service: str,
        engine: Engine,
        metadata: MetaData,
        subscriptions: dict[str, Subscription] | None = None,
        settings: BusSettings | None = None,
        broker_url: str | None = None,
    ) -> None:
        """``settings`` defaults to ``BusSettings.from_env()``; ``broker_url`` overrides its URL."""
        settings = settings or BusSettings.from_env()
        if broker_url:
            settings = dataclasses.replace(settings, broker_url=broker_url)
        self.settings = settings
        self.service = service
        self.source = f"crm/{service}"
        self.engine = engine
        self.outbox, self.inbox = define_tables(metadata)
        self.session_factory: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.subscriptions = subscriptions or {}
        queue = settings.queue_for(service)
        self.topology = consumer_topology(queue, tuple(sorted(self.subscriptions)), settings)
        self.broker_url = settings.broker_url
        self._broker: Broker | None = None
        self.relay = OutboxRelay(
            engine, self.outbox, cast(Broker, _LazyBroker(self)), service=service,
            batch_size=settings.outbox_batch_size,
            window=settings.outbox_window,
            safety_poll=settings.outbox_safety_poll,
            retention=timedelta(days=settings.outbox_retention_days),
            inbox=self.inbox,
            inbox_retention=timedelta(days=settings.inbox_retention_days),
        )
        # Events committed per consumer transaction (what has arrived, up to this many).
        self.consumer_batch = settings.consumer_batch
        self.consumer = EventConsumer(
            queue, self.session_factory, self.inbox, self.subscriptions, self.topology
        )

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            self._broker = broker_from_url(self.broker_url, self.settings)
        return self._broker

    def emit(self, session: Session, type: str, data: dict[str, Any],
             subject: str | None = None) -> Envelope:
        """Record an event in the caller's transaction; it is published after commit."""
        env = new_event(source=self.source, type=type, data=data, subject=subject,
                        dataschema=schema_url(self.settings.dataschema_base_url, type))
        add_to_outbox(session, self.outbox, env)
        return env

    # --- worker --------------------------------------------------------------------------
    def start_worker(self, stop: threading.Event, consumers: int = 1) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.relay.run, args=(stop,), daemon=True,
                                    name=f"{self.service}-relay")]
        if self.subscriptions:
            self.broker.declare(self.topology)
            for i in range(consumers):
                threads.append(threading.Thread(
                    target=self._consume, args=(stop,), daemon=True,
                    name=f"{self.service}-consumer-{i}"))
        for t in threads:
            t.start()
        return threads

    def _consume(self, stop: threading.Event) -> None:
        try:
            self.broker.consume_batches(self.topology, self.consumer.handle_batch, stop,
                                        max_batch=self.consumer_batch)
        except Exception:
            log.exception("%s consumer stopped", self.service)
            stop.set()  # a dead consumer takes the worker down so it gets restarted
            raise

    # --- operator views ------------------------------------------------------------------
    def outbox_backlog(self) -> dict[str, object]:
        return self.relay.backlog()

    def list_parked(self, limit: int = 100) -> list[ParkedMessage]:
        return self.broker.list_parked(self.topology, limit)

    def replay_parked(self, message_id: str | None = None) -> int:
        return self.broker.replay_parked(self.topology, message_id)

    def discard_parked(self, chosen: ParkedFilter) -> int:
        return self.broker.discard_parked(self.topology, chosen)

    def queue_depths(self) -> dict[str, int]:
        return self.broker.queue_depths(self.topology)


class _LazyBroker:
    """Lets the relay exist before a broker connection is needed (web processes never relay)."""

    def __init__(self, bus: ServiceBus) -> None:
        self._bus = bus

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus.broker, name)
