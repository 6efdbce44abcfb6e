"""A dependency that is down is reported once when it goes and once when it is back.

Without this, every thread that touches a lost database (relay, LISTEN, consumer, schedulers,
each web request) logged its own traceback, about twenty lines a second for as long as the
outage lasted. Trackers are per process and per dependency (``outage("database")``), shared by
everything in the process, so one outage is one warning and one "recovered" line.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("crm.outage")


def _describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    lines = str(error).strip().splitlines()
    # SQLAlchemy appends the statement and a link; the first line says what went wrong.
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")


class Outage:
    def __init__(self, dependency: str, logger: logging.Logger | None = None) -> None:
        self.dependency = dependency
        self.log = logger or log
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0
        self._recovered_at = float("-inf")

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException | str, where: str = "", started: float | None = None) -> bool:
        """Note a failure; logs a warning only for the first one of an outage (then DEBUG).
        Returns True for that first one. ``started``: an operation begun before the last
        recovery (a connection the outage broke, failing late) belongs to that outage and
        does not open a new one."""
        with self._lock:
            late = self._since is None and started is not None and started < self._recovered_at
            first = self._since is None and not late
            if first:
                self._since = time.monotonic()
            if not late:
                self._failures += 1
        what = _describe(error)
        fields = {"dependency": self.dependency, "outage": "started" if first else "ongoing"}
        if late:
            self.log.debug("%s: a late failure of work begun during the last outage%s: %s",
                           self.dependency, f" ({where})" if where else "", _describe(error),
                           extra=fields)
            return False
        if first:
            self.log.warning("%s unavailable%s: %s (further failures logged at DEBUG until it "
                             "recovers)", self.dependency, f" ({where})" if where else "", what,
                             extra=fields)
        else:
            self.log.debug("%s still unavailable%s: %s", self.dependency,
                           f" ({where})" if where else "", what, extra=fields)
        return first

    def ok(self, started: float | None = None) -> None:
        """Note a success; logs "recovered" once if it was down. ``started`` (``time.monotonic()``
        when the operation began): an operation already under way when the dependency went (a
        transaction finishing on another thread) proves nothing and does not end the outage, or
        one outage would be logged as several."""
        if self._since is None:  # the common case: no lock
            return
        with self._lock:
            if self._since is None or (started is not None and started < self._since):
                return
            since, failures = self._since, self._failures
            self._since, self._failures = None, 0
            self._recovered_at = time.monotonic()
        if since is not None:
            self.log.warning("%s recovered after %.1f s (%d failures)", self.dependency,
                             time.monotonic() - since, failures,
                             extra={"dependency": self.dependency, "outage": "recovered"})


    def reset(self) -> None:
        """Forget an outage without logging (a test's clean slate)."""
        with self._lock:
            self._since, self._failures = None, 0


_trackers: dict[str, Outage] = {}
_trackers_lock = threading.Lock()


def outage(dependency: str) -> Outage:
    """This process's tracker for ``dependency`` (e.g. ``database``, ``broker``)."""
    with _trackers_lock:
        tracker = _trackers.get(dependency)
        if tracker is None:
            tracker = _trackers[dependency] = Outage(dependency)
        return tracker


def is_database_outage(exc: BaseException) -> bool:
    """Errors that mean "the database cannot be reached or is refusing work right now", as
    opposed to a bug: connection failures, a pool with no connection left, server shutdown."""
    try:
        from sqlalchemy import exc as sa
    except ImportError:  # pragma: no cover - every service has SQLAlchemy
        return False
    if isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.TimeoutError | sa.DisconnectionError):
        # A deadlock or serialization failure (SQLSTATE class 40) is an OperationalError too,
        # but the database is there: that is contention, not an outage.
        return not str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "").startswith("40")
    return bool(getattr(exc, "connection_invalidated", False))
