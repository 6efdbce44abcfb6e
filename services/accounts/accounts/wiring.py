"""The service's composition root: database, bus, clock; reused by tests with other settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eventbus import ServiceBus
from servicedb import create_service_engine, database_url_from_env, env_flag, upgrade

from .handlers import HandlerDeps, subscriptions
from .models import Base

SERVICE = "accounts"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AccountsContext:
    bus: ServiceBus
    clock: Callable[[], datetime] = field(default=utcnow)


def build(database_url: str | None = None, broker_url: str | None = None,
          migrate: bool | None = None, clock: Callable[[], datetime] = utcnow) -> AccountsContext:
    engine = create_service_engine(database_url or database_url_from_env(SERVICE))
    if env_flag("MIGRATE_ON_START", True) if migrate is None else migrate:
        upgrade(engine, "accounts")
    bus: ServiceBus
    # Handlers emit through the bus they are subscribed on; the lambda reads ``bus`` at call time.
    deps = HandlerDeps(clock=clock, emit=lambda *args: bus.emit(*args))
    bus = ServiceBus(service=SERVICE, engine=engine, metadata=Base.metadata,
                     subscriptions=subscriptions(deps), broker_url=broker_url)
    return AccountsContext(bus=bus, clock=clock)
