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
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .broker import Broker, OutgoingMessage, PublishError
from .metrics import OUTBOX_PUBLISHED, RELAY_FAILURES
from .store import NOTIFY_CHANNEL, register_waker, unregister_waker

log = logging.getLogger("eventbus.relay")


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        broker: Broker,
        *,
        service: str,
        batch_size: int = 100,
        safety_poll: float = 5.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.broker = broker
        self.service = service
        self.batch_size = batch_size
        self.safety_poll = safety_poll
        self.retention = retention
        self.wake = threading.Event()
        self._last_prune = 0.0

    def publish_batch(self) -> int:
        """Publish at most one batch; returns how many rows were sent."""
        o = self.outbox
        with Session(self.engine) as session, session.begin():
            rows = session.execute(
                select(o.c.id, o.c.event_id, o.c.event_type, o.c.envelope)
                .where(o.c.sent_at.is_(None))
                .order_by(o.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            self.broker.publish([
                OutgoingMessage(routing_key=r.event_type, body=r.envelope.encode("utf-8"),
                                message_id=r.event_id)
                for r in rows
            ])
            session.execute(
                update(o).where(o.c.id.in_([r.id for r in rows])).values(sent_at=func.now())
            )
        OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    def drain(self) -> int:
        """Publish until the outbox is empty (used by tests and at shutdown)."""
        total = 0
        while (n := self.publish_batch()) > 0:
            total += n
        return total

    def backlog(self) -> dict[str, object]:
        o = self.outbox
        with Session(self.engine) as session:
            count, oldest = session.execute(
                select(func.count(), func.min(o.c.created_at)).where(o.c.sent_at.is_(None))
            ).one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
            oldest = oldest.replace(tzinfo=UTC)
        return {"unsent": int(count), "oldest_unsent_at": oldest.isoformat() if oldest else None}

    def _prune(self) -> None:
        if time.monotonic() - self._last_prune < 600:
            return
        self._last_prune = time.monotonic()
        cutoff = datetime.now(UTC) - self.retention
        with Session(self.engine) as session, session.begin():
            session.execute(delete(self.outbox).where(self.outbox.c.sent_at < cutoff))

    def run(self, stop: threading.Event) -> None:
        register_waker(self.engine, self.wake)
        listener = None
        if self.engine.dialect.name == "postgresql":
            listener = threading.Thread(target=self._listen, args=(stop,), daemon=True,
                                        name=f"{self.service}-outbox-listen")
            listener.start()
        failures = 0
        try:
            while not stop.is_set():
                try:
                    sent = self.publish_batch()
                    failures = 0
                except (PublishError, OSError) as exc:
                    sent = 0
                    failures += 1
                    RELAY_FAILURES.labels(self.service).inc()
                    delay = min(10.0, 0.2 * 2 ** min(failures, 6))
                    log.warning("outbox publish failed (%s); retry in %.1fs", exc, delay)
                    stop.wait(delay)
                    continue
                except Exception:  # database down etc.: keep the relay alive, back off
                    failures += 1
                    log.exception("outbox relay error")
                    stop.wait(min(10.0, 0.2 * 2 ** min(failures, 6)))
                    continue
                if sent >= self.batch_size:
                    continue  # more waiting: no sleep
                self.wake.wait(self.safety_poll)
                self.wake.clear()
                self.broker.idle()
                self._prune()
        finally:
            unregister_waker(self.engine, self.wake)

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
            except psycopg.Error as exc:
                log.warning("outbox LISTEN connection lost (%s); reconnecting", exc)
                stop.wait(1.0)
