"""Pipeline: exit checklists, outcomes with reasons, A/B/C plan rule, time in stages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leads.intake.rules import RuleViolation
from leads.pipeline.rules import (
    FollowUpPlan,
    StageEntry,
    can_advance,
    close,
    reopen,
    time_in_stages,
    tracking_class_problems,
)
from leads.policy.rules import LeadPolicy, StageSpec

SH = ZoneInfo("Asia/Shanghai")
IDENTIFIED = {"opportunity_confirmed", "company_profile_known"}


def test_leaving_information_needs_inside_contact_information_and_need() -> None:
    assert can_advance(set(), "information", "value_assessment") == [
        "inside_contact",
        "information_sufficient",
        "need_clear",
    ]
    facts = {"inside_contact": True, "information_sufficient": False, "need_clear": True}
    assert can_advance(facts, "information", "value_assessment") == ["information_sufficient"]
    facts["information_sufficient"] = True
    assert can_advance(facts, "information", "value_assessment") == []


def test_skipping_stages_needs_every_checklist_left_behind() -> None:
    missing = can_advance(IDENTIFIED, "identify", "value_assessment")
    assert missing == ["inside_contact", "information_sufficient", "need_clear"]
    assert can_advance(set(), "identify", "information") == ["opportunity_confirmed", "company_profile_known"]


def test_moving_back_or_staying_needs_nothing() -> None:
    assert can_advance(set(), "relationship", "information") == []
    assert can_advance(set(), "closing", "closing") == []


def test_unknown_or_outcome_stages_are_refused_by_can_advance() -> None:
    with pytest.raises(ValueError):
        can_advance(set(), "identify", "won")
    with pytest.raises(ValueError):
        can_advance(set(), "nowhere", "identify")


def test_configured_stages_are_used() -> None:
    policy = LeadPolicy(stages=(StageSpec("one", "One", ("x",)), StageSpec("two", "Two")))
    assert can_advance([], "one", "two", policy) == ["x"]
    assert can_advance(["x"], "one", "two", policy) == []


def test_lost_needs_a_reason_from_the_list() -> None:
    with pytest.raises(RuleViolation):
        close("information", "lost")
    with pytest.raises(RuleViolation, match="unknown lost reason"):
        close("information", "lost", "felt like it")
    assert close("information", "lost", "chose_competitor").stage == "lost"
    custom = LeadPolicy(lost_reasons=("felt like it",))
    assert close("information", "lost", "felt like it", custom).reason == "felt like it"


def test_terminated_needs_a_risk_reason() -> None:
    with pytest.raises(RuleViolation):
        close("identify", "terminated")
    with pytest.raises(RuleViolation):
        close("identify", "terminated", "price")
    assert close("identify", "terminated", "credit_risk").reason == "credit_risk"


def test_won_from_any_active_stage_and_closed_leads_stay_closed() -> None:
    assert close("value_assessment", "won").stage == "won"
    for closed in ("won", "lost", "terminated"):
        with pytest.raises(RuleViolation):
            close(closed, "won")
    with pytest.raises(ValueError):
        close("identify", "vanished")


def test_only_lost_leads_reopen_at_the_first_stage() -> None:
    assert reopen("lost") == "identify"
    for stage in ("won", "terminated", "closing"):
        with pytest.raises(RuleViolation):
            reopen(stage)


@pytest.mark.parametrize("cls", ["A", "B"])
def test_a_and_b_need_a_follow_up_plan(cls: str) -> None:
    assert tracking_class_problems(cls, None) == ["follow_up_plan"]
    assert tracking_class_problems(cls, FollowUpPlan(" ", date(2026, 3, 3))) == ["next_step"]
    assert tracking_class_problems(cls, FollowUpPlan("send samples", date(2026, 3, 3))) == []
    stale = FollowUpPlan("send samples", date(2026, 3, 1))
    assert tracking_class_problems(cls, stale, today=date(2026, 3, 2)) == ["next_date_in_past"]


def test_c_needs_no_plan_and_unknown_class_is_refused() -> None:
    assert tracking_class_problems("C", None) == []
    assert tracking_class_problems("Z", None) == ["unknown tracking class 'Z'"]


def t(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=SH)


def test_time_in_stages_sums_revisits_and_counts_current_stage_to_now() -> None:
    history = [
        StageEntry("identify", t(1)),
        StageEntry("information", t(3)),
        StageEntry("identify", t(4)),
        StageEntry("information", t(4, 21)),
    ]
    spent = time_in_stages(history, now=t(10))
    assert spent == {"identify": timedelta(days=2, hours=12), "information": timedelta(days=6, hours=12)}
    assert list(spent) == ["identify", "information"]


def test_time_stops_when_the_lead_is_closed() -> None:
    history = [StageEntry("identify", t(1)), StageEntry("won", t(2))]
    assert time_in_stages(history, now=t(20)) == {"identify": timedelta(days=1)}


def test_time_in_stages_refuses_disorder() -> None:
    with pytest.raises(ValueError):
        time_in_stages([StageEntry("identify", t(5)), StageEntry("information", t(4))], now=t(6))
    with pytest.raises(ValueError):
        time_in_stages([StageEntry("identify", t(5))], now=t(4))
