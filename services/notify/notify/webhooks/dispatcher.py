"""Webhook delivery: a scheduler claims due deliveries and hands each to its endpoint's own
thread pool, so a slow or dead endpoint only ever occupies its own threads (at most
``webhook_workers`` in flight per endpoint) and never delays the others. Each endpoint also has
its own keep-alive connections (``ssrf.ConnectionPool``): a delivery to a healthy endpoint costs
no TCP/TLS handshake, and every new connection is checked (resolve, SSRF rules) before it opens.

An endpoint answering fast gets a deeper queue (``FAST_DEPTH`` x workers claimed ahead) so a
backlog drains in few scheduling passes; a slow or failing one stays at ``SLOW_DEPTH`` x workers,
and a claimed delivery whose lease would run out before its attempt could end is not started
(it is claimed again later), so nothing is sent twice because it waited too long."""

from __future__ import annotations

import functools
import json
import logging
import queue
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ..policy.rules import NotifyPolicy
from ..policy.service import current_policy
from ..settings import Settings
from . import rules, service, signing, ssrf
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)
Emit = Callable[[Session, str, dict[str, Any], str | None], object]
SLOW_DEPTH, FAST_DEPTH = 2, 8  # deliveries claimed per worker thread: unknown/slow, fast endpoint
FAST_SECONDS = 0.5  # an endpoint whose recent attempts succeed within this is "fast"


@dataclass(frozen=True)
class Job:
    delivery_id: str
    endpoint_id: str
    url: str
    secrets: list[str]
    event_id: str
    body: bytes
    lease_until: datetime | None = None


@dataclass(frozen=True)
class _Outcome:
    delivery_id: str
    policy: NotifyPolicy
    status: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None


class WebhookDispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        clock: Callable[[], datetime],
        emit: Emit | None = None,
        resolver: ssrf.Resolver | None = None,
        connector: ssrf.Connector | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.session_factory, self.settings, self.clock = session_factory, settings, clock
        self.emit: Emit = emit or (lambda *args: None)
        self.resolver = resolver or ssrf.system_resolver
        self.connector = connector or ssrf.system_connector
        self.ssl_context = ssl_context
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._connections: dict[str, ssrf.ConnectionPool] = {}
        self._fast: dict[str, bool] = {}  # endpoint → its last attempt succeeded within FAST_SECONDS
        self._inflight: dict[str, int] = defaultdict(int)
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._results: queue.Queue[_Outcome] = queue.Queue()
        self._flush_lock = threading.Lock()
        self._recorder: threading.Thread | None = None

    # --- scheduling ------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def _depth(self, endpoint_id: str) -> int:
        return self.settings.webhook_workers * (FAST_DEPTH if self._fast.get(endpoint_id) else SLOW_DEPTH)

    def _capacity(self, endpoint_id: str) -> int:
        return max(0, self._depth(endpoint_id) - self._inflight[endpoint_id])

    def connections(self, endpoint_id: str) -> ssrf.ConnectionPool:
        with self._lock:
            pool = self._connections.get(endpoint_id)
            if pool is None:
                pool = self._connections[endpoint_id] = ssrf.ConnectionPool(
                    self.settings.webhook_workers, keepalive=self.settings.webhook_keepalive
                )
            return pool

    def run_once(self, limit: int = 500) -> int:
        """Claim what is due (within each endpoint's capacity) and start it; returns how many."""
        now = self.clock()
        jobs: list[Job] = []
        with self.session_factory() as session, session.begin():
            policy = current_policy(session)
            lease = now + timedelta(seconds=policy.webhook_timeout_seconds * 2 + 5)
            # Each endpoint is claimed on its own, up to its free capacity: a dead endpoint's
            # backlog can never fill the batch and starve the healthy ones.
            endpoints = list(
                session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)))
            )
            with self._lock:
                capacity = {ep.id: min(self._capacity(ep.id), limit) for ep in endpoints}
                gone = [i for i in self._connections if i not in capacity]
                closed = [self._connections.pop(i) for i in gone]
            for pool in closed:  # disabled or deleted endpoints keep no connections
                pool.close()
            chosen: list[tuple[WebhookDelivery, WebhookEndpoint]] = []
            for ep in endpoints:
                if capacity[ep.id] <= 0:
                    continue
                chosen += [
                    (d, ep)
                    for d in session.scalars(
                        select(WebhookDelivery)
                        .where(
                            WebhookDelivery.endpoint_id == ep.id,
                            WebhookDelivery.state == rules.PENDING,
                            WebhookDelivery.next_attempt_at <= now,
                        )
                        .order_by(WebhookDelivery.next_attempt_at)
                        .limit(capacity[ep.id])
                        .with_for_update(skip_locked=True)
                    )
                ]
            if chosen:  # one UPDATE leases the whole batch
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([d.id for d, _ in chosen]))
                    .values(next_attempt_at=lease)
                    .execution_options(synchronize_session=False)
                )
            events = (
                {
                    e.id: e
                    for e in session.scalars(
                        select(WebhookEvent).where(WebhookEvent.id.in_({d.event_id for d, _ in chosen}))
                    )
                }
                if chosen
                else {}
            )
            bodies = {
                e.id: json.dumps(e.payload, ensure_ascii=False, separators=(",", ":")).encode()
                for e in events.values()
            }
            secrets = {ep.id: service.active_secrets(ep, now) for ep in endpoints}
            for d, ep in chosen:
                if d.event_id not in bodies:
                    continue
                jobs.append(Job(d.id, ep.id, ep.url, secrets[ep.id], d.event_id, bodies[d.event_id], lease))
        for job in jobs:
            self._submit(job, policy)
        return len(jobs)

    def _submit(self, job: Job, policy: NotifyPolicy) -> None:
        with self._lock:
            pool = self._pools.get(job.endpoint_id)
            if pool is None:
                pool = self._pools[job.endpoint_id] = ThreadPoolExecutor(
                    self.settings.webhook_workers, thread_name_prefix=f"webhook-{job.endpoint_id[:8]}"
                )
            self._inflight[job.endpoint_id] += 1
            future = pool.submit(self._attempt, job, policy)
            self._futures.add(future)
        future.add_done_callback(functools.partial(self._done, endpoint_id=job.endpoint_id))

    def _done(self, future: Future[None], *, endpoint_id: str) -> None:
        with self._lock:
            self._inflight[endpoint_id] -= 1
            self._futures.discard(future)
            # Another scheduling pass once half the endpoint's queue is free, not per attempt.
            low = self._inflight[endpoint_id] <= self._depth(endpoint_id) // 2
        if low:
            self._wake.set()

    # --- one attempt -----------------------------------------------------------------------
    def _check(self, url: str) -> ssrf.Target:
        """Before each new connection: resolve again and apply the SSRF rules."""
        return ssrf.check_url(
            url,
            development=self.settings.webhook_development,
            allow=self.settings.webhook_allow,
            resolver=self.resolver,
        )

    def _attempt(self, job: Job, policy: NotifyPolicy) -> None:
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        latency = 0
        now = self.clock()
        if job.lease_until is not None and now + timedelta(
            seconds=policy.webhook_timeout_seconds + 1
        ) > job.lease_until:
            return  # waited too long in the queue: the lease runs out and it is claimed again
        try:
            timestamp = int(now.timestamp())
            headers = signing.headers(job.event_id, timestamp, job.body, job.secrets)
            resp = self.connections(job.endpoint_id).post(
                job.url,
                job.body,
                headers,
                check=self._check,
                timeout=policy.webhook_timeout_seconds,
                max_bytes=policy.webhook_max_response_bytes,
                connector=self.connector,
                context=self.ssl_context,
            )
            status, excerpt, latency = resp.status, resp.excerpt, resp.latency_ms
            if not rules.succeeded(status):
                error = f"HTTP {status}"
        except ssrf.RefusedError as exc:
            error = f"refused: {exc}"
        except Exception as exc:  # noqa: BLE001 - any network failure is a failed attempt
            error = f"{type(exc).__name__}: {exc}"[:500]
        self._fast[job.endpoint_id] = error is None and latency <= FAST_SECONDS * 1000
        self._results.put(_Outcome(job.delivery_id, policy, status, latency, excerpt, error))
        if self._recorder is None:  # not started (tests, tools): record at once
            self.flush()

    def flush(self, first: _Outcome | None = None) -> int:
        """Record every finished attempt waiting in the queue, in one transaction: the outcome
        log costs one commit per batch, not one per delivery, and few connections."""
        with self._flush_lock:
            batch: list[_Outcome] = [first] if first is not None else []
            while len(batch) < 1000:
                try:
                    batch.append(self._results.get_nowait())
                except queue.Empty:
                    break
            if not batch:
                return 0
            try:
                with self.session_factory() as session, session.begin():
                    now = self.clock()
                    ok = [o for o in batch if rules.succeeded(o.status)]
                    service.record_successes(
                        session, [(o.delivery_id, o.status or 200, o.latency_ms, o.excerpt) for o in ok], now
                    )
                    for o in batch:
                        if not rules.succeeded(o.status):
                            service.record_attempt(
                                session,
                                o.delivery_id,
                                now,
                                o.policy,
                                self.emit,
                                status=o.status,
                                latency_ms=o.latency_ms,
                                excerpt=o.excerpt,
                                error=o.error,
                            )
            except Exception:  # the leases run out and the deliveries are tried again
                log.exception("recording %d webhook attempts failed", len(batch))
            return len(batch)

    # --- lifecycle -------------------------------------------------------------------------
    def drain(self, timeout: float = 30.0) -> None:
        """Wait for the attempts in flight and record them (tests, shutdown)."""
        with self._lock:
            futures = list(self._futures)
        for f in futures:
            f.result(timeout=timeout)
        while self.flush():
            pass

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Tests: schedule and wait until nothing is due now."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.run_once()
            self.drain(timeout)
            if not started:
                return
        raise TimeoutError("webhook deliveries still due")

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        def record() -> None:
            while not stop.is_set() or not self._results.empty():
                try:
                    first = self._results.get(timeout=0.2)
                except queue.Empty:
                    continue
                self.flush(first)

        def loop() -> None:
            while not stop.is_set():
                try:
                    self.run_once()
                except Exception:
                    log.exception("webhook scheduling pass failed")
                self._wake.wait(self.settings.webhook_interval)
                self._wake.clear()
            self.shutdown()

        self._recorder = threading.Thread(target=record, daemon=True, name="notify-webhooks-log")
        self._recorder.start()
        thread = threading.Thread(target=loop, daemon=True, name="notify-webhooks")
        thread.start()
        return [thread, self._recorder]

    def shutdown(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
            connections = list(self._connections.values())
            self._connections.clear()
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        for conns in connections:
            conns.close()
