"""Every mapped class of the support database, gathered so the metadata is complete (used by
the migrations' env and the composition root)."""

from __future__ import annotations

from .appointments.models import Appointment, AppointmentChange
from .complaints.models import AccountabilityEntry, Complaint, ComplaintApproval, ComplaintStep
from .db import INBOX, OUTBOX, Base, CodeCounter, NoticeSent
from .faults.models import FaultUpdate, MajorFault
from .policy.models import SupportPolicyChange, SupportPolicyRow
from .readmodel.models import KnownAccount
from .sla.models import SlaClockRow, SlaLedger
from .tickets.models import Ticket, TicketContact, TicketHistory
from .visits.models import DeliveredProject, ReturnVisit, VisitScript

__all__ = [
    "INBOX",
    "OUTBOX",
    "AccountabilityEntry",
    "Appointment",
    "AppointmentChange",
    "Base",
    "CodeCounter",
    "Complaint",
    "ComplaintApproval",
    "ComplaintStep",
    "DeliveredProject",
    "FaultUpdate",
    "KnownAccount",
    "MajorFault",
    "NoticeSent",
    "ReturnVisit",
    "SlaClockRow",
    "SlaLedger",
    "SupportPolicyChange",
    "SupportPolicyRow",
    "Ticket",
    "TicketContact",
    "TicketHistory",
    "VisitScript",
]
