"""The pure rules of accounts and notify: no database, no Flask, no clock (support's rules have
their own tests under tests/unit/support_rules)."""

from __future__ import annotations

import pytest

from accounts import domain as accounts
from authn import Principal
from notify import domain as notify


def who(sub: str, *roles: str, team: str | None = None) -> Principal:
    return Principal(sub=sub, username=sub, roles=frozenset(roles), team=team)


REP1, REP2 = who("rep1", "sales_rep", team="east"), who("rep2", "sales_rep", team="east")
EAST_MGR, WEST_MGR = who("m1", "sales_manager", team="east"), who("m2", "sales_manager", team="west")
ALL_SEEING = [who("a", "admin"), who("s", "support_agent"), who("i", "integration")]


@pytest.mark.parametrize("rules", [accounts])
def test_one_scope_decides_visibility(rules) -> None:  # type: ignore[no-untyped-def]
    owned_by_rep1 = rules.AccountAccess(owner_id="rep1", owner_team="east")
    west = rules.AccountAccess(owner_id="rep9", owner_team="west")
    assert rules.scope_for(REP1).allows(owned_by_rep1)
    assert not rules.scope_for(REP2).allows(owned_by_rep1)
    assert rules.scope_for(EAST_MGR).allows(owned_by_rep1) and not rules.scope_for(EAST_MGR).allows(west)
    assert rules.scope_for(WEST_MGR).allows(west)
    for p in ALL_SEEING:
        assert rules.scope_for(p).everything
    # A manager without a team sees only what they own, never "everything with no team".
    assert not rules.scope_for(who("m3", "sales_manager")).allows(
        rules.AccountAccess(owner_id="rep5", owner_team=None))


def test_account_is_filed_under_the_company_if_any() -> None:
    assert accounts.account_name("Wang Wu", "Bamboo Co.") == "Bamboo Co."
    assert accounts.account_name("Wang Wu", None) == "Wang Wu"
    assert accounts.account_name("Wang Wu", "  ") == "Wang Wu"


def test_audit_changes_list_only_differences() -> None:
    assert accounts.changes({}, {"name": "A", "company": None}) == {"name": {"before": None, "after": "A"}}
    assert accounts.changes({"name": "A", "phone": "1"}, {"name": "B", "phone": "1"}) == {
        "name": {"before": "A", "after": "B"}}


def test_who_may_open_accounts_for_whom() -> None:
    assert accounts.can_assign_owner(who("a", "admin"), "west")
    assert accounts.can_assign_owner(who("i", "integration"), None)
    assert accounts.can_assign_owner(EAST_MGR, "east") and not accounts.can_assign_owner(EAST_MGR, "west")
    assert not accounts.can_assign_owner(REP1, "east")


def test_converted_lead_notifies_the_owner() -> None:
    draft = notify.for_account_opened({
        "account_id": "acc", "code": "C-000001", "name": "Bamboo Co.", "owner_id": "rep1",
        "source_lead_id": "lead", "source_lead_code": "L-000007", "source_lead_name": "Wang Wu"})
    assert draft == notify.Draft(recipient_id="rep1", kind="lead_converted", title="Lead converted",
                                 body="Lead Wang Wu (L-000007) became account Bamboo Co. (C-000001)",
                                 subject_type="account", subject_id="acc")
    assert notify.for_account_opened({"account_id": "acc", "code": "C", "name": "n",
                                      "owner_id": "rep1", "source_lead_id": None}) is None


def test_notifications_are_personal() -> None:
    assert notify.listing_recipient(REP1, None) == "rep1"
    assert notify.listing_recipient(REP1, "rep1") == "rep1"
    assert notify.listing_recipient(who("a", "admin"), "rep1") == "rep1"
    with pytest.raises(notify.NotAllowedError):
        notify.listing_recipient(EAST_MGR, "rep1")
    assert notify.can_mark_read(REP1, "rep1") and not notify.can_mark_read(who("a", "admin"), "rep1")
