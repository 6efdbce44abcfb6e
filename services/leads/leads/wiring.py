"""The service's composition root: database, bus, clock; reused by tests with other settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eventbus import ServiceBus
from servicedb import create_service_engine, database_url_from_env, env_flag, upgrade

from .handlers import SUBSCRIPTIONS
from .models import Base

SERVICE = "leads"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class LeadsContext:
    bus: ServiceBus
    clock: Callable[[], datetime] = field(default=utcnow)


def build(database_url: str | None = None, broker_url: str | None = None,
          migrate: bool | None = None) -> LeadsContext:
    engine = create_service_engine(database_url or database_url_from_env(SERVICE))
    if env_flag("MIGRATE_ON_START", True) if migrate is None else migrate:
        upgrade(engine, "leads")
    bus = ServiceBus(service=SERVICE, engine=engine, metadata=Base.metadata,
                     subscriptions=SUBSCRIPTIONS, broker_url=broker_url)
    return LeadsContext(bus=bus)


def start_background(ctx: LeadsContext, stop: threading.Event) -> list[threading.Thread]:
    """What the leads worker runs besides the event bus: the follow-up cadence scheduler."""
    from .cadence_scheduler import start_cadence_thread

    return [start_cadence_thread(ctx.bus.session_factory, ctx.bus, ctx.clock, stop)]
