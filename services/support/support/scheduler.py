"""The support timers, one pass over each on the injected clock: SLA warnings / breaches /
escalations, appointment reminders, return visits due and overdue, grievances not resolved in
time, resolved tickets closing by timeout. Every pass claims its rows with ``SKIP LOCKED`` and
each notice with a unique key, so any number of worker replicas may run it at once."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus

from .appointments.service import run_reminders
from .complaints.service import run_grievances
from .sla.service import run_timers
from .tickets.service import run_auto_close
from .visits.service import run_due

log = logging.getLogger(__name__)


def run_all(session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime) -> Counter[str]:
    """One pass of every timer at ``now``; returns how many events of each type went out."""
    emitted: Counter[str] = Counter()
    emitted.update(run_timers(session_factory, bus, now))
    emitted.update(run_reminders(session_factory, bus, now))
    emitted.update(run_due(session_factory, bus, now))
    emitted.update(run_grievances(session_factory, bus, now))
    closed = run_auto_close(session_factory, bus, now)
    if closed:
        emitted["closed_by_timeout"] += closed
    return emitted


def job(
    session_factory: sessionmaker[Session], bus: ServiceBus, clock: Callable[[], datetime]
) -> Callable[[], None]:
    def run() -> None:
        emitted = run_all(session_factory, bus, clock())
        if emitted:
            log.info("support timers: %s", dict(emitted))

    return run
