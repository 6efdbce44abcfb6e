"""Worker process entrypoint and operator CLI, shared by every service.

``<service>-worker run`` runs the outbox relay and the consumer until SIGTERM/SIGINT;
``outbox``, ``parked``, ``replay`` and ``depths`` are the operator tools.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import OUTBOX_UNSENT
from .runtime import ServiceBus

log = logging.getLogger("eventbus.worker")


def _health_server(host: str, port: int, bus: ServiceBus,
                   threads: list[threading.Thread]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, ctype, status = generate_latest(), CONTENT_TYPE_LATEST, 200
            else:
                alive = all(t.is_alive() for t in threads)
                connected = getattr(bus.broker, "connected", None)
                ready = alive and (connected is None or connected.is_set() or not bus.subscriptions)
                ok = alive if self.path == "/healthz" else ready
                status = 200 if ok else 503
                body = json.dumps({"status": "ok" if ok else "unavailable"}).encode()
                ctype = "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="worker-health").start()
    return server


def _watch_backlog(bus: ServiceBus) -> None:
    """Expose the outbox backlog on /metrics: the figure to alert on when the broker is away."""

    def unsent() -> float:
        try:
            return float(bus.outbox_backlog()["unsent"])  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - database down: report "unknown", not a stale number
            return float("nan")

    OUTBOX_UNSENT.labels(bus.service).set_function(unsent)


Background = Callable[[threading.Event], list[threading.Thread]]


def run(bus: ServiceBus, stop: threading.Event | None = None, background: Background | None = None) -> int:
    """Run the relay and consumer (and ``background``, e.g. a service's schedulers) until a
    signal or a dead thread stops them."""
    stop = stop or threading.Event()
    requested = threading.Event()  # a signal asked us to stop (vs. a thread that died)

    def _on_signal(*_: object) -> None:
        requested.set()
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_signal)
    settings = bus.settings
    threads = bus.start_worker(stop, consumers=settings.consumer_threads)
    if background is not None:
        threads += background(stop)
    server = None
    _watch_backlog(bus)
    if settings.worker_health_port:
        server = _health_server(settings.worker_health_host, settings.worker_health_port, bus, threads)
    log.info("%s worker running (%d threads)", bus.service, len(threads))
    while not stop.is_set():
        stop.wait(1.0)
        if not all(t.is_alive() for t in threads):
            stop.set()
    for t in threads:
        t.join(timeout=10)
    if server:
        server.shutdown()
    bus.broker.close()
    # Exit non-zero when a thread died (not a requested stop) so a supervisor restarts us.
    return 0 if not any(t.is_alive() for t in threads) and requested.is_set() else 1


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")


class WorkerContext(Protocol):
    """What the worker needs of a service: its bus, and what runs beside it (schedulers)."""

    @property
    def bus(self) -> ServiceBus: ...

    def background(self, stop: threading.Event) -> list[threading.Thread]: ...


@dataclass
class BusOnly:
    """A ``WorkerContext`` with nothing beside the bus (the generic ``crm-events`` tools)."""

    bus: ServiceBus

    def background(self, stop: threading.Event) -> list[threading.Thread]:
        return []


def main(make_context: Callable[[], WorkerContext], argv: Sequence[str] | None = None) -> int:
    """The worker and operator CLI. ``make_context`` builds the service, its settings parsed
    once by the caller."""
    parser = argparse.ArgumentParser(description="Service worker and event-bus operator tools")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the outbox relay and event consumer (default)")
    sub.add_parser("outbox", help="show the outbox backlog")
    sub.add_parser("depths", help="show queue depths")
    parked = sub.add_parser("parked", help="list parked messages")
    parked.add_argument("--limit", type=int, default=100)
    replay = sub.add_parser("replay", help="replay parked messages to this service's queue")
    group = replay.add_mutually_exclusive_group(required=True)
    group.add_argument("--id", help="the event id of one parked message")
    group.add_argument("--all", action="store_true", help="every parked message")
    args = parser.parse_args(argv)

    ctx = make_context()
    bus = ctx.bus
    command = args.command or "run"
    if command == "run":
        return run(bus, background=ctx.background)
    try:
        if command == "outbox":
            out: object = bus.outbox_backlog()
        elif command == "depths":
            out = bus.queue_depths()
        elif command == "parked":
            out = [p.to_dict() for p in bus.list_parked(args.limit)]
        else:
            out = {"replayed": bus.replay_parked(None if args.all else args.id)}
    finally:
        bus.broker.close()
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    return 0
