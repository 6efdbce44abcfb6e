"""Idempotent consumer: one subscription table per service; effects and inbox row commit together.

For each delivery: decode the envelope (undecodable → parked at once), parse the payload with
the subscription's schema (invalid → parked at once), then in one transaction claim the inbox
row and run the handler. Commit, then ack. A redelivered event finds its inbox row and is
acked without effect. A handler that raises is retried after the topology's delays, then
parked; ``PermanentError`` skips the retries. A batch of deliveries shares one transaction
(a savepoint each), and a lost database holds the batch instead of burning its retries.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from telemetry import bound, outage, tracing

from .broker import Delivery, DependencyUnavailable
from .envelope import (
    Envelope,
    MalformedEvent,
    context_from_event,
    event_lag,
    reset_context,
    set_context,
)
from .metrics import EVENT_LAG_SECONDS, EVENTS_HANDLED, HANDLER_SECONDS
from .store import claim_inbox, claim_inbox_many
from .topology import ConsumerTopology

log = logging.getLogger("eventbus.consumer")

Handler = Callable[[Session, Envelope, dict[str, Any]], None]
BatchHandler = Callable[[Session, list[tuple[Envelope, dict[str, Any]]]], None]
OUTCOMES = ("handled", "duplicate", "ignored", "retried", "parked")


class PermanentError(Exception):
    """The event can never be handled as it is (e.g. it contradicts this service's data)."""


@dataclass(frozen=True)
class Subscription:
    handler: Handler
    # Turns ``envelope.data`` into what the handler reads; raising means "invalid payload".
    parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Optional: the handler's effects for several events in one call (one multi-row INSERT
    # instead of one an event). Consecutive events of a batch that shares one transaction go
    # through it together; everywhere else (a lone event, the savepoint-per-event fallback)
    # ``handler`` runs. It must do for n events exactly what ``handler`` does for each, and
    # must not emit events: it runs outside any one event's context, so what it emitted
    # would name no cause.
    handle_many: BatchHandler | None = None

    @classmethod
    def batched(cls, handle_many: BatchHandler,
                parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Subscription:
        """A subscription whose only handler takes lists (a lone event is a list of one)."""
        return cls(lambda session, env, data: handle_many(session, [(env, data)]), parse, handle_many)


class EventConsumer:
    # Claim a batch's inbox rows in one statement (False: one per event, as before; benchmarks).
    BATCH_CLAIMS = True

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
        for outcome in OUTCOMES:  # every series from 0, so "increase(...parked...)" sees the first
            EVENTS_HANDLED.labels(name, outcome)
        HANDLER_SECONDS.labels(name)
        EVENT_LAG_SECONDS.labels(name)

    def _settle(self, outcome: str, env: Envelope | None = None, delivery: Delivery | None = None,
                seconds: float | None = None, error: str | None = None) -> None:
        """Count the outcome and write the event's one log line (handled, duplicate, retried,
        parked at INFO/WARNING/ERROR; ignored at DEBUG). The line is written before the count
        moves, so whoever sees the count (a dashboard, a test) finds the line already there."""
        lag = event_lag(env) if outcome == "handled" and env is not None else None
        try:
            self._log_outcome(outcome, env, delivery, seconds, error, lag)
        finally:
            if lag is not None:
                EVENT_LAG_SECONDS.labels(self.name).observe(lag)
            EVENTS_HANDLED.labels(self.name, outcome).inc()

    def _log_outcome(self, outcome: str, env: Envelope | None, delivery: Delivery | None,
                     seconds: float | None, error: str | None, lag: float | None = None) -> None:
        level = {"handled": logging.INFO, "duplicate": logging.INFO, "ignored": logging.DEBUG,
                 "retried": logging.WARNING}.get(outcome, logging.ERROR)
        if not log.isEnabledFor(level):
            return
        fields: dict[str, Any] = {"consumer": self.name, "outcome": outcome}
        if env is not None:
            fields.update(event_id=env.id, event_type=env.type, causation_id=env.causationid,
                          correlation_id=env.correlationid, trace_id=_trace_id(env.traceparent))
        elif delivery is not None:
            fields.update(event_id=delivery.message_id, routing_key=delivery.routing_key)
        if delivery is not None and delivery.retries:
            fields["retries"] = delivery.retries
        if seconds is not None:
            fields["duration_ms"] = round(seconds * 1000, 2)
        if lag is not None:
            fields["lag_ms"] = round(lag * 1000, 1)
        if error:
            fields["error"] = error
        log.log(level, "%s %s %s", outcome, fields.get("event_type") or fields.get("routing_key"),
                fields.get("event_id"), extra={k: v for k, v in fields.items() if v is not None})

    def handle(self, delivery: Delivery) -> None:
        self.handle_batch([delivery])

    def handle_batch(self, deliveries: list[Delivery]) -> None:
        """Settle every delivery of the batch (ack, retry or park), or raise
        ``DependencyUnavailable`` having settled none of the valid ones.

        Valid events share one transaction: one commit (one disk flush) for the batch instead
        of one per event. When a handler fails, the batch is redone with a savepoint per event,
        so the failing event loses only its own effects; if even that commit fails, each event
        is tried alone, so one bad event can never fail its neighbours.
        """
        ready = [item for d in deliveries if (item := self._prepare(d)) is not None]
        if len(ready) == 1:
            self._handle_one(*ready[0])
        elif ready:
            self._handle_many(ready)

    def _prepare(self, delivery: Delivery) -> _Ready | None:
        """Decode and validate; what can never be handled is parked (or ignored) here."""
        try:
            env = Envelope.from_bytes(delivery.body)
        except MalformedEvent as exc:
            delivery.park("malformed", str(exc))
            self._settle("parked", delivery=delivery, error=f"malformed: {exc}")
            return None
        sub = self.subscriptions.get(env.type)
        if sub is None:  # a binding broader than the table; nothing to do
            delivery.ack()
            self._settle("ignored", env, delivery)
            return None
        try:
            data = sub.parse(env.data) if sub.parse else env.data
        except Exception as exc:  # noqa: BLE001 - any parse failure means a bad payload
            delivery.park("invalid-payload", f"{type(exc).__name__}: {exc}")
            self._settle("parked", env, delivery, error=f"invalid payload: {type(exc).__name__}: {exc}")
            return None
        return delivery, env, sub, data

    def _apply(self, session: Session, env: Envelope, sub: Subscription, data: dict[str, Any],
               claimed: set[str] | None = None) -> str:
        """Claim the inbox row and run the handler; ``claimed`` holds the ids of the batch whose
        rows were already claimed together (``claim_inbox_many``): each is used once."""
        with tracing.consumer_span(self.name, env.type, env.id, env.traceparent):
            cause = context_from_event(env)
            # Events the handler emits are children of this handling (its span, when traced).
            span = tracing.current_traceparent()
            token = set_context(replace(cause, traceparent=span or cause.traceparent))
            try:
                # Whatever the handler logs names the event it is handling.
                with bound(event_id=env.id, event_type=env.type, trace_id=_trace_id(env.traceparent)):
                    if claimed is not None:
                        if env.id not in claimed:
                            return "duplicate"
                        claimed.discard(env.id)  # the same event twice in a batch: once
                    elif not claim_inbox(session, self.inbox, self.name, env):
                        return "duplicate"
                    sub.handler(session, env, data)
                    return "handled"
            finally:
                reset_context(token)

    def _handle_one(self, delivery: Delivery, env: Envelope, sub: Subscription,
                    data: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            with self.session_factory() as session, session.begin():
                outcome = self._apply(session, env, sub, data)
        except Exception as exc:  # noqa: BLE001 - sorted out by _fail
            self._check_database(exc, [delivery])
            self._fail(delivery, env, exc, time.perf_counter() - started)
            return
        finally:
            HANDLER_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        delivery.ack()
        self._settle(outcome, env, delivery, time.perf_counter() - started)

    def _handle_many(self, ready: list[_Ready]) -> None:
        """Optimistically all in one plain transaction (the batch's inbox rows in one statement,
        then the handlers); if any handler fails, that is rolled back and the batch runs again
        with a savepoint per event, so only the failing events lose their effects."""
        started = time.perf_counter()
        try:
            with self.session_factory() as session, session.begin():
                if self.BATCH_CLAIMS:
                    claimed = claim_inbox_many(session, self.inbox, self.name, [item[1] for item in ready])
                    outcomes = self._apply_claimed(session, ready, claimed)
                else:
                    outcomes = [self._apply(session, env, sub, data) for _, env, sub, data in ready]
        except Exception as exc:  # noqa: BLE001 - decided below, event by event
            self._check_database(exc, [item[0] for item in ready])
            self._handle_isolated(ready)
            return
        finally:
            HANDLER_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        # Each event's line carries the time of the transaction it shared with its batch.
        elapsed = time.perf_counter() - started
        for (delivery, env, *_), outcome in zip(ready, outcomes, strict=True):
            delivery.ack()
            self._settle(outcome, env, delivery, elapsed)

    def _apply_claimed(self, session: Session, ready: list[_Ready], claimed: set[str]) -> list[str]:
        """Run the handlers of a batch whose inbox rows are claimed, in the batch's order;
        a run of consecutive events of one ``handle_many`` subscription is one call."""
        outcomes: list[str] = []
        run: list[tuple[Envelope, dict[str, Any]]] = []
        run_sub: Subscription | None = None

        def flush() -> None:
            if run_sub is not None and run:
                assert run_sub.handle_many is not None
                with bound(event_type=run[0][0].type, batch=len(run)):
                    run_sub.handle_many(session, list(run))
            run.clear()

        for _, env, sub, data in ready:
            if sub.handle_many is None:
                flush()
                run_sub = None
                outcomes.append(self._apply(session, env, sub, data, claimed))
                continue
            if env.id not in claimed:
                outcomes.append("duplicate")
                continue
            claimed.discard(env.id)  # the same event twice in a batch: once
            if sub is not run_sub:
                flush()
                run_sub = sub
            run.append((env, data))
            outcomes.append("handled")
        flush()
        return outcomes

    def _handle_isolated(self, ready: list[_Ready]) -> None:
        results: list[tuple[Delivery, Envelope, str | None, BaseException | None]] = []
        try:
            with self.session_factory() as session, session.begin():
                for delivery, env, sub, data in ready:
                    try:
                        with session.begin_nested():
                            outcome = self._apply(session, env, sub, data)
                    except Exception as exc:  # only this event's savepoint is lost
                        if _is_connectivity(exc):
                            raise
                        results.append((delivery, env, None, exc))
                    else:
                        results.append((delivery, env, outcome, None))
        except Exception as exc:  # noqa: BLE001 - nothing committed: give each event its own chance
            self._check_database(exc, [item[0] for item in ready])
            log.warning("%s: batch of %d not committed (%s); handling one by one",
                        self.name, len(ready), exc)
            for i, item in enumerate(ready):
                try:
                    self._handle_one(*item)
                except DependencyUnavailable as outage:
                    outage.pending = [later[0] for later in ready[i:]]
                    raise
            return
        for delivery, env, settled, error in results:
            if error is None:
                delivery.ack()
                self._settle(settled or "handled", env, delivery)
            else:
                self._fail(delivery, env, error)

    def _check_database(self, exc: BaseException, pending: list[Delivery]) -> None:
        """A lost database is an outage to wait out, not a fault of the event."""
        if _is_connectivity(exc) and not self._database_reachable():
            outage("database").failed(exc, f"consumer {self.name}")
            log.debug("%s: database unavailable (%s); holding %d deliveries",
                      self.name, exc, len(pending))
            raise DependencyUnavailable(exc, self._database_reachable, pending) from exc

    def _database_reachable(self) -> bool:
        started = time.monotonic()
        try:
            with self.session_factory() as session:
                session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False
        outage("database").ok(started)
        return True

    def _fail(self, delivery: Delivery, env: Envelope, exc: BaseException,
              seconds: float | None = None) -> None:
        if isinstance(exc, PermanentError):
            delivery.park("rejected", str(exc))
            self._settle("parked", env, delivery, seconds, error=f"rejected: {exc}")
            return
        error = f"{type(exc).__name__}: {exc}\n{''.join(traceback.format_exception(exc, limit=5))}"
        summary = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        attempt = delivery.retries + 1
        if attempt <= self.topology.max_retries:
            delay = self.topology.delay_for(attempt)
            delivery.retry(delay, error)
            self._settle("retried", env, delivery, seconds,
                         error=f"attempt {attempt} failed, retry in {delay:g} s: {summary}")
        else:
            delivery.park("retries-exhausted", error)
            self._settle("parked", env, delivery, seconds,
                         error=f"retries exhausted after {delivery.retries}: {summary}")


_Ready = tuple[Delivery, Envelope, Subscription, dict[str, Any]]


def _trace_id(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else None


def _is_connectivity(exc: BaseException) -> bool:
    """Errors that may mean the database went away (the probe then decides)."""
    return isinstance(exc, OperationalError | InterfaceError) or bool(
        getattr(exc, "connection_invalidated", False))
