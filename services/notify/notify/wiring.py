"""The service's composition root: settings, database, bus, clock; reused by tests."""

from __future__ import annotations

from eventbus import ServiceBus
from httpapi import open_bus, utcnow
from httpapi.service import Clock

from .context import NotifyContext
from .handlers import HandlerDeps, subscriptions
from .models import Base
from .settings import Settings


def build(database_url: str | None = None, broker_url: str | None = None,
          migrate: bool | None = None, *, settings: Settings | None = None,
          clock: Clock = utcnow) -> NotifyContext:
    """The notify service from ``settings`` (default: the environment, parsed here once); the
    keyword overrides are for tests and tools."""
    settings = (settings or Settings.from_env()).with_overrides(
        database_url=database_url, broker_url=broker_url, migrate=migrate)
    bus: ServiceBus
    # Handlers emit through the bus they are subscribed on; the lambda reads ``bus`` at call time.
    deps = HandlerDeps(clock=clock, emit=lambda *args: bus.emit(*args))
    bus = open_bus(settings, package="notify", metadata=Base.metadata, subscriptions=subscriptions(deps))
    return NotifyContext(settings=settings, bus=bus, clock=clock)
