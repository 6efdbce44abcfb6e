"""The e-mail / SMS dispatcher thread: it sleeps until the next message is due (the earliest
``next_attempt_at``, e.g. the end of quiet hours) instead of polling, claims what falls due within
``dispatch_ahead`` seconds before that moment (so a release of thousands is read and leased while
nothing is due yet), then hands each message to its channel exactly when due, spread over a small
pool of ``send_workers`` threads, and records the outcomes in batches.

Never earlier than due; never after its lease could run out (such a message is left to be claimed
again, so a slow provider cannot cause a second send while the first is still queued here)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus
from telemetry import is_database_outage, outage

from ..channels import Sender
from ..settings import Settings
from . import rules
from .models import Message
from .service import LEASE, Claimed, Outcome, dispatch_due, send_one

log = logging.getLogger(__name__)
CHUNK = 50  # messages per hand-off to a send thread (few hand-offs, still spread)
BATCH = 1000  # rows per claiming transaction
PREPARE_MAX = 50  # claiming transactions per pass at most (50,000 messages)
MARGIN = LEASE / 2  # not started when less than this is left of its lease


class MessageDispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        bus: ServiceBus,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        settings: Settings,
    ) -> None:
        self.session_factory, self.bus, self.senders, self.clock = session_factory, bus, senders, clock
        self.settings = settings
        self.ahead = timedelta(seconds=settings.dispatch_ahead)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None

    def wake(self) -> None:
        self._wake.set()

    def next_due(self) -> datetime | None:
        """The earliest moment anything is due (queued, deferred or a running-out lease)."""
        with self.session_factory() as session:
            return session.scalar(
                select(func.min(Message.next_attempt_at)).where(
                    Message.state.in_((rules.QUEUED, rules.DEFERRED, rules.SENDING))
                )
            )

    def _wait_until(self, due: datetime) -> bool:
        """Sleep until the service clock reaches ``due``; False if stopped or the clock does not
        get there in time (a clock that stands still)."""
        give_up = time.monotonic() + self.settings.dispatch_ahead + 5.0
        while (left := (due - self.clock()).total_seconds()) > 0:
            if time.monotonic() > give_up or self._stop.wait(min(left, 0.5)):
                return False
        return True

    def _send_chunk(self, chunk: list[Claimed]) -> list[Outcome]:
        out: list[Outcome] = []
        for item in chunk:
            if item.due > self.clock() and not self._wait_until(item.due):
                break
            now = self.clock()
            if now > item.lease_until - MARGIN:
                continue  # left to run out and be claimed again
            out.append(send_one(item, self.senders, now))
        return out

    def send_all(self, claimed: list[Claimed]) -> list[Outcome]:
        """Each message at its due time, in due order, over the send pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.send_workers, thread_name_prefix="notify-send")
        chunks = [claimed[i : i + CHUNK] for i in range(0, len(claimed), CHUNK)]
        outcomes: list[Outcome] = []
        for result in self._pool.map(self._send_chunk, chunks):
            outcomes += result
        return outcomes

    def run_once(self) -> Counter[str]:
        return dispatch_due(
            self.session_factory,
            self.bus,
            self.senders,
            self.clock,
            limit=BATCH,
            ahead=self.ahead,
            batches=PREPARE_MAX,
            send_all=self.send_all,
        )

    def pause(self) -> float:
        """Seconds to sleep: until ``dispatch_ahead`` before the next due message, at most
        ``dispatch_interval`` (messages queued by other processes are seen within that)."""
        nxt = self.next_due()
        pause = self.settings.dispatch_interval
        if nxt is not None:
            pause = min(pause, (nxt - self.clock()).total_seconds() - self.settings.dispatch_ahead)
        return max(0.0, pause)

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        self._stop = stop
        database = outage("database")

        def loop() -> None:
            while not stop.is_set():
                started = time.monotonic()
                pause = self.settings.dispatch_interval
                try:
                    done = self.run_once()
                    if done:
                        log.info("notify messages: %s", dict(done))
                    if done["claimed"] >= BATCH * PREPARE_MAX:
                        pause = 0.0  # more is due: at once
                    else:  # nothing claimable (e.g. locked by another replica): not a busy loop
                        pause = self.pause() if done["claimed"] else max(self.pause(), 0.05)
                    database.ok(started)
                except Exception as exc:
                    if is_database_outage(exc):
                        database.failed(exc, "notify-messages", started)
                    else:
                        log.exception("notify messages pass failed")
                if pause > 0:
                    self._wake.wait(pause)
                    self._wake.clear()
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)

        thread = threading.Thread(target=loop, daemon=True, name="notify-messages")
        thread.start()
        return [thread]
