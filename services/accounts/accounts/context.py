"""The running accounts service as its web app, worker and tests see it (built by ``wiring.build``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from httpapi import ServiceContext, start_periodic

from .credit.scheduler import job as credit_job
from .scheduler import job
from .settings import Settings


@dataclass
class AccountsContext(ServiceContext):
    settings: Settings

    def background(self, stop: threading.Event) -> list[threading.Thread]:
        """The accounts timers every ``scheduler_interval`` seconds and the credit timers every
        ``credit_scheduler_interval`` seconds, on this context's clock."""
        return [start_periodic(f"{self.bus.service}-timers", self.settings.scheduler_interval,
                               job(self.bus.session_factory, self.bus, self.clock), stop),
                start_periodic(f"{self.bus.service}-credit-timers", self.settings.credit_scheduler_interval,
                               credit_job(self.bus.session_factory, self.bus, self.clock), stop)]
