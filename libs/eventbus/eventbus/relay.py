"""Outbox relay: moves committed outbox rows to the broker, in order of commit, in batches.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so replicas split the backlog
instead of racing; a row is marked sent only after the broker confirmed it, so a crash
re-publishes (consumers dedupe) and never loses. The relay sleeps until woken: by
``after_commit`` in its own process, by ``LISTEN crm_outbox`` for commits made by other
processes, and by a slow safety poll for anything both missed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Select, Table, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from servicedb import writes
from telemetry import is_database_outage, outage

from .broker import Broker, OutgoingMessage, PublishError
from .metrics import OUTBOX_PUBLISHED, RELAY_DATABASE_ERRORS, RELAY_FAILURES
from .store import NOTIFY_CHANNEL, register_waker, unregister_waker

log = logging.getLogger("eventbus.relay")


class OutboxRelay:
    IDLE_TICK = 1.0  # seconds between broker keep-alive ticks while waiting
    # Batches written before the oldest one's confirms are awaited (PostgreSQL; 1 = one
    # batch at a time, as before issue 12: publish, wait for the confirms, mark, commit).
    WINDOW = 4

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        broker: Broker,
        *,
        service: str,
        batch_size: int = 100,
        window: int | None = None,
        safety_poll: float = 5.0,
        retention: timedelta = timedelta(days=7),
        inbox: Table | None = None,
        inbox_retention: timedelta = timedelta(days=30),
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.broker = broker
        self.service = service
        self.batch_size = batch_size
        self.safety_poll = safety_poll
        self.retention = retention
        # The inbox only has to outlive any redelivery; a month is far past retries and replays.
        self.inbox = inbox
        self.inbox_retention = inbox_retention
        self.window = max(1, window or self.WINDOW)
        self._unsent = self._unsent_batch()  # built once: the relay runs it at every wake-up
        self.wake = threading.Event()
        self._last_prune = float("-inf")  # first prune at the first idle moment
        # Series exist from the start (at 0), so alerts on their increase see the first one.
        for counter in (OUTBOX_PUBLISHED, RELAY_FAILURES, RELAY_DATABASE_ERRORS):
            counter.labels(service)

    def _unsent_batch(self) -> Select[Any]:
        """The next batch of unsent rows, locked; rows other relays hold are skipped."""
        o = self.outbox
        return (select(o.c.id, o.c.event_id, o.c.event_type, o.c.envelope)
                .where(o.c.sent_at.is_(None)).order_by(o.c.id).limit(self.batch_size)
                .with_for_update(skip_locked=True))

    def _claim(self, session: Session) -> tuple[list[int], list[OutgoingMessage]]:
        """The next batch's ids and messages (its rows locked in ``session``'s transaction)."""
        rows = writes.execute(session, self._unsent)
        return [r[0] for r in rows], [
            OutgoingMessage(routing_key=event_type, body=envelope.encode("utf-8"), message_id=event_id)
            for _, event_id, event_type, envelope in rows]

    def publish_batch(self) -> int:
        """Publish at most one batch; returns how many rows were sent.

        The rows stay locked (PostgreSQL) from the claim until they are marked sent, so a
        concurrent relay skips them; marking happens only after the broker confirmed all.
        A refused batch is rolled back except for its ``attempts``/``last_error`` columns,
        which tell an operator why the backlog grows.
        """
        with Session(self.engine) as session:
            ids, messages = self._claim(session)
            if not ids:
                return 0
            try:
                self.broker.publish(messages)
            except PublishError as exc:
                self._record_failure(session, ids, exc)
                raise
            self._mark_sent(session, ids)
            session.commit()
        OUTBOX_PUBLISHED.labels(self.service).inc(len(ids))
        return len(ids)

    def publish_window(self, stop: threading.Event | None = None) -> int:
        """Publish until a batch comes up short, with up to ``window`` batches awaiting their
        confirms: batch n+1 is claimed and written while n's confirms travel. Returns how many
        rows were sent (confirmed and marked).

        Each batch keeps its own transaction (its rows locked) until its confirms arrived;
        then its rows are marked sent and it commits, oldest first. When a batch fails (a
        nack, a timeout, a lost connection), it records the attempt as ``publish_batch``
        does and the batches after it roll back unmarked: they are published again, and
        consumers drop the copies through their inbox.
        """
        window = self.window if self.engine.dialect.name == "postgresql" else 1  # needs row locks
        inflight: deque[_InFlight] = deque()
        sent = 0
        more = True
        try:
            while True:
                more = more and not (stop is not None and stop.is_set())
                if more and len(inflight) < window:
                    batch = self._claim_and_send()
                    more = batch is not None and len(batch.ids) >= self.batch_size
                    if batch is not None:
                        inflight.append(batch)
                elif inflight:
                    sent += self._confirm(inflight.popleft())
                else:
                    break
        finally:
            for batch in inflight:  # not confirmed: rolled back, unmarked
                batch.session.close()
        return sent

    def _claim_and_send(self) -> _InFlight | None:
        session = Session(self.engine)
        try:
            ids, messages = self._claim(session)
            if not ids:
                session.close()
                return None
            nowait = getattr(self.broker, "publish_nowait", None)
            try:
                if nowait is None:  # a broker without the method: publish and wait at once
                    self.broker.publish(messages)
                    confirmed: Callable[[], None] = _nothing
                else:
                    confirmed = nowait(messages)
            except PublishError as exc:
                self._record_failure(session, ids, exc)
                raise
            return _InFlight(session, ids, confirmed)
        except BaseException:
            session.close()
            raise

    def _confirm(self, batch: _InFlight) -> int:
        try:
            try:
                batch.confirmed()
            except PublishError as exc:
                self._record_failure(batch.session, batch.ids, exc)
                raise
            self._mark_sent(batch.session, batch.ids)
            batch.session.commit()
        finally:
            batch.session.close()
        OUTBOX_PUBLISHED.labels(self.service).inc(len(batch.ids))
        return len(batch.ids)

    def _record_failure(self, session: Session, ids: list[int], exc: BaseException) -> None:
        o = self.outbox
        session.execute(update(o).where(o.c.id.in_(ids))
                        .values(attempts=o.c.attempts + 1, last_error=str(exc)[:2000]))
        session.commit()

    def _mark_sent(self, session: Session, ids: list[int]) -> None:
        o = self.outbox
        if self.engine.dialect.name == "postgresql":
            # One array parameter: the same statement for every batch (compiled once).
            writes.execute(session, _pg_mark_sent(o), {"ids": ids})
        else:
            session.execute(update(o).where(o.c.id.in_(ids)).values(sent_at=func.now()))

    def drain(self) -> int:
        """Publish until the outbox is empty (used by tests and at shutdown)."""
        total = 0
        while (n := self.publish_batch()) > 0:
            total += n
        return total

    def backlog(self) -> dict[str, object]:
        o = self.outbox
        with Session(self.engine) as session:
            count, oldest, attempts = session.execute(
                select(func.count(), func.min(o.c.created_at), func.max(o.c.attempts))
                .where(o.c.sent_at.is_(None))
            ).one()
            last_error = session.execute(
                select(o.c.last_error).where(o.c.sent_at.is_(None), o.c.last_error.is_not(None))
                .order_by(o.c.id.desc()).limit(1)
            ).scalar()
        if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
            oldest = oldest.replace(tzinfo=UTC)
        return {"unsent": int(count), "oldest_unsent_at": oldest.isoformat() if oldest else None,
                "max_attempts": int(attempts or 0), "last_error": last_error}

    def _prune(self) -> None:
        if time.monotonic() - self._last_prune < 600:
            return
        self._last_prune = time.monotonic()
        cutoff = datetime.now(UTC) - self.retention
        with Session(self.engine) as session, session.begin():
            session.execute(delete(self.outbox).where(self.outbox.c.sent_at < cutoff))
            if self.inbox is not None:
                inbox_cutoff = datetime.now(UTC) - self.inbox_retention
                session.execute(delete(self.inbox).where(self.inbox.c.processed_at < inbox_cutoff))

    def run(self, stop: threading.Event) -> None:
        register_waker(self.engine, self.wake)
        listener = None
        if self.engine.dialect.name == "postgresql":
            listener = threading.Thread(target=self._listen, args=(stop,), daemon=True,
                                        name=f"{self.service}-outbox-listen")
            listener.start()
        failures = 0
        broker, database = outage("broker"), outage("database")
        try:
            while not stop.is_set():
                try:
                    started = time.monotonic()
                    sent = self.publish_window(stop) if self.window > 1 else self.publish_batch()
                    failures = 0
                    broker.ok(started)
                    database.ok(started)
                except PublishError as exc:
                    # Only the broker's failures count here: this is the series the broker
                    # runbook alerts on, and a database outage must not page it.
                    failures += 1
                    RELAY_FAILURES.labels(self.service).inc()
                    delay = min(10.0, 0.2 * 2 ** min(failures, 6))
                    broker.failed(exc, "outbox relay", started)
                    log.debug("outbox publish failed (%s); retry in %.1fs", exc, delay)
                    stop.wait(delay)
                    continue
                except Exception as exc:  # database down etc.: keep the relay alive, back off
                    failures += 1
                    RELAY_DATABASE_ERRORS.labels(self.service).inc()
                    if is_database_outage(exc):
                        database.failed(exc, "outbox relay", started)
                    else:
                        log.exception("outbox relay error")
                    stop.wait(min(10.0, 0.2 * 2 ** min(failures, 6)))
                    continue
                if sent >= self.batch_size and self.window <= 1:
                    continue  # more waiting: no sleep (the window goes on until a short batch)
                self._wait_for_work(stop)
        finally:
            unregister_waker(self.engine, self.wake)

    def _wait_for_work(self, stop: threading.Event) -> None:
        """Sleep until woken, stopped or the safety poll is due; tick the broker meanwhile.

        Waiting in short slices is what makes ``stop`` take effect within a second (a single
        long wait kept a stopping worker up to ``safety_poll`` seconds, past its join timeout)
        and what keeps an idle broker connection's heartbeats flowing.
        """
        deadline = time.monotonic() + self.safety_poll
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            woken = remaining <= 0 or self.wake.wait(min(remaining, self.IDLE_TICK))
            self._housekeeping()  # also when woken: a busy relay must still prune
            if woken:
                break
        self.wake.clear()

    def _housekeeping(self) -> None:
        """Heartbeats and pruning (both rate-limited); a failure here must not stop the relay."""
        try:
            self.broker.idle()
            self._prune()
        except Exception as exc:
            if is_database_outage(exc):
                outage("database").failed(exc, "outbox housekeeping")
            else:
                log.exception("outbox relay housekeeping failed")

    def _listen(self, stop: threading.Event) -> None:
        """Turn PostgreSQL NOTIFYs from any process's commits into wake-ups."""
        import psycopg

        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.wake.set()  # catch up on anything committed while not listening
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect; the safety poll covers the gap
                # Part of the database outage the relay reports; not a line a second.
                log.debug("outbox LISTEN connection lost (%s); reconnecting", exc)
                outage("database").failed(exc, "outbox LISTEN")
                stop.wait(1.0)


@dataclass
class _InFlight:
    """A batch written to the broker, its rows still locked by its open transaction."""

    session: Session
    ids: list[int]
    confirmed: Callable[[], None]


def _nothing() -> None:
    pass


@lru_cache(maxsize=32)
def _pg_mark_sent(outbox: Table) -> Update:
    """``UPDATE … SET sent_at = now() WHERE id = ANY(:ids)``."""
    ids = bindparam("ids", type_=postgresql.ARRAY(BigInteger()))
    return update(outbox).where(outbox.c.id == any_(ids)).values(sent_at=func.now())
