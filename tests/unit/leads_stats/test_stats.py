"""Pure statistics: local-calendar periods, reception counts, funnel numbers, CSV shape."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leads.stats import rules as stats

SH = ZoneInfo("Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_late_evening_in_shanghai_is_still_january() -> None:
    moment = utc(2026, 1, 31, 15, 30)  # 23:30 in Shanghai
    assert stats.local_day(moment, SH) == date(2026, 1, 31)
    jan = stats.period_of(stats.MONTH, date(2026, 1, 15), SH)
    assert jan.start <= moment < jan.end and jan.label == "2026-01"
    assert stats.local_day(utc(2026, 1, 31, 16, 0), SH) == date(2026, 2, 1)
    assert not utc(2026, 1, 31, 16, 0) < jan.end


def test_month_bounds_are_local_midnights() -> None:
    feb = stats.period_of(stats.MONTH, date(2028, 2, 10), SH)
    assert (feb.first_day, feb.last_day) == (date(2028, 2, 1), date(2028, 2, 29))
    assert feb.start == utc(2028, 1, 31, 16) and feb.end == utc(2028, 2, 29, 16)
    dec = stats.period_of(stats.MONTH, date(2026, 12, 31), SH)
    assert (dec.last_day, dec.label) == (date(2026, 12, 31), "2026-12")


def test_iso_weeks_run_monday_to_sunday_across_years() -> None:
    week = stats.period_of(stats.WEEK, date(2027, 1, 1), SH)  # a Friday
    assert (week.first_day, week.last_day) == (date(2026, 12, 28), date(2027, 1, 3))
    assert week.label == "2026-W53"
    sunday = stats.period_of(stats.WEEK, date(2026, 11, 29), SH)
    assert sunday.first_day == date(2026, 11, 23) and sunday.first_day.isoweekday() == 1


def test_periods_follow_daylight_saving_zones() -> None:
    ny = ZoneInfo("America/New_York")
    march = stats.period_of(stats.MONTH, date(2026, 3, 5), ny)
    assert march.start == utc(2026, 3, 1, 5) and march.end == utc(2026, 4, 1, 4)


def test_day_range_refuses_backwards_and_huge_ranges() -> None:
    with pytest.raises(ValueError):
        stats.day_range(date(2026, 2, 1), date(2026, 1, 1), SH)
    with pytest.raises(ValueError):
        stats.day_range(date(2025, 1, 1), date(2026, 12, 31), SH)
    assert stats.day_range(date(2026, 1, 1), date(2026, 1, 1), SH) == (
        utc(2025, 12, 31, 16), utc(2026, 1, 1, 16))


def test_median_and_rate() -> None:
    assert stats.median([]) is None and stats.median([3, 1, 2]) == 2 and stats.median([1, 4]) == 2.5
    assert stats.rate(1, 3) == 0.3333 and stats.rate(0, 0) is None


def test_daily_reception_buckets_by_local_day_and_rep() -> None:
    touches = [
        stats.Touch(utc(2026, 1, 31, 15, 30), "walk_in", "rep1", "east", True),  # Jan 31 local
        stats.Touch(utc(2026, 1, 31, 16, 30), "walk_in", "rep1", "east", False),  # Feb 1 local
        stats.Touch(utc(2026, 1, 31, 2, 0), "phone_call", "rep1", "east", True),
        stats.Touch(utc(2026, 1, 31, 3, 0), "phone_call", "rep1", "east", False),
        stats.Touch(utc(2026, 1, 31, 3, 0), "phone_call", "rep2", "east", True),
        stats.Touch(utc(2026, 1, 31, 3, 0), "web_form", "rep2", "east", True),  # not reception
    ]
    rows = stats.daily_reception(touches, SH)
    assert [(r["date"], r["owner_id"]) for r in rows] == [
        ("2026-01-31", "rep1"), ("2026-01-31", "rep2"), ("2026-02-01", "rep1")]
    assert rows[0] | {} == {
        "date": "2026-01-31", "owner_id": "rep1", "owner_team": "east", "walk_ins": 1,
        "new_walk_ins": 1, "repeat_walk_ins": 0, "calls": 2, "new_calls": 1, "repeat_calls": 1,
        "total": 3}
    assert stats.daily_totals(rows)["total"] == 5


def _lead(source: str = "walk_in", owner: str = "rep1", status: str = "open", hours: float | None = None,
          stage: str | None = None, reason: str | None = None) -> stats.FunnelLead:
    created = utc(2026, 1, 10)
    converted = created + timedelta(hours=hours) if hours is not None else None
    return stats.FunnelLead(source, owner, "east", status, created, converted, stage, reason)


def test_funnel_counts_rates_medians_and_reasons() -> None:
    leads = [
        _lead(status="converted", hours=10, stage="won"), _lead(status="converted", hours=30, stage="won"),
        _lead(stage="negotiate"), _lead(stage="lost", reason="price"),
        _lead(status="lost", stage="lost", reason="price"),
        _lead(source="web_form", stage="terminated"),
    ]
    walk_in, web = stats.funnel(leads, stats.BY_SOURCE, with_stages=True)
    assert walk_in == {
        "group": "walk_in", "registered": 5, "open": 1, "converted": 2, "lost": 2, "terminated": 0,
        "conversion_rate": 0.4, "median_hours_to_convert": 20.0, "lost_reasons": {"price": 2},
        "stages": {"lost": 2, "negotiate": 1, "won": 2}}
    assert (web["group"], web["terminated"], web["conversion_rate"]) == ("web_form", 1, 0.0)
    assert web["median_hours_to_convert"] is None


def test_funnel_without_pipeline_data_says_not_tracked() -> None:
    [row] = stats.funnel([_lead(), _lead(status="converted", hours=5)], stats.BY_REP,
                         with_stages=False)
    assert row["group"] == "rep1" and row["converted"] == 1 and row["open"] == 1
    assert row["lost"] is None and row["stages"] is None and row["lost_reasons"] is None


def test_csv_has_bom_header_and_flattened_counts() -> None:
    body = stats.to_csv([{"group": "张三", "registered": 2, "stages": {"a": 1, "b": 2},
                          "lost": None}], ("group", "registered", "lost", "stages"))
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text == "group,registered,lost,stages\r\n张三,2,,a=1; b=2\r\n"
