"""Shared bits of the benchmarks: where the servers are, scratch databases, a results table."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("CRM_BENCH_PG_URL",
                        os.environ.get("CRM_TEST_DATABASE_URL",
                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
AMQP_URL = os.environ.get("CRM_BENCH_AMQP_URL",
                          os.environ.get("CRM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"))


def scratch_database(prefix: str = "bench") -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    print(f"\n{title}\n+{line}+")
    for i, row in enumerate(cells):
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print(f"+{line}+")
    print(f"+{line}+", flush=True)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
LOCALCTL = ROOT / "deploy" / "local" / "localctl.py"


def free_port_block(count: int) -> int:
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65000:
            continue
        try:
            socks = []
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


class DistributedSystem:
    """A private copy of the distributed system (own databases, queues and ports) for a
    benchmark, started and purged with the same tool as `make up`. Logs at INFO by default,
    as `make up` and the images do: every request and event writes its line."""

    def __init__(self, web_workers: int = 2, proxy: str = "auto", rate_limit: str = "off",
                 log_level: str = "INFO") -> None:
        import sys
        import tempfile

        sys.path.insert(0, str(LOCALCTL.parent))
        from localctl import isolated_environment

        self.base = free_port_block(10)
        self.run_dir = tempfile.mkdtemp(prefix="crm-bench-")
        self.env = {**os.environ, **isolated_environment(uuid.uuid4().hex[:8], self.base, PG_URL,
                                                         AMQP_URL, self.run_dir),
                    "CRM_WEB_WORKERS": str(web_workers), "LOG_LEVEL": log_level,
                    "GATEWAY_RATE_LIMIT": rate_limit, "CRM_PROXY": proxy}
        self.gateway = f"http://127.0.0.1:{self.base}"
        # The Python gateway: the front door itself without nginx, behind it with nginx.
        self.gateway_app = f"http://127.0.0.1:{self.env['CRM_GATEWAY_APP_PORT']}"

    def service_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.base + 1 + index}"

    def __enter__(self) -> DistributedSystem:
        import subprocess
        import sys

        up = subprocess.run([sys.executable, str(LOCALCTL), "up"], env=self.env,
                            capture_output=True, text=True, timeout=240)
        if up.returncode != 0:
            self.__exit__()
            raise RuntimeError(f"system did not start:\n{up.stdout}\n{up.stderr}")
        return self

    def __exit__(self, *_: object) -> None:
        import subprocess
        import sys

        subprocess.run([sys.executable, str(LOCALCTL), "purge"], env=self.env, timeout=120,
                       capture_output=True)

    def wait_idle(self, timeout: float = 300.0, quiet: float = 1.0) -> float:
        """Wait until every service's queue has stayed empty for ``quiet`` seconds (the events
        of a set-up phase all handled), so a measurement does not start behind a backlog.
        Returns the seconds waited."""
        import kombu

        prefix = self.env["EVENTS_QUEUE_PREFIX"]
        started = time.monotonic()
        empty_since: float | None = None
        with kombu.Connection(AMQP_URL, connect_timeout=5) as conn:
            channel = conn.channel()
            try:
                while True:
                    ready = sum(channel.queue_declare(queue=f"{prefix}.{service}", passive=True).message_count
                                for service in ("leads", "accounts", "support", "notify"))
                    now = time.monotonic()
                    empty_since = (empty_since or now) if ready == 0 else None
                    if empty_since is not None and now - empty_since >= quiet:
                        return now - started
                    if now - started > timeout:
                        raise RuntimeError(f"queues still hold {ready} messages after {timeout:.0f} s")
                    time.sleep(0.1)
            finally:
                channel.close()

    def token(self, username: str) -> str:
        import httpx

        resp = httpx.post(f"{self.gateway}/api/v1/auth/token",
                          json={"username": username, "password": "crm-demo"}, timeout=10)
        resp.raise_for_status()
        return resp.json()["access_token"]


def machine_speed() -> str:
    """How fast this machine runs Python right now: the CPU time of a fixed loop (the same work
    on every run), so figures of different days or machines can be set side by side (the
    machines these benchmarks ran on differed up to 2x for the same code)."""
    started = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i
    ms = (time.process_time() - started) * 1000
    return f"machine speed reference: {ms:.0f} ms CPU for 2 million Python additions (lower is faster)"
