"""The cadence scheduler: turn due ``cadence`` reminders into events, each exactly once.

Cheap by construction: it reads only open, live leads whose ``cadence_due_at`` has come (or is NULL,
i.e. something changed), in batches locked with SKIP LOCKED, and stores on each lead when to look
again (``cadence.next_due_at``). The reminder row and the event are written in one transaction, and
``lead_reminders_sent.key`` is unique, so overlapping or repeated runs emit each reminder once.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus
from leads.intake import rules as domain
from leads.intake.models import Lead
from leads.ownership.service import owner_since
from leads.pipeline import cadence
from leads.pipeline.events import REMINDER_TYPES, reminder_payload
from leads.pipeline.models import LeadReminderSent
from leads.pipeline.service import NEVER, cadence_facts, contacts_by_lead, lead_policy
from leads.policy.rules import LeadPolicy, require_aware

log = logging.getLogger(__name__)
BATCH = 200


@dataclass
class CadenceRun:
    checked: int = 0
    emitted: Counter[str] = field(default_factory=Counter)  # event type → count

    def to_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "emitted": sum(self.emitted.values()),
                "by_type": dict(sorted(self.emitted.items()))}


def run_cadence(session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime,
                policy: LeadPolicy | None = None, batch: int = BATCH) -> CadenceRun:
    """One pass over the leads that need attention at ``now``; one transaction per batch."""
    require_aware(now, "now")
    result = CadenceRun()
    after = ""
    while True:
        with session_factory() as session, session.begin():
            rules = policy or lead_policy(session)
            leads = list(session.scalars(
                select(Lead)
                .where(Lead.status == domain.OPEN, Lead.merged_into.is_(None), Lead.id > after,
                       or_(Lead.cadence_due_at.is_(None), Lead.cadence_due_at <= now))
                .order_by(Lead.id).limit(batch).with_for_update(skip_locked=True)))
            if not leads:
                return result
            contacts = contacts_by_lead(session, [lead.id for lead in leads])
            since = owner_since(session, leads)
            for lead in leads:
                facts = cadence_facts(lead, contacts[lead.id], since[lead.id], rules.tz)
                for reminder in cadence.due_reminders(facts, now, rules):
                    if _claim(session, lead, reminder, now):
                        event_type = REMINDER_TYPES[reminder.kind]
                        bus.emit(session, event_type, reminder_payload(lead, reminder), subject=lead.id)
                        result.emitted[event_type] += 1
                # Internal bookkeeping: not a change of the lead (no version bump).
                lead.cadence_due_at = cadence.next_due_at(facts, now, rules) or now + NEVER
            result.checked += len(leads)
            after = leads[-1].id
        if len(leads) < batch:
            return result


def _claim(session: Session, lead: Lead, reminder: cadence.Reminder, now: datetime) -> bool:
    """Insert the reminder's row; False when it was sent before (the unique key says so)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(LeadReminderSent).values(
        key=reminder.key, lead_id=lead.id, kind=reminder.kind, due_at=reminder.due_at, sent_at=now,
        event_type=REMINDER_TYPES[reminder.kind],
    ).on_conflict_do_nothing(index_elements=["key"]).returning(LeadReminderSent.key)
    return session.execute(stmt).first() is not None


def start_cadence_thread(session_factory: sessionmaker[Session], bus: ServiceBus,
                         clock: Callable[[], datetime], stop: threading.Event,
                         interval: float) -> threading.Thread:
    """Run the scheduler every ``interval`` seconds until ``stop``; a failed pass is logged and retried
    on the next tick (the thread never dies of it)."""
    def loop() -> None:
        while not stop.is_set():
            try:
                run = run_cadence(session_factory, bus, clock())
                if run.emitted:
                    log.info("cadence: %s", run.to_dict())
            except Exception:
                log.exception("cadence pass failed")
            stop.wait(interval)

    thread = threading.Thread(target=loop, daemon=True, name=f"{bus.service}-cadence")
    thread.start()
    return thread
