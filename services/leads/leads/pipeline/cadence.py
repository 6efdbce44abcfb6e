"""Follow-up cadence rules: which reminders are due for a lead at a given instant.

Rules (seeds digest §1.6, §1.4A/B/C):
- ``first_contact_overdue``: an assigned lead not contacted within ``first_contact_days`` (1 week,
  「应在一周内与客户进行沟通」) of its assignment.
- ``trade_show_unanswered_escalation`` / ``trade_show_unanswered_breach``: a trade-show lead not
  answered within 1 week (escalated to the manager) / 2 weeks (breach)
  (「所有销售线索须在1周(最多2周)内回应」).
- ``key_lead_stale``: a key lead (class A) with no contact for a week (「每个星期…至少1次以上的沟通」).
- ``follow_up_planned``: the tracking plan's next date (《客户追踪表》) has come and nobody has
  contacted the customer since it began.
- ``protection_expiring`` (7 days before), ``protection_expired`` and ``protection_claimable`` from
  the owner's protection (see ``leads.protection``).

Each reminder has a stable ``key`` (lead, kind, and the instant that started its clock) so a
scheduler emits each once: a new assignment, a new contact or a renewed protection starts a new
clock and therefore a new key. Time is a parameter; nothing here reads the clock.

Choices (§9.12, §9.15):
- Durations are calendar days to the exact instant; a reminder is due from ``due_at`` inclusive.
- §9.15 the trade-show clock starts when the show ended if that is known, else at lead capture.
- "Contacted"/"answered" means any recorded contact by anyone (the customer heard from us);
  only protection is personal to the owner (qualifying contacts).
- Trade-show leads get the trade-show rules instead of ``first_contact_overdue`` (one clock, not two).
- Closed leads (won / lost / terminated) get no reminders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from leads.ownership.rules import Contact, OwnedLead, protection_state
from leads.policy.rules import LeadPolicy, require_aware

TRADE_SHOW = "trade_show"

FIRST_CONTACT_OVERDUE = "first_contact_overdue"
TRADE_SHOW_ESCALATION = "trade_show_unanswered_escalation"
TRADE_SHOW_BREACH = "trade_show_unanswered_breach"
KEY_LEAD_STALE = "key_lead_stale"
FOLLOW_UP_PLANNED = "follow_up_planned"
PROTECTION_EXPIRING = "protection_expiring"
PROTECTION_EXPIRED = "protection_expired"
PROTECTION_CLAIMABLE = "protection_claimable"
_PROTECTION_KINDS = (PROTECTION_EXPIRING, PROTECTION_EXPIRED, PROTECTION_CLAIMABLE)


@dataclass(frozen=True)
class CadenceFacts:
    lead_id: str
    owner: str
    registered_at: datetime
    source: str
    contacts: tuple[Contact, ...] = ()
    assigned_at: datetime | None = None  # when the current owner was assigned (None = self-registered)
    captured_at: datetime | None = None  # trade-show: when the lead was captured
    trade_show_ended_at: datetime | None = None
    tracking_class: str | None = None
    tracking_class_since: datetime | None = None
    next_follow_up_at: datetime | None = None  # the tracking plan's next date
    out_of_town: bool = False
    closed: bool = False


@dataclass(frozen=True)
class Reminder:
    kind: str
    due_at: datetime
    escalate_to: str | None  # None: the owner only; "manager": the owner's manager too
    key: str


def _key(facts: CadenceFacts, kind: str, clock: datetime) -> str:
    return f"{facts.lead_id}:{kind}:{clock.isoformat()}"


def _contacted_between(contacts: Sequence[Contact], start: datetime, now: datetime) -> bool:
    return any(start <= c.at <= now for c in contacts)


def scheduled_reminders(
    facts: CadenceFacts, now: datetime, policy: LeadPolicy | None = None
) -> list[Reminder]:
    """Every reminder whose condition holds at ``now``, due or not yet due, sorted by due time."""
    policy = policy or LeadPolicy()
    require_aware(now, "now")
    if facts.closed:
        return []
    contacts = tuple(c for c in facts.contacts if require_aware(c.at, "contact time") <= now)
    out: list[Reminder] = []

    if facts.source == TRADE_SHOW:
        start = facts.trade_show_ended_at or facts.captured_at or facts.registered_at
        require_aware(start, "trade-show start")
        if not _contacted_between(contacts, start, now):
            for kind, days, who in (
                (TRADE_SHOW_ESCALATION, policy.trade_show_escalation_days, "manager"),
                (TRADE_SHOW_BREACH, policy.trade_show_breach_days, "manager"),
            ):
                out.append(Reminder(kind, start + timedelta(days=days), who, _key(facts, kind, start)))
    elif facts.assigned_at is not None:
        start = require_aware(facts.assigned_at, "assigned_at")
        if not _contacted_between(contacts, start, now):
            due = start + timedelta(days=policy.first_contact_days)
            out.append(Reminder(FIRST_CONTACT_OVERDUE, due, None, _key(facts, FIRST_CONTACT_OVERDUE, start)))

    if facts.tracking_class in policy.key_lead_classes:
        clock = max(
            [facts.registered_at]
            + ([facts.tracking_class_since] if facts.tracking_class_since else [])
            + [c.at for c in contacts]
        )
        due = clock + timedelta(days=policy.key_lead_contact_days)
        out.append(Reminder(KEY_LEAD_STALE, due, None, _key(facts, KEY_LEAD_STALE, clock)))

    if facts.next_follow_up_at is not None:
        planned = require_aware(facts.next_follow_up_at, "next_follow_up_at")
        if not _contacted_between(contacts, planned, now):
            out.append(Reminder(FOLLOW_UP_PLANNED, planned, None,
                                _key(facts, FOLLOW_UP_PLANNED, planned)))

    state = protection_state(
        OwnedLead(facts.owner, facts.registered_at, facts.out_of_town), contacts, now, policy
    )
    anchor = state.anchor_at
    out.append(
        Reminder(PROTECTION_EXPIRING, state.expiring_from, None, _key(facts, PROTECTION_EXPIRING, anchor))
    )
    out.append(
        Reminder(PROTECTION_EXPIRED, state.protected_until, None, _key(facts, PROTECTION_EXPIRED, anchor))
    )
    out.append(
        Reminder(
            PROTECTION_CLAIMABLE, state.claimable_at, "manager", _key(facts, PROTECTION_CLAIMABLE, anchor)
        )
    )
    return sorted(out, key=lambda r: (r.due_at, r.kind))


def due_reminders(facts: CadenceFacts, now: datetime, policy: LeadPolicy | None = None) -> list[Reminder]:
    """Reminders due at ``now`` (due_at <= now) whose condition still holds. Emit each ``key`` once.

    Of the protection reminders only the latest due one is returned (a scheduler that was down does
    not send "expiring" for a lead that has already expired).
    """
    due = [r for r in scheduled_reminders(facts, now, policy) if r.due_at <= now]
    protection = [r for r in due if r.kind in _PROTECTION_KINDS]
    if len(protection) > 1:
        latest = max(protection, key=lambda r: _PROTECTION_KINDS.index(r.kind))
        due = [r for r in due if r.kind not in _PROTECTION_KINDS or r is latest]
    return due


def next_due_at(facts: CadenceFacts, now: datetime, policy: LeadPolicy | None = None) -> datetime | None:
    """When the scheduler should look at this lead again (the earliest reminder not yet due)."""
    upcoming = [r.due_at for r in scheduled_reminders(facts, now, policy) if r.due_at > now]
    return min(upcoming) if upcoming else None
