"""The service's composition root: settings, database, bus, clock; reused by tests."""

from __future__ import annotations

from httpapi import open_bus, utcnow
from httpapi.service import Clock
from leads.context import LeadsContext
from leads.db import Base
from leads.intake.handlers import SUBSCRIPTIONS
from leads.settings import Settings


def build(database_url: str | None = None, broker_url: str | None = None,
          migrate: bool | None = None, *, settings: Settings | None = None,
          clock: Clock = utcnow) -> LeadsContext:
    """The leads service from ``settings`` (default: the environment, parsed here once); the
    keyword overrides are for tests and tools."""
    settings = (settings or Settings.from_env()).with_overrides(
        database_url=database_url, broker_url=broker_url, migrate=migrate)
    bus = open_bus(settings, package="leads", metadata=Base.metadata, subscriptions=SUBSCRIPTIONS)
    return LeadsContext(settings=settings, bus=bus, clock=clock)
