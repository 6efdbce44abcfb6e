"""What a service's web process does while its database is away or its schema is behind.

- A request that meets a lost database answers **503** problem+json with ``Retry-After``
  (not 500), and the outage is logged once (``telemetry.outage``), not once per request.
- While the schema is behind the code (``MIGRATE_ON_START=0`` and nobody ran the migration
  yet), requests answer 503 as well instead of failing on missing tables; once the schema was
  seen at the code's heads it is not checked again per request.
- ``/readyz`` is false in both cases, so the orchestrator and the gateway stop routing here.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Iterable

from flask import Flask, Response, request
from sqlalchemy import exc as sa
from sqlalchemy import text

from telemetry import is_database_outage, outage

from .problems import problem_response
from .service import ServiceContext

RETRY_AFTER = "5"
UNGATED = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})


class SchemaGate:
    """Answers "is the schema usable?" cheaply: re-checked at most every ``interval`` seconds
    while it is not, never again once it was."""

    def __init__(self, context: ServiceContext, interval: float = 2.0) -> None:
        self.context = context
        self.interval = interval
        self.enabled = importlib.util.find_spec(f"{context.package}.migrations") is not None
        self._ready = not self.enabled
        self._problem: str | None = None
        self._next = 0.0
        self._lock = threading.Lock()

    def problem(self, fresh: bool = False) -> str | None:
        """None when usable; else why not. Raises the driver's error when the database is down."""
        if self._ready and not fresh:
            return None
        if not self.enabled:
            return None
        with self._lock:
            if fresh or time.monotonic() >= self._next:
                self._next = time.monotonic() + self.interval
                self._problem = self.context.schema_problem()
                self._ready = self._problem is None
            return self._problem


def readiness(context: ServiceContext, gate: SchemaGate,
              checks: Iterable[Callable[[], None]]) -> str | None:
    """None when ready, else the reason (for ``/readyz``)."""
    database = outage("database")
    try:
        started = time.monotonic()
        with context.bus.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database.ok(started)
        problem = gate.problem(fresh=True)
        if problem:
            return problem
        for check in checks:
            check()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        if is_database_outage(exc):
            database.failed(exc, "readiness probe")
            return "database unavailable"
        return f"{type(exc).__name__}: {exc}"
    return None


def install_dependency_checks(app: Flask, context: ServiceContext) -> SchemaGate:
    gate = SchemaGate(context)
    database = outage("database")

    def unavailable(exc: Exception) -> Response:
        if is_database_outage(exc):
            database.failed(exc, f"{request.method} {request.path}")
        return problem_response(503, "Service Unavailable",
                                "The service's database is unavailable; retry later.",
                                headers={"Retry-After": RETRY_AFTER})

    for error in (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, sa.DisconnectionError):
        app.register_error_handler(error, unavailable)

    @app.before_request
    def _schema_gate() -> Response | None:
        if request.path in UNGATED:
            return None
        problem = gate.problem()
        if problem:
            return problem_response(503, "Service Unavailable", problem,
                                    headers={"Retry-After": RETRY_AFTER})
        return None

    last_probe = [0.0]

    @app.after_request
    def _recovered(resp: Response) -> Response:
        # Only while an outage is on record, at most once a second: a cheap probe decides
        # whether it is over, so "recovered" is logged even where nothing polls /readyz.
        if database.down and resp.status_code < 500 and time.monotonic() - last_probe[0] >= 1.0:
            last_probe[0] = started = time.monotonic()
            try:
                with context.bus.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                database.ok(started)
            except Exception:  # noqa: BLE001, S110 - still down: the outage stays on record
                pass
        return resp

    return gate
