"""The service's composition root: settings, database, bus, clock; reused by tests."""

from __future__ import annotations

from httpapi import open_bus, utcnow
from httpapi.service import Clock

from .context import SupportContext
from .handlers import subscriptions
from .models import Base
from .settings import Settings


def build(
    database_url: str | None = None,
    broker_url: str | None = None,
    migrate: bool | None = None,
    *,
    settings: Settings | None = None,
    clock: Clock = utcnow,
) -> SupportContext:
    """The support service from ``settings`` (default: the environment, parsed here once); the
    keyword overrides are for tests and tools."""
    settings = (settings or Settings.from_env()).with_overrides(
        database_url=database_url, broker_url=broker_url, migrate=migrate
    )
    bus = open_bus(settings, package="support", metadata=Base.metadata, subscriptions=subscriptions(clock))
    return SupportContext(settings=settings, bus=bus, clock=clock)
