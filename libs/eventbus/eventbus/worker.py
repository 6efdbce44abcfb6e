"""Worker process entrypoint and operator CLI, shared by every service.

``<service>-worker run`` runs the outbox relay and the consumer until SIGTERM/SIGINT;
``migrate`` brings the service's schema to the code's heads (or fails loudly); ``outbox``,
``parked``, ``replay``, ``discard`` and ``depths`` are the operator tools, which never migrate.

Exit codes: 0 done; 1 failed (the message says why); 2 bad usage; 3 nothing matched the given
message id (``replay --id``/``discard --id``).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import text

from telemetry import configure_logging as _configure_logging
from telemetry import is_database_outage, outage
from telemetry.http import metrics_payload
from telemetry.tracing import setup_tracing

from .broker import ParkedFilter
from .metrics import OUTBOX_UNSENT
from .runtime import ServiceBus

log = logging.getLogger("eventbus.worker")
EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3
SCHEMA_POLL = 2.0  # seconds between checks while waiting for a migration


class WorkerContext(Protocol):
    """What the worker needs of a service: its bus, and what runs beside it (schedulers)."""

    @property
    def bus(self) -> ServiceBus: ...

    def background(self, stop: threading.Event) -> list[threading.Thread]: ...


@runtime_checkable
class Migratable(Protocol):
    """A service with a schema of its own (``httpapi.ServiceContext``)."""

    @property
    def migrate_on_start(self) -> bool: ...

    def schema_problem(self) -> str | None: ...

    def migrate(self) -> dict[str, object]: ...


@dataclass
class BusOnly:
    """A ``WorkerContext`` with nothing beside the bus (the generic ``crm-events`` tools)."""

    bus: ServiceBus

    def background(self, stop: threading.Event) -> list[threading.Thread]:
        return []


class Health:
    """The worker's state as its probes report it."""

    def __init__(self, bus: ServiceBus, ctx: WorkerContext) -> None:
        self.bus = bus
        self.ctx = ctx
        self.threads: list[threading.Thread] = []
        self.started = threading.Event()  # threads running (the schema was usable)

    def alive(self) -> bool:
        return not self.started.is_set() or all(t.is_alive() for t in self.threads)

    def problem(self) -> str | None:
        """None when ready: threads running, broker connected (if consuming), database
        answering and its schema not behind the code."""
        if not self.started.is_set():
            return "waiting for the schema to be migrated"
        if not self.alive():
            return "a worker thread died"
        connected = getattr(self.bus.broker, "connected", None) if self.bus.subscriptions else None
        if connected is not None and not connected.is_set():
            return "not connected to the broker"
        try:
            started = time.monotonic()
            with self.bus.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            outage("database").ok(started)
            if isinstance(self.ctx, Migratable):
                return self.ctx.schema_problem()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            if is_database_outage(exc):
                outage("database").failed(exc, "readiness probe")
                return "database unavailable"
            return f"{type(exc).__name__}: {exc}"
        return None


def _health_server(host: str, port: int, health: Health) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers: dict[str, str] = {}
            if self.path == "/metrics":
                body, ctype = metrics_payload()
                status = 200
            else:
                if self.path == "/healthz":
                    ok, reason = health.alive(), None
                else:
                    reason = health.problem()
                    ok = reason is None
                status = 200 if ok else 503
                if not ok:
                    headers["Retry-After"] = "5"
                doc: dict[str, Any] = {"status": "ok" if ok else "unavailable", "service": health.bus.service}
                if reason:
                    doc["reason"] = reason
                body, ctype = json.dumps(doc).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
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


def _wait_for_schema(ctx: WorkerContext, stop: threading.Event) -> bool:
    """Block until the schema is usable (or ``stop``); True when it is."""
    if not isinstance(ctx, Migratable):
        return True
    waiting = False
    while not stop.is_set():
        try:
            started = time.monotonic()
            problem = ctx.schema_problem()
            outage("database").ok(started)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            outage("database").failed(exc, "schema check")
            problem = "database unavailable"
        if problem is None:
            if waiting:
                log.info("schema is at the code's heads; starting")
            return True
        if not waiting:
            log.warning("not starting yet: %s (checking every %.0f s)", problem, SCHEMA_POLL)
            waiting = True
        stop.wait(SCHEMA_POLL)
    return False


Background = Callable[[threading.Event], list[threading.Thread]]


def run(bus: ServiceBus, stop: threading.Event | None = None, background: Background | None = None,
        ctx: WorkerContext | None = None, handle_signals: bool = True) -> int:
    """Run the relay and consumer (and ``background``, e.g. a service's schedulers) until a
    signal or a dead thread stops them. With a ``ctx`` that has a schema, nothing starts until
    that schema is at the code's heads (migrated on start when its settings say so); the
    health server answers meanwhile (``/readyz`` 503 with the reason)."""
    stop = stop or threading.Event()
    ctx = ctx or BusOnly(bus)
    requested = threading.Event()  # a signal asked us to stop (vs. a thread that died)

    def _on_signal(*_: object) -> None:
        requested.set()
        stop.set()

    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _on_signal)
    setup_tracing(bus.service)  # off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    settings = bus.settings
    health = Health(bus, ctx)
    _watch_backlog(bus)
    server = None
    if settings.worker_health_port:
        server = _health_server(settings.worker_health_host, settings.worker_health_port, health)
    if isinstance(ctx, Migratable) and ctx.migrate_on_start:
        try:
            result = ctx.migrate()
        except Exception as exc:  # noqa: BLE001 - say why in one line; the supervisor retries
            log.error("migration at start failed: %s", exc)
            if server:
                server.shutdown()
            return EXIT_FAILED
        log.info("schema of %s: %s", bus.service, result)
    if not _wait_for_schema(ctx, stop):
        if server:
            server.shutdown()
        return 0 if requested.is_set() else EXIT_FAILED
    threads = bus.start_worker(stop, consumers=settings.consumer_threads)
    threads += (background or ctx.background)(stop)
    health.threads = threads
    health.started.set()
    log.info("%s worker running (%d threads)", bus.service, len(threads))
    while not stop.is_set():
        stop.wait(1.0)
        if not all(t.is_alive() for t in threads):
            log.error("a worker thread died; stopping so that the supervisor restarts the worker")
            stop.set()
    bus.relay.wake.set()
    for t in threads:
        t.join(timeout=10)
    if server:
        server.shutdown()
    bus.broker.close()
    # Exit non-zero when a thread died (not a requested stop) so a supervisor restarts us.
    return 0 if not any(t.is_alive() for t in threads) and requested.is_set() else EXIT_FAILED


def configure_logging(level: str = "INFO", fmt: str = "json", **static: Any) -> None:
    """Logging of a worker or tool process (see ``telemetry.configure_logging``)."""
    _configure_logging(level, fmt, **static)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 90s, 30m, 2h or 7d, not {value!r}")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Service worker and event-bus operator tools")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the outbox relay and event consumer (default)")
    sub.add_parser("migrate", help="bring the database schema to this code's version, or fail (exit 1)")
    sub.add_parser("outbox", help="show the outbox backlog (read-only)")
    sub.add_parser("depths", help="show queue depths (read-only)")
    parked = sub.add_parser("parked", help="list parked messages (read-only)")
    parked.add_argument("--limit", type=int, default=100)
    replay = sub.add_parser("replay", help="replay parked messages to this service's queue")
    group = replay.add_mutually_exclusive_group(required=True)
    group.add_argument("--id", help="the event id of one parked message (exit 3 if none has it)")
    group.add_argument("--all", action="store_true", help="every parked message")
    discard = sub.add_parser(
        "discard", help="remove parked messages for good: one by --id, or a filter with --yes")
    discard.add_argument("--id", help="the event id of one parked message (exit 3 if none has it)")
    discard.add_argument("--type", help="only messages of this event type")
    discard.add_argument("--older-than", type=_duration,
                         help="only messages parked longer ago than this (90s, 30m, 2h, 7d)")
    discard.add_argument("--all", action="store_true", help="every parked message")
    discard.add_argument("--yes", action="store_true", help="confirm a filter (it may remove many)")
    return parser


def _discard_filter(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ParkedFilter:
    if args.id:
        if args.type or args.older_than or args.all:
            parser.error("discard --id selects one message: give it alone")
        return ParkedFilter(message_id=args.id)
    if not (args.type or args.older_than or args.all):
        parser.error("discard needs --id ID, or --type/--older-than/--all with --yes")
    if not args.yes:
        parser.error("a filter can discard many messages: add --yes (list them first with 'parked')")
    return ParkedFilter(event_type=args.type, older_than=args.older_than)


def main(make_context: Callable[[], WorkerContext], argv: Sequence[str] | None = None) -> int:
    """The worker and operator CLI. ``make_context`` builds the service without migrating (its
    settings parsed once by the caller); ``run`` and ``migrate`` migrate explicitly."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    chosen = _discard_filter(parser, args) if command == "discard" else None
    try:
        ctx = make_context()
    except Exception as exc:  # noqa: BLE001 - a configuration error: say it in one line
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    bus = ctx.bus
    if command == "run":
        return run(bus, ctx=ctx)
    status = 0
    try:
        if command == "migrate":
            if not isinstance(ctx, Migratable):
                print("error: this tool has no schema to migrate; use <service>-worker migrate",
                      file=sys.stderr)
                return EXIT_USAGE
            out: object = ctx.migrate()
        elif command == "outbox":
            out = bus.outbox_backlog()
        elif command == "depths":
            out = bus.queue_depths()
        elif command == "parked":
            out = [p.to_dict() for p in bus.list_parked(args.limit)]
        elif command == "replay":
            count = bus.replay_parked(None if args.all else args.id)
            out = {"replayed": count}
            status = EXIT_NOT_FOUND if args.id and count == 0 else 0
        else:
            assert chosen is not None
            count = bus.discard_parked(chosen)
            out = {"discarded": count}
            status = EXIT_NOT_FOUND if chosen.message_id and count == 0 else 0
    except Exception as exc:  # noqa: BLE001 - fail loudly, in one line, with a non-zero exit
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"error: {command} failed: {type(exc).__name__}: {first}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        bus.broker.close()
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    if status == EXIT_NOT_FOUND:
        print(f"error: no parked message has the id {args.id}", file=sys.stderr)
    return status
