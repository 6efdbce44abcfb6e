"""Edge cases of the ownership rules (seeds digest §1.4), written against cosmic-ray survivors.

Mutation run: ``make mutation MODULE=services/leads/leads/ownership/rules.py
TESTS="tests/unit/leads_rules"``: 585 mutants, 402 killed, 183 survived (before this module).

Each behaviour-changing survivor was applied by hand to rules.py and this module was run against
it (see the helper report). Result: 97 of the 183 are killed by the tests below; the
other 86 are equivalent mutants, by class:

- 77 ``|`` -> ``+ - * / // % ** << >> & ^`` inside type annotations (lines 118, 129, 247, 367,
  446 x2, 447: ``LeadPolicy | None`` / ``str | None`` / ``SplitSituation`` parameters). The module
  uses ``from __future__ import annotations``, so annotations are never evaluated.
- 3 ``==``/``!=`` -> ``is``/``is not`` on enum members (line 123 and 125 ``contact.kind ==
  ContactKind.X``, line 422 ``state.status != ProtectionStatus.CLAIMABLE``): enum members are
  singletons and these fields are typed enums, so identity and equality agree.
- 1 ``state.status != CLAIMABLE`` -> ``>`` (line 422): the statuses are StrEnums and "claimable"
  sorts before "expired", "expiring" and "protected", so ``>`` is true exactly when ``!=`` is.
- 1 ``c.at > renewing.at`` -> ``>=`` (line 139): only differs for two qualifying contacts at the
  very same instant; the anchor, dates and status are identical, only which of the two
  simultaneous contacts is reported as ``renewed_by`` changes (the digest has no rule on that).
- 1 ``pct > 0`` -> ``pct != 0`` (line 299): shares are never negative (policy percentages are
  validated 0..100 and the rule-8 remainder is >= 0), so both drop exactly the zero shares.
- 3 ``sum(...) != HUNDRED`` -> ``>``, ``<``, ``is`` (line 300): an internal invariant guard that no
  valid input reaches (every split is built to sum to 100), so weakening it changes nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
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
    CrossOverDispute,
    CustomerChoice,
    Decision,
    FamilyMember,
    FollowedOthersAuthorized,
    ForgotWhoServed,
    ManagerCase,
    NamedOnNthVisit,
    OldCustomerReferral,
    OwnedLead,
    OwnerChange,
    ProtectionStatus,
    Registration,
    SameDayDeal,
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
LEAD = OwnedLead(owner="rep-m", registered_at=REGISTERED)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


def fresh(name: str) -> str:
    """The same rep id as a distinct string object, as it arrives from a database row or a request."""
    built = "".join(list(name))
    assert built == name and built is not name
    return built


def pct(*pairs: tuple[str, int | str]) -> tuple[tuple[str, Decimal], ...]:
    return tuple((rep, Decimal(str(p)).quantize(Decimal("0.01"))) for rep, p in pairs)


# --- first registration ("谁登记早是谁的客户") ---------------------------------------------------


def test_registration_without_sequence_ranks_as_sequence_zero() -> None:
    t = at(2, 1)
    assert Registration("rep-a", t) == Registration("rep-a", t, 0)
    # Same instant: the lower sequence wins, wherever it is listed.
    assert first_registration([Registration("rep-b", t, 1), Registration("rep-a", t)]).rep == "rep-a"


def test_naive_registration_time_is_rejected_even_alone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        first_registration([Registration("rep-a", datetime(2026, 2, 1, 10, 0))])


# --- qualifying contacts (2-month protection, §1.4B visits) --------------------------------------


def test_contact_by_another_rep_never_renews_whatever_their_id() -> None:
    # "rep-a" sorts before the owner "rep-m": still not the owner.
    assert not qualifies(Contact(at(2, 1), ContactKind.FACE_TO_FACE, "rep-a"), LEAD)


def test_owner_face_to_face_visit_qualifies_with_an_equal_id_object() -> None:
    assert qualifies(Contact(at(2, 1), ContactKind.FACE_TO_FACE, fresh("rep-m")), LEAD)


def test_contact_at_the_registration_instant_counts() -> None:
    visit = Contact(REGISTERED, ContactKind.FACE_TO_FACE, "rep-m")
    state = protection_state(LEAD, [visit], at(2, 10))
    assert state.renewed_by == visit
    assert state.anchor_at == REGISTERED


@pytest.mark.parametrize("reverse", [False, True])
def test_latest_qualifying_contact_anchors_protection_whatever_the_order(reverse: bool) -> None:
    early = Contact(at(2, 10), ContactKind.FACE_TO_FACE, "rep-m")
    late = Contact(at(3, 20), ContactKind.FACE_TO_FACE, "rep-m")
    contacts = [late, early] if reverse else [early, late]
    state = protection_state(LEAD, contacts, at(4, 1))
    assert state.renewed_by == late
    assert state.anchor_at == late.at
    assert state.protected_until == at(5, 20)
    assert state.status is ProtectionStatus.PROTECTED


def test_lead_stays_claimable_long_after_the_claimable_date() -> None:
    # Registered 31 Jan, no contact: claimable from 30 Apr (3 months), and still so in July.
    state = protection_state(LEAD, [], at(7, 15))
    assert state.status is ProtectionStatus.CLAIMABLE
    assert claim_decision(state, "rep-z", "no visit since January").new_owner == "rep-z"


# --- value objects are immutable ------------------------------------------------------------------


_DECISION = Decision("rep-a", ConflictRule.MANAGER_DECISION, True, None, "why")
_STATE = protection_state(LEAD, [], at(2, 10))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (Contact(at(2, 1), ContactKind.PHONE, "rep-m"), "by"),
        (LEAD, "owner"),
        (Registration("rep-a", at(2, 1)), "rep"),
        (_STATE, "owner"),
        (ChoseOtherRep("rep-a", "rep-m", True), "chosen"),
        (ServedInOwnersAbsence("rep-m", "rep-a"), "assistant"),
        (ForgotWhoServed("rep-a", "rep-m", True), "earlier_protected"),
        (NamedOnNthVisit("rep-a", (("rep-m", True),)), "named_rep"),
        (SoleCredit("rep-a"), "rep"),
        (SameDayDeal("rep-a", "rep-m", True), "same_day"),
        (CrossOverDispute("tower-3"), "team"),
        (FollowedOthersAuthorized("rep-m", "rep-a", False), "approved"),
        (CustomerChoice("rep-m", "rep-a", True), "chosen"),
        (Complaint("rep-m", "rep-a", True), "verified"),
        (FamilyMember("rep-m", "rep-a"), "first_receiver"),
        (OldCustomerReferral("rep-m", "rep-a"), "original_receiver"),
        (ManagerCase("rep-a", "why"), "new_owner"),
        (_DECISION, "new_owner"),
        (OwnerChange("rep-m", "rep-a", "mgr", "manager_decision", "why", at(2, 1)), "to_owner"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_rule_inputs_and_outcomes_are_immutable(value: object, field: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "changed")


# --- commission / credit splits -----------------------------------------------------------------


def test_rule2_and_rule3_splits_follow_a_configured_policy() -> None:
    policy = LeadPolicy(split_chosen_rep_percent=40, split_owner_with_assistant_percent=30)
    assert commission_split(ChoseOtherRep("rep-a", "rep-m", True), policy) == pct(
        ("rep-a", 40), ("rep-m", 60)
    )
    assert commission_split(ServedInOwnersAbsence("rep-m", "rep-c"), policy) == pct(
        ("rep-m", 30), ("rep-c", 70)
    )


def test_rule7_shared_split_follows_a_configured_policy() -> None:
    policy = LeadPolicy(split_shared_percent=30)
    assert commission_split(ForgotWhoServed("rep-a", "rep-m", True), policy) == pct(
        ("rep-a", 30), ("rep-m", 70)
    )


def test_rule8_earlier_rep_gets_half_whatever_the_id_order() -> None:
    # The earlier rep's id sorts before the named rep's id.
    split = commission_split(NamedOnNthVisit("rep-z", (("rep-a", True),)))
    assert split == pct(("rep-z", 50), ("rep-a", 50))


def test_rule8_named_rep_listed_among_earlier_reps_gets_everything() -> None:
    split = commission_split(NamedOnNthVisit("rep-z", ((fresh("rep-z"), True),)))
    assert split == pct(("rep-z", 100))
    # The named rep does not take a second share of the earlier reps' 50%.
    split = commission_split(NamedOnNthVisit("rep-z", ((fresh("rep-z"), True), ("rep-a", True))))
    assert split == pct(("rep-z", 50), ("rep-a", 50))


def test_same_day_deal_is_shared_fifty_fifty() -> None:
    # 「如果当日成交,奖金则五五分成」
    assert commission_split(SameDayDeal("rep-a", "rep-m", same_day=True)) == pct(("rep-a", 50), ("rep-m", 50))


def test_later_deal_after_a_courtesy_reception_stays_with_the_earlier_rep() -> None:
    assert commission_split(SameDayDeal("rep-a", "rep-m", same_day=False)) == pct(("rep-m", 100))


def test_same_day_share_follows_a_configured_policy() -> None:
    policy = LeadPolicy(split_shared_percent=60)
    assert commission_split(SameDayDeal("rep-a", "rep-m", True), policy) == pct(("rep-a", 60), ("rep-m", 40))


def test_cross_over_dispute_goes_to_the_department() -> None:
    # 「该交叉楼宇的业绩、奖金归部门」
    assert commission_split(CrossOverDispute("tower-3")) == pct(("department:tower-3", 100))


def test_following_anothers_authorized_customer_without_approval_earns_nothing() -> None:
    # 「该销售人员将不享有该合同相应的提成」
    split = commission_split(FollowedOthersAuthorized("rep-m", "rep-a", approved=False))
    assert split == pct(("rep-m", 100))


def test_approved_joint_follow_up_is_shared() -> None:
    # 「经分管领导同意后共同跟进」
    assert commission_split(FollowedOthersAuthorized("rep-m", "rep-a", approved=True)) == pct(
        ("rep-m", 50), ("rep-a", 50)
    )
    policy = LeadPolicy(split_shared_percent=60)
    assert commission_split(FollowedOthersAuthorized("rep-m", "rep-a", True), policy) == pct(
        ("rep-m", 60), ("rep-a", 40)
    )


def test_zero_share_is_dropped_and_a_one_percent_share_is_kept() -> None:
    all_to_chosen = LeadPolicy(split_chosen_rep_percent=100)
    assert commission_split(ChoseOtherRep("rep-a", "rep-m", True), all_to_chosen) == pct(("rep-a", 100))
    almost_all = LeadPolicy(split_chosen_rep_percent=99)
    assert commission_split(ChoseOtherRep("rep-a", "rep-m", True), almost_all) == pct(
        ("rep-a", 99), ("rep-m", 1)
    )


# --- conflicts ------------------------------------------------------------------------------------


def test_conflict_split_uses_the_given_policy() -> None:
    policy = LeadPolicy(split_chosen_rep_percent=70)
    decision = decide_conflict(CustomerChoice(owner="rep-m", chosen="rep-a", owner_protected=True), policy)
    assert decision.split == pct(("rep-a", 70), ("rep-m", 30))


def test_customer_choosing_a_rep_whose_id_sorts_after_the_owner_is_rule2() -> None:
    decision = decide_conflict(CustomerChoice(owner="rep-a", chosen="rep-z", owner_protected=True))
    assert decision.new_owner == "rep-z"
    assert decision.split == pct(("rep-z", 80), ("rep-a", 20))


def test_customer_choosing_the_owner_is_rule1_with_no_reason_needed() -> None:
    decision = decide_conflict(CustomerChoice(owner="rep-m", chosen=fresh("rep-m"), owner_protected=True))
    assert decision.new_owner == "rep-m"
    assert decision.split is None
    assert decision.reason_required is False


def test_rule2_explanation_says_whether_the_owner_keeps_a_share() -> None:
    protected = decide_conflict(CustomerChoice("rep-m", "rep-a", owner_protected=True))
    expired = decide_conflict(CustomerChoice("rep-m", "rep-a", owner_protected=False))
    assert "was valid" in protected.explanation and "gets nothing" not in protected.explanation
    assert "expired" in expired.explanation and "gets nothing" in expired.explanation


@pytest.mark.parametrize(
    "case",
    [
        Complaint(owner="rep-m", claimant="rep-a", verified=True),
        FamilyMember(first_receiver="rep-m", claimant="rep-a"),
        OldCustomerReferral(original_receiver="rep-m", claimant="rep-a"),
        CustomerChoice(owner="rep-m", chosen="rep-a", owner_protected=True),
    ],
    ids=lambda c: type(c).__name__,
)
def test_rule_decided_conflicts_need_no_manager_reason(
    case: Complaint | FamilyMember | OldCustomerReferral | CustomerChoice,
) -> None:
    decision = decide_conflict(case)
    assert decision.reason_required is False
    change = owner_change(decision, "rep-x", "supervisor", at(2, 1))
    assert change is not None and change.reason == decision.explanation


# --- claims after 3 months without service (§1.4C) ----------------------------------------------


CLAIMABLE_STATE = protection_state(LEAD, [], at(5, 15))


def test_claim_by_a_rep_whose_id_sorts_after_the_owner_is_allowed() -> None:
    assert CLAIMABLE_STATE.status is ProtectionStatus.CLAIMABLE
    decision = claim_decision(CLAIMABLE_STATE, "rep-z", "no visit in 3 months")
    assert decision.new_owner == "rep-z"
    assert decision.rule is ConflictRule.CLAIM_AFTER_INACTIVITY
    assert decision.reason_required is True


def test_owner_cannot_claim_their_own_lead_with_an_equal_id_object() -> None:
    with pytest.raises(RuleViolation, match="own lead"):
        claim_decision(CLAIMABLE_STATE, fresh("rep-m"), "mine")


def test_claim_with_a_blank_reason_is_refused() -> None:
    with pytest.raises(RuleViolation, match="written reason"):
        claim_decision(CLAIMABLE_STATE, "rep-z", "   ")


# --- owner-change history -------------------------------------------------------------------------


def test_manager_decision_with_a_reason_records_the_change() -> None:
    decision = decide_conflict(ManagerCase(new_owner="rep-a", reason="cross-over, negotiated", owner="rep-m"))
    assert decision.reason_required is True
    change = owner_change(decision, "rep-m", "manager", at(2, 1), "department ruling")
    assert change == OwnerChange(
        "rep-m", "rep-a", "manager", "manager_decision", "department ruling", at(2, 1)
    )


def test_no_history_entry_when_the_owner_does_not_change() -> None:
    decision = decide_conflict(FamilyMember(first_receiver="rep-m", claimant="rep-a"))
    assert owner_change(decision, fresh("rep-m"), "supervisor", at(2, 1)) is None


def test_reason_required_change_without_any_text_is_refused() -> None:
    bare = Decision("rep-a", ConflictRule.REDISTRIBUTION, True, None, "")
    with pytest.raises(RuleViolation, match="written reason"):
        owner_change(bare, "rep-m", "manager", at(2, 1), "  ")
    assert owner_change(bare, "rep-m", "manager", at(2, 1), "rep on long leave") is not None
