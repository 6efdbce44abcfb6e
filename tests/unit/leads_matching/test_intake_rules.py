"""Pure intake rules beside matching: visits, merges, provisional protection end."""

from __future__ import annotations

import pytest

from authn import Principal
from leads.intake import rules as domain
from leads.intake.rules import LeadAccess


def _who(sub: str, *roles: str, team: str | None = "east") -> Principal:
    return Principal(sub=sub, username=sub, roles=frozenset(roles), team=team)


def test_only_walk_ins_and_calls_become_visits() -> None:
    assert [s for s in domain.SOURCES if domain.records_visit(s)] == ["walk_in", "phone_call"]


def test_merge_fill_only_fills_gaps() -> None:
    survivor = {"company": "ACME", "phone": None, "email": "", "show_name": None}
    duplicate = {"company": "Other", "phone": "+8613800138000", "email": None, "show_name": "Expo"}
    assert domain.merge_fill(survivor, duplicate) == {"phone": "+8613800138000", "show_name": "Expo"}


@pytest.mark.parametrize(("principal", "allowed"), [
    (_who("rep1", "sales_rep"), True),
    (_who("rep2", "sales_rep"), False),
    (_who("boss", "sales_manager"), True),
    (_who("boss", "sales_manager", team="west"), False),
    (_who("root", "admin", team=None), True),
])
def test_who_may_merge(principal: Principal, allowed: bool) -> None:
    a, b = LeadAccess("rep1", "east"), LeadAccess("rep1", "east")
    assert domain.can_merge(principal, a, b) is allowed


def test_a_rep_needs_to_own_both() -> None:
    assert not domain.can_merge(_who("rep1", "sales_rep"), LeadAccess("rep1", "east"),
                                LeadAccess("rep2", "east"))


def test_merged_leads_are_tombstones() -> None:
    domain.ensure_live(None)
    with pytest.raises(domain.RuleViolation):
        domain.ensure_live("other-lead")
