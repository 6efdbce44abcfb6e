"""What every service's composition root shares: its settings (parsed once per process), its
context (settings, bus, clock, background jobs) and the opening of its database and bus.

A service defines ``Settings(ServiceSettings)`` in ``settings.py`` with its own fields,
``<Name>Context(ServiceContext)`` in ``context.py`` and ``build()`` in ``wiring.py``; the web
app, the worker and the embedded runner all start from ``build()``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from sqlalchemy import MetaData

from authn import AuthSettings
from eventbus import BusSettings, ServiceBus, Subscription
from servicedb import DatabaseSettings, SchemaState, create_service_engine, migrate, schema_state, upgrade
from telemetry import is_database_outage, outage, parse_log_format

log = logging.getLogger("httpapi.service")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def environ_or_os(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


@dataclass(frozen=True)
class ServiceSettings:
    """The settings every service has; a service subclasses it to add its own (with defaults)."""

    service: str
    database: DatabaseSettings
    bus: BusSettings
    auth: AuthSettings
    log_level: str = "INFO"
    # LOG_FORMAT: json (one object per line, for containers and log shippers; the default) or
    # text (for people; the embedded mode's default).
    log_format: str = "json"

    @classmethod
    def common_from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The shared fields as keyword arguments, for a subclass's ``from_env``."""
        env = environ_or_os(environ)
        return {
            "service": service,
            "database": DatabaseSettings.from_env(service, env),
            "bus": BusSettings.from_env(env),
            "auth": AuthSettings.from_env(env),
            "log_level": env.get("LOG_LEVEL") or "INFO",
            "log_format": parse_log_format(env.get("LOG_FORMAT"), "json"),
        }

    def with_overrides(self, *, database_url: str | None = None, broker_url: str | None = None,
                       migrate: bool | None = None) -> Self:
        """A copy with another database, broker or migrate-on-start (tests, tools)."""
        database = self.database
        if database_url:
            database = dataclasses.replace(database, url=database_url)
        if migrate is not None:
            database = dataclasses.replace(database, migrate_on_start=migrate)
        bus = dataclasses.replace(self.bus, broker_url=broker_url) if broker_url else self.bus
        return dataclasses.replace(self, database=database, bus=bus)


@dataclass
class ServiceContext:
    """A running service's composition: what its web app, worker and tests share."""

    settings: ServiceSettings
    bus: ServiceBus
    clock: Clock = field(default=utcnow)
    # The package holding ``migrations/``; by default the one the context class lives in.
    migrations_package: ClassVar[str | None] = None

    def background(self, stop: threading.Event) -> list[threading.Thread]:
        """Threads the worker runs beside the event bus (schedulers); none by default."""
        return []

    # --- schema (the worker's ``migrate`` command and both processes' readiness) ----------
    @property
    def package(self) -> str:
        return self.migrations_package or type(self).__module__.split(".")[0]

    @property
    def migrate_on_start(self) -> bool:
        return self.settings.database.migrate_on_start

    def schema_state(self) -> SchemaState:
        return schema_state(self.bus.engine, self.package)

    def schema_problem(self) -> str | None:
        """Why this code cannot use the database's schema yet (None: it can)."""
        return self.schema_state().problem

    def migrate(self) -> dict[str, object]:
        """Bring the schema to the code's heads or raise ``MigrationFailed``."""
        before, after = migrate(self.bus.engine, self.package)
        return {**after.to_dict(), "migrated": before.database != after.database,
                "from": list(before.database)}


def open_bus(settings: ServiceSettings, *, package: str, metadata: MetaData,
             subscriptions: dict[str, Subscription] | None = None) -> ServiceBus:
    """The service's engine (migrated first when the settings say so) and its event bus."""
    db = settings.database
    engine = create_service_engine(db.require_url(settings.service), pool_size=db.pool_size)
    if db.migrate_on_start:
        upgrade(engine, package)
    return ServiceBus(service=settings.service, engine=engine, metadata=metadata,
                      subscriptions=subscriptions, settings=settings.bus)


def start_periodic(name: str, every: float, job: Callable[[], object],
                   stop: threading.Event) -> threading.Thread:
    """Run ``job`` every ``every`` seconds until ``stop``. A failed pass is logged and tried again
    on the next tick; the thread never dies of it. Jobs must be safe to run in several worker
    replicas at once (claim work with unique keys or ``SKIP LOCKED``)."""

    database = outage("database")

    def loop() -> None:
        while not stop.is_set():
            try:
                started = time.monotonic()
                job()
                database.ok(started)
            except Exception as exc:
                if is_database_outage(exc):
                    database.failed(exc, name, started)  # one warning per outage, not one per pass
                else:
                    log.exception("%s pass failed", name)
            stop.wait(every)

    thread = threading.Thread(target=loop, daemon=True, name=name)
    thread.start()
    return thread
