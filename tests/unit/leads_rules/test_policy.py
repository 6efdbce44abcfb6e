"""Lead policy: defaults from the documents, validation naming fields, JSON round trip, month arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from leads.policy.rules import LeadPolicy, PolicyError, StageSpec, add_months

SH = ZoneInfo("Asia/Shanghai")


def test_defaults_are_the_documents_numbers() -> None:
    p = LeadPolicy()
    assert (p.protection_months, p.claimable_after_months, p.protection_warning_days) == (2, 3, 7)
    assert (p.first_contact_days, p.key_lead_contact_days) == (7, 7)
    assert (p.trade_show_escalation_days, p.trade_show_breach_days) == (7, 14)
    assert (p.split_chosen_rep_percent, p.split_shared_percent) == (80, 50)
    assert p.split_owner_with_assistant_percent == 80
    assert p.timezone == "Asia/Shanghai"
    assert p.stage_keys == ("identify", "information", "value_assessment", "relationship", "closing")
    assert p.stage("information").exit_checklist == ("inside_contact", "information_sufficient", "need_clear")
    assert p.plan_required_classes == ("A", "B") and p.key_lead_classes == ("A",)
    assert "chose_competitor" in p.lost_reasons


def test_json_round_trip_and_change_audit() -> None:
    p = LeadPolicy()
    stored = json.loads(json.dumps(p.to_dict()))
    assert LeadPolicy.from_dict(stored) == p
    changed = p.with_changes(protection_months=3, claimable_after_months=4)
    assert p.changes(changed) == {"protection_months": (2, 3), "claimable_after_months": (3, 4)}
    assert LeadPolicy.from_dict(json.loads(json.dumps(changed.to_dict()))) == changed


def test_from_dict_fills_missing_fields_with_defaults() -> None:
    assert LeadPolicy.from_dict({"first_contact_days": 3}) == LeadPolicy(first_contact_days=3)


def test_custom_stages_from_json() -> None:
    p = LeadPolicy.from_dict({"stages": [{"key": "a", "label": "A", "exit_checklist": ["x"]}, {"key": "b"}]})
    assert p.stages == (StageSpec("a", "A", ("x",)), StageSpec("b", "b", ()))


@pytest.mark.parametrize(
    ("changes", "bad_fields"),
    [
        ({"protection_months": 0}, {"protection_months"}),
        ({"protection_months": True}, {"protection_months"}),
        ({"first_contact_days": "7"}, {"first_contact_days"}),
        ({"claimable_after_months": 1}, {"claimable_after_months"}),
        ({"trade_show_breach_days": 7}, {"trade_show_breach_days"}),
        (
            {"split_shared_percent": 101, "split_chosen_rep_percent": -1},
            {"split_shared_percent", "split_chosen_rep_percent"},
        ),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"lost_reasons": []}, {"lost_reasons"}),
        ({"lost_reasons": ["price", "price"]}, {"lost_reasons"}),
        ({"plan_required_classes": ["Z"]}, {"plan_required_classes"}),
        ({"stages": []}, {"stages"}),
        ({"stages": [{"key": "won"}]}, {"stages"}),
        ({"stages": [{"key": "a"}, {"key": "a"}]}, {"stages"}),
        ({"stages": [{"key": "a", "exit_checklist": "xyz"}]}, {"stages"}),
        ({"no_such_setting": 1, "protection_months": 0}, {"no_such_setting"}),
    ],
)
def test_bad_values_are_refused_naming_the_fields(changes: dict, bad_fields: set[str]) -> None:
    with pytest.raises(PolicyError) as info:
        LeadPolicy().with_changes(**changes)
    assert set(info.value.errors) == bad_fields
    assert isinstance(info.value, ValueError)
    for name in bad_fields:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, 10, 0, tzinfo=SH), 1, datetime(2026, 2, 28, 10, 0, tzinfo=SH)),
        (datetime(2028, 1, 31, 10, 0, tzinfo=SH), 1, datetime(2028, 2, 29, 10, 0, tzinfo=SH)),
        (datetime(2026, 1, 31, 10, 0, tzinfo=SH), 2, datetime(2026, 3, 31, 10, 0, tzinfo=SH)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=SH), 2, datetime(2027, 2, 28, 23, 59, tzinfo=SH)),
        (datetime(2026, 3, 31, 9, 0, tzinfo=SH), -1, datetime(2026, 2, 28, 9, 0, tzinfo=SH)),
        (datetime(2026, 8, 30, 8, 0, tzinfo=SH), 3, datetime(2026, 11, 30, 8, 0, tzinfo=SH)),
    ],
)
def test_calendar_months_clamp_to_month_end(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months, SH) == expected


def test_months_are_counted_in_the_organization_timezone() -> None:
    # 2026-01-31 17:00 UTC is already Feb 1 01:00 in Shanghai: + 1 month is Mar 1 01:00 Shanghai,
    # not Feb 28 (which a UTC calculation would give).
    start = datetime(2026, 1, 31, 17, 0, tzinfo=UTC)
    assert LeadPolicy().add_months(start, 1) == datetime(2026, 3, 1, 1, 0, tzinfo=SH)
    assert add_months(start, 1, UTC) == datetime(2026, 2, 28, 17, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_months(datetime(2026, 1, 1), 1, SH)
