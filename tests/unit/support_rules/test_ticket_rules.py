"""Ticket rules: the lifecycle table, who may see / work / assign / open, one-stop, phones."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from authn import Principal
from support.tickets import rules
from support.tickets.rules import TicketFacts


def who(sub: str, *roles: str, team: str | None = None) -> Principal:
    return Principal(sub=sub, username=sub, roles=frozenset(roles), team=team)


BASE = TicketFacts(
    owner_id="agent",
    assignee_id=None,
    status="new",
    queue="after_sales",
    kind="inquiry",
    account_owner_id="rep1",
    account_team="east",
)


def facts(**kw: Any) -> TicketFacts:
    return dataclasses.replace(BASE, **kw)


@pytest.mark.parametrize(
    ("status", "action", "to"),
    [
        ("new", "assign", "assigned"),
        ("assigned", "assign", "assigned"),
        ("in_progress", "assign", "assigned"),
        ("new", "start", "in_progress"),
        ("assigned", "start", "in_progress"),
        ("assigned", "wait", "waiting_customer"),
        ("in_progress", "wait", "waiting_customer"),
        ("waiting_customer", "resume", "in_progress"),
        ("new", "resolve", "resolved"),
        ("waiting_customer", "resolve", "resolved"),
        ("resolved", "close", "closed"),
        ("resolved", "reopen", "in_progress"),
        ("closed", "reopen", "in_progress"),
    ],
)
def test_legal_transitions(status: str, action: str, to: str) -> None:
    assert rules.next_status(status, action) == to


def test_everything_else_is_illegal() -> None:
    legal = {(s, a) for a, (froms, _) in rules.ACTIONS.items() for s in froms}
    for status in rules.STATUSES:
        for action in (*rules.ACTIONS, "fly"):
            if (status, action) not in legal:
                with pytest.raises(rules.IllegalTransition) as exc:
                    rules.next_status(status, action)
                assert exc.value.action == action and exc.value.status == status
                assert action in str(exc.value) and status in str(exc.value)
    assert len(legal) == 15


def test_agent_sees_own_and_unassigned_active() -> None:
    agent, agent2 = who("agent", "support_agent"), who("agent2", "support_agent")
    assert rules.can_view(agent, facts())
    assert rules.can_view(agent2, facts())  # unassigned and active
    assert not rules.can_view(agent2, facts(status="resolved"))  # not active any more
    assert not rules.can_view(agent2, facts(assignee_id="tech"))
    assert rules.can_view(agent2, facts(assignee_id="agent2", owner_id="x"))
    assert rules.can_work(agent2, facts()) and not rules.can_work(agent2, facts(assignee_id="tech"))
    assert rules.can_work(agent, facts(status="closed", assignee_id="tech"))  # owner


def test_technician_quality_and_sales() -> None:
    tech = who("tech", "technician")
    assert rules.can_view(tech, facts(assignee_id="tech")) and rules.can_work(tech, facts(assignee_id="tech"))
    assert rules.can_view(tech, facts(technician_ids=frozenset({"tech"})))
    assert rules.can_work(tech, facts(technician_ids=frozenset({"tech"})))
    assert not rules.can_view(tech, facts()) and not rules.can_work(tech, facts())
    qa = who("qa", "quality_inspector")
    assert rules.can_view(qa, facts(queue="quality")) and rules.can_work(qa, facts(queue="quality"))
    assert rules.can_view(qa, facts(kind="complaint"), ("complaint",))
    assert not rules.can_view(qa, facts(kind="complaint"))
    assert rules.can_view(qa, facts(assignee_id="qa")) and not rules.can_view(qa, facts())
    rep1, rep2 = who("rep1", "sales_rep"), who("rep2", "sales_rep")
    assert rules.can_view(rep1, facts()) and not rules.can_work(rep1, facts())
    assert not rules.can_view(rep2, facts())
    east, west = who("m", "sales_manager", team="east"), who("w", "sales_manager", team="west")
    assert rules.can_view(east, facts()) and not rules.can_view(west, facts())
    assert not rules.can_view(who("m", "sales_manager"), facts(account_team=None, account_owner_id="x"))
    assert rules.can_view(who("agent", "sales_rep"), facts(account_owner_id="x"))  # registered it


@pytest.mark.parametrize(
    "role",
    [
        "admin",
        "support_supervisor",
        "integration",
        "sales_ops_manager",
        "sales_vp",
        "sales_gm",
        "group_gm",
        "service_clerk",
    ],
)
def test_see_all_roles(role: str) -> None:
    p = who("x", role)
    assert rules.sees_all(p) and rules.can_view(p, facts(assignee_id="tech", status="closed"))
    assert rules.can_work(p, facts()) is (role in ("admin", "support_supervisor"))


def test_assign_and_open() -> None:
    assert rules.can_assign_to(who("s", "support_supervisor"), "tech")
    assert rules.can_assign_to(who("agent", "support_agent"), "agent")
    assert not rules.can_assign_to(who("agent", "support_agent"), "tech")
    assert not rules.can_assign_to(who("tech", "technician"), "tech")
    assert rules.can_open_for(who("a", "support_agent"), "rep9", "west")
    assert not rules.can_open_for(who("a", "support_agent"), None, None)
    assert rules.can_open_for(who("rep1", "sales_rep"), "rep1", "east")
    assert not rules.can_open_for(who("rep2", "sales_rep", team="east"), "rep1", "east")
    assert rules.can_open_for(who("m", "sales_manager", team="east"), "rep1", "east")
    assert not rules.can_open_for(who("m", "sales_manager", team="west"), "rep1", "east")
    assert rules.can_open_for(who("m", "sales_manager"), "m", None)
    assert not rules.can_open_for(who("g", "guest"), "rep1", "east")


def test_one_stop() -> None:
    assert rules.one_stop("resolve", "new", "agent", "agent", False, False)
    assert not rules.one_stop("resolve", "in_progress", "agent", "agent", False, False)
    assert not rules.one_stop("start", "new", "agent", "agent", False, False)
    assert not rules.one_stop("resolve", "new", "agent2", "agent", False, False)
    assert not rules.one_stop("resolve", "new", "agent", "agent", True, False)
    assert not rules.one_stop("resolve", "new", "agent", "agent", False, True)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("86123", "86123"),
        ("0571-88886666", "057188886666"),
        ("", None),
        (None, None),
        ("--", None),
    ],
)
def test_normalize_phone(raw: str | None, normal: str | None) -> None:
    assert rules.normalize_phone(raw) == normal
