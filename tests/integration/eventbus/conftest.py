"""The sample service against real PostgreSQL and RabbitMQ, with its workers as real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import kombu
import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text
from sqlalchemy.engine import Engine, make_url

from eventbus import ServiceBus
from eventbus.testing import wait_for

from . import sample_service as sample

SAMPLE = Path(sample.__file__)
T = TypeVar("T")


class Worker:
    """One worker process of the sample service; only ever signalled by its own PID."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, str(SAMPLE), *args], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def kill(self) -> int:
        """SIGKILL: no handler, no cleanup, mid-whatever it was doing."""
        if not self.exited():
            os.kill(self.pid, signal.SIGKILL)
        return self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 15) -> int:
        if not self.exited():
            os.kill(self.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def close(self) -> None:
        try:
            self.kill()
        finally:
            self._log.close()

    def tail(self, lines: int = 25) -> str:
        text_ = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text_[-lines:])


class SampleHarness:
    """Database, bus, worker processes, operator CLI and broker clean-up for one test."""

    def __init__(self, pg_url: str, amqp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pg_url, self.amqp_url, self.tmp_path = pg_url, amqp_url, tmp_path
        self.monkeypatch = monkeypatch
        self.workers: list[Worker] = []
        self.extra_queues: list[str] = []
        self._bus: ServiceBus | None = None
        monkeypatch.setenv("SAMPLE_DATABASE_URL", pg_url)
        monkeypatch.setenv("EVENTS_BROKER_URL", amqp_url)
        monkeypatch.setenv("EVENTS_RETRY_DELAYS", "0.2,0.4")
        monkeypatch.setenv("EVENTS_MAX_RECONNECTS", "10")
        monkeypatch.setenv("LOG_LEVEL", "INFO")
        monkeypatch.setenv("PYTHONUNBUFFERED", "1")
        # Workers are killed in these tests, PostgreSQL never is: durable-on-fsync buys nothing
        # here and costs most of the time per event.
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = make_url(pg_url).database
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        admin.dispose()
        self.engine: Engine = sample.make_engine(pg_url)
        sample.create_schema(self.engine)

    # --- configuration and the in-process bus ----------------------------------------------
    def use_broker(self, amqp_url: str) -> None:
        """Point this test (and its workers) at another broker URL, e.g. a private vhost."""
        assert self._bus is None, "configure before the bus is built"
        self.amqp_url = amqp_url
        self.monkeypatch.setenv("EVENTS_BROKER_URL", amqp_url)

    def setenv(self, **values: str) -> None:
        """Settings for this process and every worker started afterwards (before ``bus``)."""
        assert self._bus is None, "configure before the bus is built"
        for key, value in values.items():
            self.monkeypatch.setenv(key, value)

    @property
    def bus(self) -> ServiceBus:
        if self._bus is None:
            self._bus = sample.make_bus(self.engine, self.amqp_url)
        return self._bus

    # --- processes -------------------------------------------------------------------------
    def start_worker(self, *args: str, **env: str) -> Worker:
        """``python sample_service.py run``; ``env`` adds worker-only settings."""
        self.bus  # noqa: B018 - fixes the configuration, as the workers see it
        log = self.tmp_path / f"worker-{len(self.workers)}.log"
        worker = Worker(list(args or ["run"]), {**os.environ, **env}, log)
        self.workers.append(worker)
        return worker

    def cli(self, *args: str, **env: str) -> Any:
        """The operator's view: ``python sample_service.py parked`` etc., parsed from JSON."""
        done = subprocess.run([sys.executable, str(SAMPLE), *args], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{args} failed:\n{done.stderr[-3000:]}"
        return json.loads(done.stdout)

    def wait(self, probe: Callable[[], T], timeout: float, message: str, interval: float = 0.05) -> T:
        """``wait_for`` that shows the workers' logs when it times out."""
        try:
            return wait_for(probe, timeout=timeout, interval=interval, message=message)
        except AssertionError as exc:
            logs = "\n".join(f"--- worker {w.pid} (exit {w.proc.poll()}) ---\n{w.tail()}"
                             for w in self.workers)
            raise AssertionError(f"{exc}\n{logs}") from None

    # --- data ------------------------------------------------------------------------------
    def emit(self, count: int, start: int = 0, batch: int = 100, fault: str | None = None) -> list[str]:
        return sample.emit(self.bus, count, start=start, batch=batch, fault=fault)

    def set_fault(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(sample.faults).values(name=name))

    def clear_faults(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sample.faults))

    def effect_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sample.effects.c.event_id, func.count())
                                .group_by(sample.effects.c.event_id)).all()
        return {event_id: count for event_id, count in rows}

    def handled(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(sample.effects)).scalar_one())

    def wait_handled(self, ids: list[str], timeout: float) -> None:
        self.wait(lambda: self.handled() >= len(ids) and set(self.effect_counts()) >= set(ids),
                  timeout=timeout, message=f"{len(ids)} events handled", interval=0.1)

    def assert_exactly_once(self, ids: list[str]) -> None:
        """Every event took effect, none twice, nothing else did."""
        counts = self.effect_counts()
        missing = [i for i in ids if i not in counts]
        twice = {i: c for i, c in counts.items() if c != 1}
        assert not missing, f"{len(missing)} events never handled, e.g. {missing[:3]}"
        assert not twice, f"{len(twice)} events took effect more than once, e.g. {list(twice.items())[:3]}"
        assert sum(counts.values()) == len(ids) == len(set(ids))

    def unsent(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(sample.outbox)
                                    .where(sample.outbox.c.sent_at.is_(None))).scalar_one())

    def attempt_times(self, event_id: str) -> list[Any]:
        with self.engine.connect() as conn:
            query = (select(sample.attempts.c.at).where(sample.attempts.c.event_id == event_id)
                     .order_by(sample.attempts.c.id))
            return list(conn.execute(query).scalars())

    # --- broker ----------------------------------------------------------------------------
    def publish_raw(self, body: bytes, routing_key: str = sample.EVENT_TYPE) -> None:
        """Bytes straight onto the exchange, as a buggy or foreign producer would send them."""
        with kombu.Connection(self.amqp_url, connect_timeout=5) as conn:
            producer = conn.Producer()
            producer.publish(body, exchange=self.bus.topology.exchange, routing_key=routing_key,
                             content_type="application/octet-stream", content_encoding="binary",
                             delivery_mode=2)

    def queue_depth(self, queue: str) -> int:
        with kombu.Connection(self.amqp_url, connect_timeout=5) as conn:
            return int(conn.channel().queue_declare(queue=queue, passive=True).message_count)

    def close(self) -> None:
        errors: list[BaseException] = []
        for worker in self.workers:
            try:
                worker.close()
            except Exception as exc:
                errors.append(exc)
        if self._bus is not None:
            self._bus.broker.close()
        t = self.bus.topology  # the names this test's settings give, whoever declared them
        queues = [t.queue, t.parking_queue, *(t.retry_queue(d) for d in set(t.retry_delays)),
                  *self.extra_queues]
        with kombu.Connection(self.amqp_url, connect_timeout=5) as conn:
            channel = conn.channel()
            for name in queues:
                channel.queue_delete(queue=name)
            for name in (t.exchange, t.dlx):
                channel.exchange_delete(exchange=name)
        self.engine.dispose()
        if errors:
            raise errors[0]


@pytest.fixture
def sample_harness(pg_url: str, amqp_url: str, isolated_bus: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[SampleHarness]:
    harness = SampleHarness(pg_url, amqp_url, tmp_path, monkeypatch)
    try:
        yield harness
    finally:
        harness.close()


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def private_vhost(amqp_url: str, isolated_bus: str) -> Iterator[str]:
    """A vhost of this test's own (its URL), so that closing *all* connections with
    ``rabbitmqctl close_all_connections --vhost`` cannot hit anyone else's on a shared broker."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("needs rabbitmqctl on this machine")
    vhost = f"crm-test-{isolated_bus}"
    parts = urlsplit(amqp_url)
    try:
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "--vhost", vhost, parts.username or "guest", ".*", ".*", ".*")
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"rabbitmqctl cannot manage this broker: {exc}")
    try:
        yield parts._replace(path="/" + quote(vhost, safe="")).geturl()
    finally:
        rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def harness_in_private_vhost(private_vhost: str, sample_harness: SampleHarness) -> SampleHarness:
    sample_harness.use_broker(private_vhost)
    return sample_harness
