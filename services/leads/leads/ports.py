"""What the use cases need of the running service — its bus, clock and settings — as an
interface, so that no capability imports the composition root (``LeadsContext`` is one)."""

from __future__ import annotations

from typing import Protocol

from eventbus import ServiceBus
from httpapi.service import Clock

from .settings import Settings


class Deps(Protocol):
    bus: ServiceBus
    clock: Clock
    settings: Settings
