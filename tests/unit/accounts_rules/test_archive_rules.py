"""The archive's pure rules (accounts.archive.rules, accounts.grading.rules): the unified social
credit code, who may do what, bank-account masking, formula neutralising, field changes, live
tax numbers, the grade score and bands.

Mutation-tested (``make mutation``, cosmic-ray, these tests only). archive/rules.py: 242 mutants,
190 killed; grading/rules.py: 85, 74 killed. Every survivor is equivalent:
- operators in annotations (``str | None``, ``int | Decimal``): never evaluated (postponed
  annotations), 44 + 11;
- the check character ``(31 - total % 31) % 31``: ``- 31`` or ``+ 31`` inside, ``- 31`` outside
  (a negative index of a 31-character alphabet), ``total ** 31`` (Fermat: ≡ total mod 31) and
  ``31 ^ x`` (= 31 - x below 32) give the same character, 5;
- ``is not`` for ``!=`` on the check character: one-character strings are shared objects, 1;
- ``<`` for ``!=`` in ``is_live``: "lost" and "rejected" sort after every other status and
  archive state, so the two agree on every value the columns can hold, 2.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

import authn
from accounts.archive import rules
from accounts.grading.rules import GradingError, grade_for, score
from accounts.policy.rules import AccountsPolicy
from authn import Principal

VALID = "91350100M000100Y43"


def who(*roles: str) -> Principal:
    return Principal(sub="u", username="u", roles=frozenset(roles))


# --- unified social credit code ----------------------------------------------------------------
def test_check_character_of_known_codes() -> None:
    assert rules.uscc_check_char(VALID[:17]) == VALID[17]
    # Each weight counts: changing one character of the first 17 changes the check character.
    for i in range(17):
        other = VALID[:i] + ("1" if VALID[i] != "1" else "2") + VALID[i + 1:17]
        assert rules.uscc_check_char(other) != VALID[17], i
    # A total that is a multiple of 31 checks with "0" (not the 32nd character).
    assert rules.uscc_check_char("0" * 17) == "0"


def test_weights_are_powers_of_three_mod_31() -> None:
    """GB 32100-2015: W_i = 3^(i-1) mod 31 for the 17 characters before the check character."""
    assert rules._USCC_WEIGHTS == tuple(3 ** i % 31 for i in range(17))


def test_check_character_needs_exactly_17_characters() -> None:
    with pytest.raises(ValueError, match=r"shorter|longer"):
        rules.uscc_check_char(VALID[:16])
    with pytest.raises(ValueError, match=r"shorter|longer"):
        rules.uscc_check_char(VALID)


def test_validate_uscc_canonical_form() -> None:
    assert rules.validate_uscc(" 9135 0100m000100y43 ") == VALID
    # Only characters 3-8 must be digits: the registration authority and type may be letters.
    lettered = "YA350100M000100Y4"
    assert rules.validate_uscc(lettered + rules.uscc_check_char(lettered)) == \
        lettered + rules.uscc_check_char(lettered)


@pytest.mark.parametrize(("raw", "message"), [
    (VALID[:17], "has 18 characters"),
    (VALID + "0", "has 18 characters"),
    ("91350100M000100I43", r"not allowed.*: I"),
    ("9135O1O0M0001OOS43", r"not allowed.*: OS"),
    ("91A50100M000100Y43", "must be digits"),
    ("9135010AM000100Y43", "must be digits"),
    ("91350100M000100Y44", "check character"),
    ("91350100M000100Y42", "check character"),  # wrong either side of the right one
])
def test_validate_uscc_says_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.validate_uscc(raw)


def test_alphabet_excludes_i_o_s_v_z() -> None:
    assert len(rules.USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(rules.USCC_ALPHABET)


# --- live tax numbers --------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "state", "live"), [
    (rules.ACTIVE, rules.APPROVED, True), (rules.INACTIVE, rules.DRAFT, True),
    (rules.LOST, rules.APPROVED, False), (rules.ACTIVE, rules.REJECTED, False),
    (rules.LOST, rules.REJECTED, False),
])
def test_live_accounts_hold_their_tax_number(status: str, state: str, live: bool) -> None:
    assert rules.is_live(status, state) is live
    # Values read from the database are equal to the constants, not the same objects.
    assert rules.is_live("".join(status), "".join(reversed(state[::-1]))) is live
    assert rules.live_tax_number(VALID, status, state) == (VALID if live else None)
    assert rules.live_tax_number(None, status, state) is None
    assert rules.live_tax_number("", status, state) is None


# --- who may do what ---------------------------------------------------------------------------
def test_only_the_archive_clerk_edits_directly() -> None:
    assert rules.can_edit_directly(who(authn.ARCHIVE_CLERK))
    for role in set(authn.ROLES) - {authn.ARCHIVE_CLERK}:
        assert not rules.can_edit_directly(who(role)), role


def test_who_requests_changes() -> None:
    allowed = {authn.SALES_REP, authn.SALES_MANAGER, authn.SERVICE_CLERK, authn.SALES_OPS_MANAGER,
               authn.SALES_VP, authn.SALES_GM, authn.GROUP_GM, authn.SUPPORT_AGENT,
               authn.SUPPORT_SUPERVISOR, authn.REVIEW_GROUP, authn.ADMIN}
    for role in authn.ROLES:
        assert rules.can_request_change(who(role)) is (role in allowed), role
    assert not rules.can_request_change(who())


def test_grading_deciding_and_exporting_roles() -> None:
    exporters = {authn.SALES_MANAGER, authn.SALES_OPS_MANAGER, authn.SALES_VP, authn.SALES_GM,
                 authn.GROUP_GM, authn.ADMIN}
    for role in authn.ROLES:
        assert rules.can_grade(who(role)) is (role == authn.REVIEW_GROUP), role
        assert rules.can_decide_archive(who(role)) is (role == authn.GROUP_GM), role
        assert rules.can_export(who(role)) is (role in exporters), role


# --- bank account masking ----------------------------------------------------------------------
def test_who_sees_the_bank_account() -> None:
    full = {authn.ARCHIVE_CLERK, authn.FINANCE, authn.GROUP_GM, authn.ADMIN}
    for role in authn.ROLES:
        assert rules.sees_bank_account(who(role)) is (role in full), role
    assert rules.sees_bank_account(who(authn.SALES_REP, authn.FINANCE))


@pytest.mark.parametrize(("number", "masked"), [
    ("6222020200112233445", "***************3445"),
    ("12345", "*2345"),
    ("1234", "****"),  # four or fewer: nothing kept
    ("1", "*"),
    ("", ""),
    (None, None),
])
def test_mask_bank_account_keeps_the_last_four(number: str | None, masked: str | None) -> None:
    assert rules.mask_bank_account(number) == masked


# --- spreadsheet formulas and field changes ----------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("=cmd|calc", "'=cmd|calc"), ("+1", "'+1"), ("-1", "'-1"), ("@sum", "'@sum"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"), ("", ""),
    (12, 12), (None, None), (Decimal("-1"), Decimal("-1")),
])
def test_neutralise_formula_cells(value: object, expected: object) -> None:
    assert rules.neutralise(value) == expected


def test_field_changes_lists_what_differs() -> None:
    before = {"name": "A", "phone": "1", "email": None}
    after = {"name": "B", "phone": "1", "email": None, "region": "east"}
    assert rules.field_changes(before, after) == {
        "name": {"before": "A", "after": "B"},
        "region": {"before": None, "after": "east"},
    }
    assert rules.field_changes(before, {}) == {}
    assert rules.field_changes({}, {"x": None}) == {}
    # Equal values are no change even when they are different objects (stored vs submitted).
    assert rules.field_changes({"capital": Decimal("5.00")}, {"capital": Decimal("5.0")}) == {}
    assert rules.field_changes({"name": "".join(["A", "b"])}, {"name": "Ab"}) == {}


# --- grading ------------------------------------------------------------------------------------
FULL = {"financial_strength": 10, "credit_record": 10, "sales_volume": 10, "cooperation": 10,
        "growth_potential": 10}


def test_score_is_the_weighted_share_of_the_maximum() -> None:
    policy = AccountsPolicy()
    assert score(policy, FULL) == Decimal("100.00")
    assert score(policy, {}) == Decimal("0.00")
    assert score(policy, {"financial_strength": 9, "credit_record": 9, "sales_volume": 8,
                          "cooperation": 8, "growth_potential": 7}) == Decimal("83.50")
    # 15 x 1 / 10 + 25 x 0 ...: a criterion left out scores 0; two places, half up.
    assert score(policy, {"cooperation": 1}) == Decimal("1.50")
    odd = policy.with_changes(grade_criteria=[{"name": "x", "label": "x", "weight": 100,
                                               "maximum": 3}])
    assert score(odd, {"x": 1}) == Decimal("33.33")
    assert score(odd, {"x": 2}) == Decimal("66.67")


def test_score_names_each_bad_criterion() -> None:
    policy = AccountsPolicy()
    with pytest.raises(GradingError) as caught:
        score(policy, {**FULL, "credit_record": 11, "cooperation": -1, "charm": 5})
    assert caught.value.errors == {
        "charm": "not a criterion of the grade-assessment form",
        "credit_record": "must be from 0 to 10",
        "cooperation": "must be from 0 to 10",
    }
    assert "charm: not a criterion" in str(caught.value)
    assert score(policy, {**FULL, "cooperation": 0}) == Decimal("85.00")  # bounds inclusive


@pytest.mark.parametrize(("value", "grade"), [
    ("100", "A"), ("90", "A"), ("89.99", "B"), ("80", "B"), ("79.99", "C"), ("70", "C"),
    ("69.99", "D"), ("60", "D"), ("59.99", "E"), ("50", "E"), ("49.99", "E"), ("0", "E"),
])
def test_grade_from_the_bands(value: str, grade: str) -> None:
    assert grade_for(AccountsPolicy(), Decimal(value)) == grade
