"""The accounts timers, one pass on the injected clock: status rules (inactive / lost after the
policy's days without a purchase) and the group GM's periodic re-approval. Rows are claimed with
``SKIP LOCKED``, so any number of worker replicas may run it at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus

from .archive.service import apply_status_rules, reopen_due_reviews

log = logging.getLogger(__name__)


def run_all(session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime) -> dict[str, int]:
    with session_factory() as session, session.begin():
        status = apply_status_rules(session, bus.emit, now=now)
    with session_factory() as session, session.begin():
        reviews = reopen_due_reviews(session, now=now)
    return {"status_changed": status, "review_due": reviews}


def job(session_factory: sessionmaker[Session], bus: ServiceBus,
        clock: Callable[[], datetime]) -> Callable[[], None]:
    def run() -> None:
        done = run_all(session_factory, bus, clock())
        if any(done.values()):
            log.info("accounts timers: %s", done)

    return run
