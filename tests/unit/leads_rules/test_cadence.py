"""Cadence rules at their exact boundaries, with dedupe keys. The clock is always a parameter."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leads.ownership.rules import Contact, ContactKind
from leads.pipeline.cadence import (
    FIRST_CONTACT_OVERDUE,
    KEY_LEAD_STALE,
    PROTECTION_CLAIMABLE,
    PROTECTION_EXPIRED,
    PROTECTION_EXPIRING,
    TRADE_SHOW_BREACH,
    TRADE_SHOW_ESCALATION,
    CadenceFacts,
    due_reminders,
    next_due_at,
    scheduled_reminders,
)
from leads.policy.rules import LeadPolicy

SH = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
WEEK = timedelta(days=7)

ASSIGNED = CadenceFacts(lead_id="L1", owner="b", registered_at=T0, source="phone_call", assigned_at=T0)


def kinds(facts: CadenceFacts, now: datetime, policy: LeadPolicy | None = None) -> set[str]:
    return {r.kind for r in due_reminders(facts, now, policy)}


def test_first_contact_overdue_at_exactly_one_week() -> None:
    assert FIRST_CONTACT_OVERDUE not in kinds(ASSIGNED, T0 + WEEK - SECOND)
    (reminder,) = [r for r in due_reminders(ASSIGNED, T0 + WEEK) if r.kind == FIRST_CONTACT_OVERDUE]
    assert reminder.due_at == T0 + WEEK and reminder.escalate_to is None
    assert reminder.key == f"L1:{FIRST_CONTACT_OVERDUE}:{T0.isoformat()}"


def test_any_contact_after_assignment_clears_first_contact() -> None:
    contacted = replace(ASSIGNED, contacts=(Contact(T0 + timedelta(days=6), ContactKind.EMAIL, "b"),))
    assert FIRST_CONTACT_OVERDUE not in kinds(contacted, T0 + WEEK)
    # A contact recorded after `now` does not count yet.
    later = replace(ASSIGNED, contacts=(Contact(T0 + WEEK + SECOND, ContactKind.PHONE, "b"),))
    assert FIRST_CONTACT_OVERDUE in kinds(later, T0 + WEEK)


def test_reassignment_starts_a_new_clock_and_key() -> None:
    before = next(r for r in due_reminders(ASSIGNED, T0 + WEEK) if r.kind == FIRST_CONTACT_OVERDUE)
    again = replace(ASSIGNED, owner="c", assigned_at=T0 + timedelta(days=10))
    assert FIRST_CONTACT_OVERDUE not in kinds(again, T0 + timedelta(days=16))
    later = T0 + timedelta(days=17)
    after = next(r for r in due_reminders(again, later) if r.kind == FIRST_CONTACT_OVERDUE)
    assert after.key != before.key


def test_self_registered_lead_has_no_first_contact_clock() -> None:
    assert FIRST_CONTACT_OVERDUE not in kinds(replace(ASSIGNED, assigned_at=None), T0 + 2 * WEEK)


SHOW_END = T0 - timedelta(days=1)
TRADE = CadenceFacts(
    lead_id="T1",
    owner="b",
    registered_at=T0,
    source="trade_show",
    assigned_at=T0,
    captured_at=T0 - timedelta(days=3),
    trade_show_ended_at=SHOW_END,
)


def test_trade_show_escalation_at_one_week_breach_at_two_from_show_end() -> None:
    assert kinds(TRADE, SHOW_END + WEEK - SECOND) & {TRADE_SHOW_ESCALATION, TRADE_SHOW_BREACH} == set()
    esc = [r for r in due_reminders(TRADE, SHOW_END + WEEK) if r.kind == TRADE_SHOW_ESCALATION]
    assert esc[0].escalate_to == "manager" and esc[0].due_at == SHOW_END + WEEK
    assert TRADE_SHOW_BREACH not in kinds(TRADE, SHOW_END + 2 * WEEK - SECOND)
    assert {TRADE_SHOW_ESCALATION, TRADE_SHOW_BREACH} <= kinds(TRADE, SHOW_END + 2 * WEEK)
    # The trade-show rules replace the generic first-contact rule.
    assert FIRST_CONTACT_OVERDUE not in kinds(TRADE, SHOW_END + 2 * WEEK)


def test_trade_show_clock_falls_back_to_capture_time() -> None:
    captured = replace(TRADE, trade_show_ended_at=None)
    start = TRADE.captured_at
    assert start is not None
    assert TRADE_SHOW_ESCALATION not in kinds(captured, start + WEEK - SECOND)
    assert TRADE_SHOW_ESCALATION in kinds(captured, start + WEEK)


def test_answered_trade_show_lead_raises_nothing() -> None:
    answered = replace(TRADE, contacts=(Contact(SHOW_END + timedelta(days=8), ContactKind.EMAIL, "c"),))
    # Answered late (after the escalation) but before the breach: the breach does not fire.
    assert kinds(answered, SHOW_END + 2 * WEEK) & {TRADE_SHOW_ESCALATION, TRADE_SHOW_BREACH} == set()


def test_key_lead_stale_a_week_after_last_contact() -> None:
    last = T0 + timedelta(days=3)
    key = replace(ASSIGNED, tracking_class="A", contacts=(Contact(last, ContactKind.SMS, "b"),))
    assert KEY_LEAD_STALE not in kinds(key, last + WEEK - SECOND)
    (r,) = [r for r in due_reminders(key, last + WEEK) if r.kind == KEY_LEAD_STALE]
    assert r.due_at == last + WEEK and r.key.endswith(last.isoformat())
    assert KEY_LEAD_STALE not in kinds(replace(key, tracking_class="B"), last + 2 * WEEK)


def test_key_lead_clock_starts_when_it_became_a_class() -> None:
    since = T0 + timedelta(days=20)
    key = replace(ASSIGNED, tracking_class="A", tracking_class_since=since, assigned_at=None)
    assert KEY_LEAD_STALE not in kinds(key, since + WEEK - SECOND)
    assert KEY_LEAD_STALE in kinds(key, since + WEEK)


def test_protection_expiring_expired_claimable_boundaries() -> None:
    facts = replace(ASSIGNED, assigned_at=None)  # registered Mar 2 09:00 → protected until May 2 09:00
    until = datetime(2026, 5, 2, 9, 0, tzinfo=SH)
    claimable = datetime(2026, 6, 2, 9, 0, tzinfo=SH)
    assert kinds(facts, until - WEEK - SECOND) == set()
    assert kinds(facts, until - WEEK) == {PROTECTION_EXPIRING}
    assert kinds(facts, until - SECOND) == {PROTECTION_EXPIRING}
    (expired,) = due_reminders(facts, until)
    assert expired.kind == PROTECTION_EXPIRED and expired.due_at == until  # "expiring" superseded
    assert kinds(facts, claimable - SECOND) == {PROTECTION_EXPIRED}
    (claim,) = due_reminders(facts, claimable)
    assert claim.kind == PROTECTION_CLAIMABLE and claim.escalate_to == "manager"


def test_renewal_by_qualifying_contact_moves_protection_reminders_to_new_keys() -> None:
    facts = replace(ASSIGNED, assigned_at=None)
    old = {r.kind: r for r in scheduled_reminders(facts, T0)}
    visit = Contact(T0 + timedelta(days=50), ContactKind.FACE_TO_FACE, "b")
    renewed = replace(facts, contacts=(visit,))
    new = {r.kind: r for r in scheduled_reminders(renewed, visit.at)}
    assert new[PROTECTION_EXPIRED].due_at == datetime(2026, 6, 21, 9, 0, tzinfo=SH)
    assert new[PROTECTION_EXPIRED].key != old[PROTECTION_EXPIRED].key
    # A non-qualifying contact (SMS) does not move the protection clock.
    sms = replace(facts, contacts=(Contact(visit.at, ContactKind.SMS, "b"),))
    unmoved = {r.kind: r for r in scheduled_reminders(sms, visit.at)}
    assert unmoved[PROTECTION_EXPIRED] == old[PROTECTION_EXPIRED]


def test_policy_changes_the_windows() -> None:
    policy = LeadPolicy(first_contact_days=3)
    assert FIRST_CONTACT_OVERDUE in kinds(ASSIGNED, T0 + timedelta(days=3), policy)


def test_closed_leads_get_nothing_and_next_due_at_for_the_scheduler() -> None:
    assert due_reminders(replace(ASSIGNED, closed=True), T0 + 100 * WEEK) == []
    assert next_due_at(replace(ASSIGNED, closed=True), T0) is None
    assert next_due_at(ASSIGNED, T0) == T0 + WEEK
    assert next_due_at(ASSIGNED, T0 + WEEK) == datetime(2026, 4, 25, 9, 0, tzinfo=SH)  # expiring warning


def test_due_reminders_are_stable_for_the_same_inputs() -> None:
    now = T0 + 3 * WEEK
    assert due_reminders(TRADE, now) == due_reminders(TRADE, now)
    assert len({r.key for r in due_reminders(TRADE, now)}) == len(due_reminders(TRADE, now))
