"""The support policy: defaults from the documents, validation naming each bad field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from support.policy.rules import DEFAULT_ROUTING, ROUTE_KEYS, PolicyError, SupportPolicy


def errors_of(**changes: Any) -> dict[str, str]:
    with pytest.raises(PolicyError) as exc:
        SupportPolicy().with_changes(**changes)
    return exc.value.errors


def test_defaults_are_the_documents_values() -> None:
    p = SupportPolicy()
    assert (p.timezone, p.business_hours_start, p.business_hours_end) == ("Asia/Shanghai", "09:00", "18:00")
    assert p.business_weekdays == (1, 2, 3, 4, 5) and p.official_holidays == "CN"
    assert p.return_visit_days == 3 and p.member_visit_percent == 100 and p.grievance_days == 3
    assert p.appointment_min_working_days == 5 and p.appointment_reminder_minutes == 60
    assert p.money("penalty_unresolved") == Decimal("500.00")
    assert p.money("penalty_grievance_found") == Decimal("100.00")
    assert p.sla_warning_percent == 80 and p.major_role == "group_gm"
    assert p.day_start.hour == 9 and p.day_end.hour == 18 and str(p.tz) == "Asia/Shanghai"


def test_routing() -> None:
    p = SupportPolicy()
    assert p.queue_for("repair", "onsite") == "technical"
    assert p.queue_for("repair", "factory") == "quality"
    assert p.queue_for("repair", "paid") == "after_sales"
    assert p.queue_for("repair") == "technical"
    assert p.queue_for("complaint") == "complaint_desk"
    assert set(DEFAULT_ROUTING) == set(ROUTE_KEYS)


def test_targets_take_the_kind_override() -> None:
    p = SupportPolicy()
    assert p.target_minutes("inquiry", "normal", "first_response") == 240
    assert p.target_minutes("inquiry", "normal", "resolution") == 27 * 60
    assert p.target_minutes("major_fault", "normal", "first_response") == 15
    assert p.target_minutes("major_fault", "normal", "resolution") == 9 * 60
    assert p.target_minutes("complaint", "high", "resolution") == 9 * 60  # no override for high


def test_major() -> None:
    p = SupportPolicy()
    assert p.is_major("major_fault") and p.is_major("inquiry", flagged=True) and not p.is_major("inquiry")


def test_round_trip_and_changes() -> None:
    p = SupportPolicy()
    q = p.with_changes(
        sla_warning_percent=75,
        queues=["after_sales", "technical", "quality", "complaint_desk", "supervision", "vip"],
    )
    assert SupportPolicy.from_dict(q.to_dict()) == q
    assert p.changes(q) == {"sla_warning_percent": (80, 75), "queues": (list(p.queues), list(q.queues))}
    assert SupportPolicy.from_dict({"gone_field": 1}) == p
    assert p.changes(p) == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"timezone": 8}, "timezone"),
        ({"business_hours_start": "9"}, "business_hours_start"),
        ({"business_hours_start": "25:00"}, "business_hours_start"),
        ({"business_hours_start": "18:00"}, "business_hours_end"),
        ({"business_hours_end": "08:59"}, "business_hours_end"),
        ({"business_weekdays": []}, "business_weekdays"),
        ({"business_weekdays": [0]}, "business_weekdays"),
        ({"business_weekdays": [8]}, "business_weekdays"),
        ({"business_weekdays": [1, 1]}, "business_weekdays"),
        ({"business_weekdays": [True]}, "business_weekdays"),
        ({"official_holidays": "US"}, "official_holidays"),
        ({"extra_holidays": ["2026-13-01"]}, "extra_holidays"),
        ({"extra_holidays": ["2026-1-1"]}, "extra_holidays"),
        ({"extra_workdays": [20260101]}, "extra_workdays"),
        ({"extra_holidays": ["2026-03-02"], "extra_workdays": ["2026-03-02"]}, "extra_workdays"),
        ({"routing": {"inquiry": "after_sales"}}, "routing"),
        ({"routing": {**DEFAULT_ROUTING, "repair": "technical"}}, "routing"),
        ({"routing": {**DEFAULT_ROUTING, "inquiry": "nowhere"}}, "routing"),
        ({"routing": "after_sales"}, "routing"),
        ({"queues": []}, "queues"),
        ({"queues": ["a", "a"]}, "queues"),
        ({"queues": [" a"]}, "queues"),
        ({"sla_targets": {"normal": {"first_response": 60, "resolution": 120}}}, "sla_targets"),
        (
            {
                "sla_targets": {
                    p: {"first_response": 0, "resolution": 60} for p in ("low", "normal", "high", "urgent")
                }
            },
            "sla_targets",
        ),
        (
            {
                "sla_targets": {
                    p: {"first_response": 120, "resolution": 60} for p in ("low", "normal", "high", "urgent")
                }
            },
            "sla_targets",
        ),
        (
            {"sla_targets": {p: {"first_response": 60} for p in ("low", "normal", "high", "urgent")}},
            "sla_targets",
        ),
        ({"sla_kind_targets": {"nonsense": {}}}, "sla_kind_targets"),
        ({"sla_kind_targets": {"inquiry": {"asap": {}}}}, "sla_kind_targets"),
        ({"sla_kind_targets": {"inquiry": {"low": {"speed": 1}}}}, "sla_kind_targets"),
        ({"sla_kind_targets": {"inquiry": {"low": {"resolution": -5}}}}, "sla_kind_targets"),
        ({"sla_warning_percent": 100}, "sla_warning_percent"),
        ({"sla_warning_percent": 0}, "sla_warning_percent"),
        ({"sla_warning_percent": 101}, "sla_warning_percent"),
        ({"sla_warning_percent": "80"}, "sla_warning_percent"),
        ({"member_visit_percent": -1}, "member_visit_percent"),
        ({"escalation_chain": []}, "escalation_chain"),
        ({"escalation_chain": [{"percent": 90, "role": "x"}]}, "escalation_chain"),
        (
            {"escalation_chain": [{"percent": 150, "role": "x"}, {"percent": 120, "role": "y"}]},
            "escalation_chain",
        ),
        (
            {"escalation_chain": [{"percent": 150, "role": "x"}, {"percent": 150, "role": "y"}]},
            "escalation_chain",
        ),
        ({"escalation_chain": [{"percent": 150}]}, "escalation_chain"),
        ({"auto_close_days": 0}, "auto_close_days"),
        ({"grievance_days": 3661}, "grievance_days"),
        ({"return_visit_days": 2.5}, "return_visit_days"),
        ({"penalty_unresolved": "-1"}, "penalty_unresolved"),
        ({"penalty_unresolved": "1.005"}, "penalty_unresolved"),
        ({"penalty_unresolved": "lots"}, "penalty_unresolved"),
        ({"penalty_unresolved": 500}, "penalty_unresolved"),
        ({"major_kinds": ["earthquake"]}, "major_kinds"),
        ({"complaint_kinds": ["complaint", "complaint"]}, "complaint_kinds"),
        ({"major_role": ""}, "major_role"),
        ({"grievance_transfer_queues": ["after_sales"]}, "grievance_transfer_queues"),
        ({"grievance_transfer_queues": ["after_sales", "moon"]}, "grievance_transfer_queues"),
    ],
)
def test_each_bad_field_is_named(changes: dict[str, Any], field: str) -> None:
    assert field in errors_of(**changes)


def test_good_changes_pass() -> None:
    p = SupportPolicy().with_changes(
        business_weekdays=[1, 2, 3, 4, 5, 6],
        extra_holidays=["2027-02-08"],
        official_holidays="",
        escalation_chain=[{"percent": 100, "role": "support_supervisor"}],
        sla_warning_percent=1,
        penalty_unresolved="0",
        grievance_days=3660,
        project_first_period_months=0,
        appointment_min_working_days=0,
    )
    assert p.business_weekdays == (1, 2, 3, 4, 5, 6) and p.money("penalty_unresolved") == Decimal("0.00")
    assert "sla_warning_percent" in errors_of(sla_warning_percent=99.5)
    assert SupportPolicy().with_changes(sla_warning_percent=99).sla_warning_percent == 99


def test_error_message_lists_fields() -> None:
    with pytest.raises(PolicyError, match="auto_close_days"):
        SupportPolicy(auto_close_days=0)
