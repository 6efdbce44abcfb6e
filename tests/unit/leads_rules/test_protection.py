"""Ownership protection: renewal, status boundaries, conflicts, splits, owner-change history."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from leads.intake.rules import RuleViolation
from leads.ownership.rules import (
    ChoseOtherRep,
    Complaint,
    ConflictRule,
    Contact,
    ContactKind,
    CustomerChoice,
    FamilyMember,
    ForgotWhoServed,
    ManagerCase,
    NamedOnNthVisit,
    OldCustomerReferral,
    OwnedLead,
    ProtectionStatus,
    Registration,
    ServedInOwnersAbsence,
    SoleCredit,
    claim_decision,
    commission_split,
    decide_conflict,
    first_registration,
    owner_change,
    protection_state,
    qualifies,
)
from leads.policy.rules import LeadPolicy

SH = ZoneInfo("Asia/Shanghai")
REGISTERED = datetime(2026, 1, 31, 10, 0, tzinfo=SH)
LEAD = OwnedLead(owner="b", registered_at=REGISTERED)
AWAY_LEAD = OwnedLead(owner="b", registered_at=REGISTERED, out_of_town=True)
SECOND = timedelta(seconds=1)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


def test_first_registration_wins_by_server_time_then_sequence() -> None:
    regs = [
        Registration("a", at(2, 1, 11), 3),
        Registration("b", at(2, 1, 9), 7),
        Registration("c", at(2, 1, 9), 5),
    ]
    assert first_registration(regs).rep == "c"
    with pytest.raises(ValueError):
        first_registration([])


@pytest.mark.parametrize(
    ("contact", "lead", "expected"),
    [
        (Contact(at(2, 1), ContactKind.FACE_TO_FACE, "b"), LEAD, True),
        (Contact(at(2, 1), ContactKind.FACE_TO_FACE, "someone_else"), LEAD, False),
        (Contact(at(2, 1), ContactKind.PHONE, "b"), LEAD, False),
        (Contact(at(2, 1), ContactKind.PHONE, "b"), AWAY_LEAD, True),
        (Contact(at(2, 1), ContactKind.SMS, "b"), AWAY_LEAD, False),
        (Contact(at(2, 1), ContactKind.EMAIL, "b"), LEAD, False),
    ],
)
def test_qualifying_contact(contact: Contact, lead: OwnedLead, expected: bool) -> None:
    assert qualifies(contact, lead) is expected


def test_phone_visit_rule_can_be_switched_off_by_policy() -> None:
    phone = Contact(at(2, 1), ContactKind.PHONE, "b")
    assert not qualifies(phone, AWAY_LEAD, LeadPolicy(phone_visit_renews_out_of_town=False))


def test_boundaries_from_registration_use_calendar_months() -> None:
    # Registered Jan 31 10:00 → protected until Mar 31 10:00, expiring from Mar 24 10:00,
    # claimable from Apr 30 10:00 (Jan 31 + 3 months clamps to Apr 30).
    until, expiring, claimable = at(3, 31), at(3, 24), at(4, 30)
    s = protection_state(LEAD, [], expiring - SECOND)
    assert (s.protected_until, s.expiring_from, s.claimable_at) == (until, expiring, claimable)
    assert s.status == ProtectionStatus.PROTECTED and s.is_valid and s.renewed_by is None
    assert protection_state(LEAD, [], expiring).status == ProtectionStatus.EXPIRING
    assert protection_state(LEAD, [], until - SECOND).status == ProtectionStatus.EXPIRING
    assert protection_state(LEAD, [], until).status == ProtectionStatus.EXPIRED
    assert not protection_state(LEAD, [], until).is_valid
    assert protection_state(LEAD, [], claimable - SECOND).status == ProtectionStatus.EXPIRED
    assert protection_state(LEAD, [], claimable).status == ProtectionStatus.CLAIMABLE


def test_qualifying_contact_renews_and_non_qualifying_does_not() -> None:
    visit = Contact(at(3, 20), ContactKind.FACE_TO_FACE, "b")
    call = Contact(at(3, 25), ContactKind.PHONE, "b")  # local lead: a phone call does not renew
    colleague = Contact(at(3, 26), ContactKind.FACE_TO_FACE, "c")  # not the owner
    s = protection_state(LEAD, [call, visit, colleague], at(4, 1))
    assert s.renewed_by == visit and s.anchor_at == at(3, 20)
    assert s.protected_until == at(5, 20) and s.claimable_at == at(6, 20)
    assert s.status == ProtectionStatus.PROTECTED
    assert protection_state(LEAD, [call, colleague], at(4, 1)).status == ProtectionStatus.EXPIRED


def test_phone_visit_renews_an_out_of_town_lead() -> None:
    call = Contact(at(3, 25), ContactKind.PHONE, "b")
    s = protection_state(AWAY_LEAD, [call], at(4, 1))
    assert s.renewed_by == call and s.status == ProtectionStatus.PROTECTED


def test_contacts_after_now_or_before_registration_are_ignored() -> None:
    future = Contact(at(5, 1), ContactKind.FACE_TO_FACE, "b")
    before = Contact(at(1, 30), ContactKind.FACE_TO_FACE, "b")
    s = protection_state(LEAD, [future, before], at(4, 1))
    assert s.renewed_by is None and s.status == ProtectionStatus.EXPIRED


def test_owner_visit_after_expiry_renews_while_still_owner() -> None:
    late_visit = Contact(at(4, 5), ContactKind.FACE_TO_FACE, "b")
    s = protection_state(LEAD, [late_visit], at(4, 6))
    assert s.status == ProtectionStatus.PROTECTED and s.protected_until == at(6, 5)


def test_policy_numbers_drive_the_clock() -> None:
    p = LeadPolicy(protection_months=1, claimable_after_months=1, protection_warning_days=0)
    s = protection_state(LEAD, [], at(2, 28), p)
    assert s.protected_until == at(2, 28) and s.status == ProtectionStatus.CLAIMABLE


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        protection_state(LEAD, [], datetime(2026, 2, 1))


# --- splits ---------------------------------------------------------------------------------------


def pct(*pairs: tuple[str, int | str]) -> tuple[tuple[str, Decimal], ...]:
    return tuple((rep, Decimal(str(p)).quantize(Decimal("0.01"))) for rep, p in pairs)


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        (ChoseOtherRep(chosen="a", owner="b", owner_protected=True), pct(("a", 80), ("b", 20))),
        (ChoseOtherRep(chosen="a", owner="b", owner_protected=False), pct(("a", 100))),
        (ServedInOwnersAbsence(owner="b", assistant="c"), pct(("b", 80), ("c", 20))),
        (
            ForgotWhoServed(serving_rep="a", earlier_rep="b", earlier_protected=True),
            pct(("a", 50), ("b", 50)),
        ),
        (ForgotWhoServed(serving_rep="a", earlier_rep="b", earlier_protected=False), pct(("a", 100))),
        (NamedOnNthVisit(named_rep="a", earlier=(("b", True),)), pct(("a", 50), ("b", 50))),
        (
            NamedOnNthVisit(named_rep="a", earlier=(("b", True), ("c", True))),
            pct(("a", 50), ("b", 25), ("c", 25)),
        ),
        (
            NamedOnNthVisit(named_rep="a", earlier=(("b", True), ("c", True), ("d", True))),
            pct(("a", 50), ("b", "16.68"), ("c", "16.66"), ("d", "16.66")),
        ),
        (NamedOnNthVisit(named_rep="a", earlier=(("b", False), ("c", True))), pct(("a", 50), ("c", 50))),
        (NamedOnNthVisit(named_rep="a", earlier=(("b", False),)), pct(("a", 100))),
        (
            NamedOnNthVisit(named_rep="a", earlier=(("a", True), ("b", True), ("b", True))),
            pct(("a", 50), ("b", 50)),
        ),
        (ChoseOtherRep(chosen="b", owner="b", owner_protected=True), pct(("b", 100))),
        (SoleCredit("a"), pct(("a", 100))),
    ],
)
def test_each_split_sums_to_100(situation: object, expected: tuple) -> None:
    split = commission_split(situation)  # type: ignore[arg-type]
    assert split == expected
    assert sum(p for _, p in split) == Decimal(100)


def test_split_percentages_come_from_policy() -> None:
    p = LeadPolicy(
        split_chosen_rep_percent=70, split_owner_with_assistant_percent=90, split_shared_percent=60
    )
    assert commission_split(ChoseOtherRep("a", "b", True), p) == pct(("a", 70), ("b", 30))
    assert commission_split(ServedInOwnersAbsence("b", "c"), p) == pct(("b", 90), ("c", 10))
    assert commission_split(ForgotWhoServed("a", "b", True), p) == pct(("a", 60), ("b", 40))


# --- conflicts ------------------------------------------------------------------------------------


def test_customer_explicit_choice_of_another_rep_while_protected() -> None:
    d = decide_conflict(CustomerChoice(owner="b", chosen="a", owner_protected=True))
    assert d.new_owner == "a" and d.rule == ConflictRule.CUSTOMER_CHOICE and not d.reason_required
    assert d.split == pct(("a", 80), ("b", 20))


def test_customer_choice_after_expiry_gives_former_owner_nothing() -> None:
    d = decide_conflict(CustomerChoice(owner="b", chosen="a", owner_protected=False))
    assert d.new_owner == "a" and d.split == pct(("a", 100))


def test_customer_choosing_the_owner_keeps_the_owner() -> None:
    d = decide_conflict(CustomerChoice(owner="b", chosen="b", owner_protected=True))
    assert d.new_owner == "b" and d.split is None


def test_verified_complaint_moves_the_lead_unverified_needs_a_manager() -> None:
    d = decide_conflict(Complaint(owner="b", claimant="a", verified=True))
    assert d.new_owner == "a" and d.rule == ConflictRule.VERIFIED_COMPLAINT and d.split == pct(("a", 100))
    u = decide_conflict(Complaint(owner="b", claimant="a", verified=False))
    assert u.new_owner is None and u.rule == ConflictRule.MANAGER_DECISION and u.reason_required


def test_family_member_is_the_same_customer() -> None:
    d = decide_conflict(FamilyMember(first_receiver="b", claimant="a"))
    assert d.new_owner == "b" and d.rule == ConflictRule.FAMILY_MEMBER


def test_old_customer_referral_goes_to_original_receiver() -> None:
    d = decide_conflict(OldCustomerReferral(original_receiver="b", claimant="a"))
    assert d.new_owner == "b" and d.rule == ConflictRule.OLD_CUSTOMER_REFERRAL


def test_manager_decision_requires_written_reason() -> None:
    with pytest.raises(RuleViolation):
        decide_conflict(ManagerCase(new_owner="a", reason="  "))
    d = decide_conflict(ManagerCase(new_owner="a", reason="cross-over building, split by department"))
    assert d.new_owner == "a" and d.rule == ConflictRule.MANAGER_DECISION and d.reason_required


def test_claim_only_when_claimable_and_with_reason() -> None:
    claimable = protection_state(LEAD, [], at(4, 30))
    expired = protection_state(LEAD, [], at(4, 30) - SECOND)
    with pytest.raises(RuleViolation):
        claim_decision(expired, "a", "no visit for 3 months")
    with pytest.raises(RuleViolation):
        claim_decision(claimable, "a", "")
    with pytest.raises(RuleViolation):
        claim_decision(claimable, "b", "mine")
    d = claim_decision(claimable, "a", "no visit for 3 months")
    assert d.new_owner == "a" and d.rule == ConflictRule.CLAIM_AFTER_INACTIVITY


def test_owner_change_carries_actor_rule_and_reason() -> None:
    d = decide_conflict(CustomerChoice(owner="b", chosen="a", owner_protected=True))
    change = owner_change(d, current_owner="b", actor="mgr", at=at(2, 2))
    assert change is not None
    assert (change.from_owner, change.to_owner, change.actor) == ("b", "a", "mgr")
    assert change.rule == "customer_choice"
    assert change.reason and change.at == at(2, 2)
    assert owner_change(decide_conflict(FamilyMember("b", "a")), "b", "mgr", at(2, 2)) is None


def test_owner_change_refuses_undecided_or_actorless() -> None:
    undecided = decide_conflict(Complaint(owner="b", claimant="a", verified=False))
    with pytest.raises(RuleViolation):
        owner_change(undecided, "b", "mgr", at(2, 2))
    with pytest.raises(RuleViolation):
        owner_change(decide_conflict(OldCustomerReferral("c", "a")), "b", "", at(2, 2))
