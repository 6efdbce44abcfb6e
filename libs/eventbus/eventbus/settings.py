"""Every setting of the event bus, parsed once per process from the environment.

A service's ``Settings.from_env()`` builds one ``BusSettings`` and passes it down; nothing in
the bus reads the environment after that, so a test or a second service in the same process
(embedded mode) can run with other values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_EXCHANGE = "crm.events"
# The gateway of `make run` / `make up`; deployments set EVENTS_DATASCHEMA_BASE_URL to theirs.
DEFAULT_SCHEMA_BASE_URL = "http://127.0.0.1:8080/api/v1/asyncapi/schemas"


def _optional_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip() else None


def _delays(value: str) -> tuple[float, ...]:
    delays = tuple(float(x) for x in value.split(",") if x.strip())
    if not delays or any(d < 0 for d in delays):
        raise ValueError(f"EVENTS_RETRY_DELAYS must be non-negative seconds, e.g. '1,5,30', not {value!r}")
    return delays


@dataclass(frozen=True)
class BusSettings:
    """``EVENTS_*``, ``OUTBOX_*``, ``INBOX_*`` and ``WORKER_*`` settings (see docs/operations.md)."""

    broker_url: str = DEFAULT_BROKER_URL
    exchange: str = DEFAULT_EXCHANGE
    queue_prefix: str = "crm"  # lets several deployments (or test runs) share one broker
    outbox_batch_size: int = 100
    outbox_window: int = 4  # relay batches written before the oldest one's confirms (PostgreSQL)
    outbox_safety_poll: float = 5.0
    outbox_retention_days: float = 7.0  # sent rows are deleted after this
    inbox_retention_days: float = 30.0  # far past any retry or replay of the same event
    consumer_batch: int = 50  # events committed per consumer transaction, at most
    consumer_threads: int = 1
    max_reconnects: int | None = 30
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0)
    delivery_limit: int = 10
    # Two batches: the next batch is already here while one commits (prefetch = batch left
    # the consumer waiting a broker round trip after every commit, with batches of ~40).
    prefetch: int = 100
    worker_health_port: int | None = None
    worker_health_host: str = "127.0.0.1"
    # Where the gateway serves each event type's JSON Schema (the events' ``dataschema``).
    dataschema_base_url: str = DEFAULT_SCHEMA_BASE_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BusSettings:
        env = os.environ if environ is None else environ
        d = cls()
        reconnects = env.get("EVENTS_MAX_RECONNECTS")
        consumer_batch = int(env.get("EVENTS_CONSUMER_BATCH") or d.consumer_batch)
        return cls(
            broker_url=env.get("EVENTS_BROKER_URL") or d.broker_url,
            exchange=env.get("EVENTS_EXCHANGE") or d.exchange,
            queue_prefix=env.get("EVENTS_QUEUE_PREFIX") or d.queue_prefix,
            outbox_batch_size=int(env.get("OUTBOX_BATCH_SIZE") or d.outbox_batch_size),
            outbox_window=int(env.get("OUTBOX_WINDOW") or d.outbox_window),
            outbox_safety_poll=float(env.get("OUTBOX_SAFETY_POLL") or d.outbox_safety_poll),
            outbox_retention_days=float(env.get("OUTBOX_RETENTION_DAYS") or d.outbox_retention_days),
            inbox_retention_days=float(env.get("INBOX_RETENTION_DAYS") or d.inbox_retention_days),
            consumer_batch=consumer_batch,
            consumer_threads=int(env.get("EVENTS_CONSUMER_THREADS") or d.consumer_threads),
            # An empty EVENTS_MAX_RECONNECTS means "never give up".
            max_reconnects=d.max_reconnects if reconnects is None else _optional_int(reconnects),
            retry_delays=_delays(env["EVENTS_RETRY_DELAYS"]) if env.get("EVENTS_RETRY_DELAYS")
            else d.retry_delays,
            delivery_limit=int(env.get("EVENTS_DELIVERY_LIMIT") or d.delivery_limit),
            prefetch=int(env.get("EVENTS_PREFETCH") or 2 * consumer_batch),
            worker_health_port=_optional_int(env.get("WORKER_HEALTH_PORT")),
            worker_health_host=env.get("WORKER_HEALTH_HOST") or d.worker_health_host,
            dataschema_base_url=env.get("EVENTS_DATASCHEMA_BASE_URL") or d.dataschema_base_url,
        )

    def queue_for(self, service: str) -> str:
        return f"{self.queue_prefix}.{service}"
