"""Every event type support publishes and the accounts fields it reads (the contracts' index;
payload builders live with each capability)."""

from __future__ import annotations

from .appointments.events import PUBLISHED as APPOINTMENT_EVENTS
from .complaints.events import PUBLISHED as COMPLAINT_EVENTS
from .faults.events import PUBLISHED as FAULT_EVENTS
from .readmodel.events import ACCOUNT_OPENED, AccountEventIn, AccountOpenedIn, AccountSnapshotIn
from .sla.events import PUBLISHED as SLA_EVENTS
from .tickets.events import PUBLISHED as TICKET_EVENTS
from .tickets.events import TICKET_OPENED
from .visits.events import PUBLISHED as VISIT_EVENTS

PUBLISHED = (
    *TICKET_EVENTS,
    *SLA_EVENTS,
    *COMPLAINT_EVENTS,
    *APPOINTMENT_EVENTS,
    *VISIT_EVENTS,
    *FAULT_EVENTS,
)

__all__ = [
    "ACCOUNT_OPENED",
    "PUBLISHED",
    "TICKET_OPENED",
    "AccountEventIn",
    "AccountOpenedIn",
    "AccountSnapshotIn",
]
