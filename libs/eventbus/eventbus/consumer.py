"""Idempotent consumer: one subscription table per service, one transaction per event.

For each delivery: decode the envelope (undecodable → parked at once), parse the payload with
the subscription's schema (invalid → parked at once), then in one transaction claim the inbox
row and run the handler. Commit, then ack. A redelivered event finds its inbox row and is
acked without effect. A handler that raises is retried after the topology's delays, then
parked; ``PermanentError`` skips the retries.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from .broker import Delivery
from .envelope import Envelope, MalformedEvent, context_from_event, reset_context, set_context
from .metrics import EVENTS_HANDLED, HANDLER_SECONDS
from .store import claim_inbox
from .topology import ConsumerTopology

log = logging.getLogger("eventbus.consumer")

Handler = Callable[[Session, Envelope, dict[str, Any]], None]


class PermanentError(Exception):
    """The event can never be handled as it is (e.g. it contradicts this service's data)."""


@dataclass(frozen=True)
class Subscription:
    handler: Handler
    # Turns ``envelope.data`` into what the handler reads; raising means "invalid payload".
    parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None


class EventConsumer:
    def __init__(
        self,
        name: str,
        session_factory: sessionmaker[Session],
        inbox: Table,
        subscriptions: dict[str, Subscription],
        topology: ConsumerTopology,
    ) -> None:
        self.name = name
        self.session_factory = session_factory
        self.inbox = inbox
        self.subscriptions = subscriptions
        self.topology = topology

    def _settle(self, outcome: str) -> None:
        EVENTS_HANDLED.labels(self.name, outcome).inc()

    def handle(self, delivery: Delivery) -> None:
        try:
            env = Envelope.from_bytes(delivery.body)
        except MalformedEvent as exc:
            log.error("%s: parking undecodable message %s: %s", self.name, delivery.message_id, exc)
            delivery.park("malformed", str(exc))
            self._settle("parked")
            return
        sub = self.subscriptions.get(env.type)
        if sub is None:  # a binding broader than the table; nothing to do
            delivery.ack()
            self._settle("ignored")
            return
        try:
            data = sub.parse(env.data) if sub.parse else env.data
        except Exception as exc:  # noqa: BLE001 - any parse failure means a bad payload
            log.error("%s: parking invalid %s %s: %s", self.name, env.type, env.id, exc)
            delivery.park("invalid-payload", f"{type(exc).__name__}: {exc}")
            self._settle("parked")
            return

        token = set_context(context_from_event(env))
        started = time.perf_counter()
        try:
            with self.session_factory() as session, session.begin():
                if not claim_inbox(session, self.inbox, self.name, env):
                    outcome = "duplicate"
                else:
                    sub.handler(session, env, data)
                    outcome = "handled"
        except PermanentError as exc:
            log.error("%s: parking %s %s: %s", self.name, env.type, env.id, exc)
            delivery.park("rejected", str(exc))
            self._settle("parked")
            return
        except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then parked
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
            attempt = delivery.retries + 1
            if attempt <= self.topology.max_retries:
                delay = self.topology.delay_for(attempt)
                log.warning("%s: %s %s failed (attempt %d), retry in %.1fs: %s",
                            self.name, env.type, env.id, attempt, delay, exc)
                delivery.retry(delay, error)
                self._settle("retried")
            else:
                log.error("%s: parking %s %s after %d retries: %s",
                          self.name, env.type, env.id, delivery.retries, exc)
                delivery.park("retries-exhausted", error)
                self._settle("parked")
            return
        finally:
            reset_context(token)
            HANDLER_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        delivery.ack()
        self._settle(outcome)
