"""The running notify service as its web app, worker and tests see it (built by ``wiring.build``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from httpapi import ServiceContext, start_periodic

from .channels import Sender
from .greetings.service import run_greetings
from .messages.service import dispatch_due
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class NotifyContext(ServiceContext):
    settings: Settings
    senders: dict[str, Sender] = field(default_factory=dict)
    sms_provider: Any = None  # the configured provider (the recording one in development)
    webhooks: Any = None  # webhooks.dispatcher.WebhookDispatcher, when built
    messages: Any = None  # messages.dispatcher.MessageDispatcher, when built

    def dispatch_messages(self) -> None:
        """One pass of the e-mail / SMS dispatcher on this context's clock: what is due now."""
        done = dispatch_due(self.bus.session_factory, self.bus, self.senders, self.clock)
        if done:
            log.info("notify messages: %s", dict(done))

    def draft_greetings(self) -> None:
        """One pass of the greeting occasions (idempotent: each draft once per occasion)."""
        made = run_greetings(self.bus.session_factory, self.clock(), self.bus.emit)
        if made:
            log.info("notify greetings drafted: %s", dict(made))

    def background(self, stop: threading.Event) -> list[threading.Thread]:
        if self.messages is not None:
            threads = self.messages.start(stop)
        else:
            every = self.settings.dispatch_interval
            threads = [start_periodic(f"{self.bus.service}-messages", every, self.dispatch_messages, stop)]
        if self.webhooks is not None:
            threads += self.webhooks.start(stop)
        return threads
