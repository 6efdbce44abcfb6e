"""The running leads service as its web app, worker and tests see it (built by ``wiring.build``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from httpapi import ServiceContext
from leads.settings import Settings


@dataclass
class LeadsContext(ServiceContext):
    settings: Settings

    def background(self, stop: threading.Event) -> list[threading.Thread]:
        """The follow-up cadence scheduler, every ``cadence_interval`` seconds on this clock."""
        from leads.pipeline.scheduler import start_cadence_thread

        return [start_cadence_thread(self.bus.session_factory, self.bus, self.clock, stop,
                                     self.settings.cadence_interval)]
