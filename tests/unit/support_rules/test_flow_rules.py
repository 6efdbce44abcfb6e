"""Pure rules of complaints, appointments, return visits and reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from support.appointments import rules as appt
from support.complaints import rules as complaint
from support.complaints.rules import State
from support.policy.rules import SupportPolicy
from support.reports import rules as report
from support.visits import rules as visit
from support.workcal.rules import WorkCalendar
from support.workcal.service import calendar_for

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return calendar_for(SupportPolicy(), 2026)


# -- complaints ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (State(0), {1}),
        (State(1), {2}),
        (State(2, problem_found=True), {3}),
        (State(2, problem_found=False), set()),
        (State(2), {3}),
        (State(3), {4}),
        (State(4), {5}),
        (State(5), {6}),
        (State(6, satisfied=True), {8}),
        (State(6, satisfied=False), {7}),
        (State(6), {7}),
        (State(7), set()),
        (State(8), set()),
        (State(9), set()),
    ],
)
def test_next_steps(state: State, allowed: set[int]) -> None:
    assert complaint.next_steps(state) == frozenset(allowed)


def test_check_order() -> None:
    complaint.check_order(State(0), 1)
    with pytest.raises(complaint.OutOfOrder, match="②核查"):
        complaint.check_order(State(0), 2)
    with pytest.raises(complaint.OutOfOrder, match="nothing"):
        complaint.check_order(State(8), 9)
    with pytest.raises(complaint.OutOfOrder, match="sales_gm"):
        complaint.check_order(State(5, approvals_missing=("sales_gm",)), 6)
    complaint.check_order(State(5), 6)


def test_finishes() -> None:
    assert complaint.finishes(2, {"problem_found": False})
    assert not complaint.finishes(2, {"problem_found": True}) and not complaint.finishes(2, {})
    assert complaint.finishes(7, {}) and complaint.finishes(8, {}) and not complaint.finishes(6, {})


def test_step_errors() -> None:
    assert complaint.step_errors(1, {}) == {"material": "①受理 needs material."}
    assert complaint.step_errors(1, {"material": ""}) == {"material": "①受理 needs material."}
    assert complaint.step_errors(1, {"material": "m"}) == {}
    assert complaint.step_errors(2, {"problem_found": True}) == {}
    assert set(complaint.step_errors(2, {"problem_found": False})) == {"note"}
    assert complaint.step_errors(2, {"problem_found": False, "note": "why"}) == {}
    assert set(complaint.step_errors(3, {"category": "other"})) == {"category"}
    assert complaint.step_errors(3, {"category": "quality"}) == {}
    assert complaint.step_errors(4, {"plan": "p", "compensation": Decimal("5")}) == {}
    assert set(complaint.step_errors(5, {"opinion": "o", "compensation": Decimal("5")})) == {"compensation"}
    for step, name in ((4, "plan"), (5, "opinion"), (6, "satisfied"), (7, "note"), (8, "note")):
        assert set(complaint.step_errors(step, {})) == {name}
    assert complaint.step_errors(6, {"satisfied": False}) == {}


def test_required_and_missing_approvals() -> None:
    t = Decimal("10000.00")
    assert complaint.required_approvals(("sales_gm",), None, t) == ("sales_gm",)
    assert complaint.required_approvals(("sales_gm",), Decimal("9999.99"), t) == ("sales_gm",)
    assert complaint.required_approvals(("sales_gm",), Decimal("10000.00"), t) == ("sales_gm", "group_gm")
    assert complaint.required_approvals(("group_gm", "sales_gm"), Decimal("1e6"), t) == (
        "group_gm",
        "sales_gm",
    )
    assert complaint.required_approvals(("sales_gm", "sales_gm"), None, t) == ("sales_gm",)
    assert complaint.missing_approvals(("sales_gm", "group_gm"), ["group_gm"]) == ("sales_gm",)
    assert complaint.missing_approvals(("sales_gm",), ["sales_gm"]) == ()


def test_transfer_queue() -> None:
    qs = ("after_sales", "technical", "quality", "complaint_desk")
    assert complaint.transfer_queue("after_sales", qs) == "technical"
    assert complaint.transfer_queue("complaint_desk", qs) == "after_sales"
    assert complaint.transfer_queue("supervision", qs) == "after_sales"
    assert complaint.transfer_queue("after_sales", ("after_sales", "x")) == "x"


# -- appointments -----------------------------------------------------------------------------


def at(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=SH)


NOW = at(3, 2, 10)  # Monday


@pytest.mark.parametrize(
    ("starts", "urgent", "reason", "errors"),
    [
        (at(3, 9, 10), False, None, set()),  # 5 working days ahead
        (at(3, 9, 0), False, None, set()),  # any hour of that day
        (at(3, 6, 23), False, None, {"starts_at"}),  # 4 working days
        (at(3, 4, 10), False, None, {"starts_at"}),  # 2 working days
        (at(3, 4, 10), True, "line down", set()),
        (at(3, 4, 10), True, None, {"urgent_reason"}),
        (at(3, 4, 10), True, "  ", {"urgent_reason"}),
        (at(3, 9, 10, 30), False, None, {"starts_at"}),
        (at(3, 9, 10).replace(second=1), False, None, {"starts_at"}),
        (at(3, 9, 10).replace(microsecond=1), False, None, {"starts_at"}),
        (at(3, 2, 10), True, "x", {"starts_at"}),  # now is not the future
        (at(3, 2, 9), True, "x", {"starts_at"}),
    ],
)
def test_schedule_errors(
    cal: WorkCalendar, starts: datetime, urgent: bool, reason: str | None, errors: set[str]
) -> None:
    assert set(appt.schedule_errors(cal, NOW, starts, 5, urgent, reason)) == errors


def test_schedule_errors_across_holidays(cal: WorkCalendar) -> None:
    now = at(2, 12, 10)
    assert appt.schedule_errors(cal, now, at(2, 24, 10), 5, False, None)
    assert not appt.schedule_errors(cal, now, at(2, 26, 10), 5, False, None)
    assert not appt.schedule_errors(cal, now, at(2, 13, 10), 0, False, None)
    assert (
        "5 working days ahead (this is 3)"
        in appt.schedule_errors(cal, now, at(2, 24, 10), 5, False, None)["starts_at"]
    )


def test_reschedule_errors(cal: WorkCalendar) -> None:
    ok = {"by": "Li", "channel": "phone"}
    assert appt.reschedule_errors(cal, NOW, at(3, 3, 10), at(3, 9, 10), ok) == {}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 3, 10), at(3, 9, 10), None)) == {"consent"}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 3, 10), at(3, 9, 10), {"by": "Li"})) == {"consent"}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 3, 10), at(3, 9, 10), {"channel": "x"})) == {"consent"}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 3, 10, 5), at(3, 9, 10), ok)) == {"starts_at"}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 2, 9), at(3, 9, 10), ok)) == {"starts_at"}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 2, 10), at(3, 9, 10), ok)) == {"starts_at"}
    assert set(appt.reschedule_errors(cal, NOW, at(3, 9, 10), at(3, 9, 10), ok)) == {"starts_at"}


def test_reminder_overlap_and_order() -> None:
    assert appt.remind_at(at(3, 9, 10), 60) == at(3, 9, 9)
    assert appt.overlaps(at(3, 9, 10), at(3, 9, 11, 59), 120)
    assert not appt.overlaps(at(3, 9, 10), at(3, 9, 12), 120)
    assert appt.overlaps(at(3, 9, 12), at(3, 9, 10, 1), 120)
    assert appt.busy([at(3, 9, 8), at(3, 9, 12, 59)], at(3, 9, 11), 120)
    assert not appt.busy([at(3, 9, 8), at(3, 9, 14)], at(3, 9, 11), 120)
    assert not appt.busy([], at(3, 9, 11), 120)
    slots = [
        appt.Slot("a", at(3, 9, 9), False, False),
        appt.Slot("b", at(3, 9, 15), True, False),
        appt.Slot("c", at(3, 9, 16), False, True),
        appt.Slot("d", at(3, 9, 11), True, False),
        appt.Slot("e", at(3, 9, 11), True, False),
    ]
    assert [s.id for s in appt.scheduling_order(slots)] == ["c", "d", "e", "b", "a"]


# -- return visits ------------------------------------------------------------------------------


def test_sampling_and_needs_visit() -> None:
    keys = [f"t{i}" for i in range(2000)]
    assert all(visit.sampled(k, 100) for k in keys[:50]) and not any(visit.sampled(k, 0) for k in keys[:50])
    share = sum(visit.sampled(k, 30) for k in keys) / len(keys)
    assert 0.25 < share < 0.35
    assert visit.sampled("t1", 30) == visit.sampled("t1", 30)
    assert visit.sampled("t1", 101) and not visit.sampled("t1", -1)
    assert visit.needs_visit("t1", True, 100, 0) and not visit.needs_visit("t1", False, 100, 0)
    assert visit.needs_visit("t1", False, 0, 100) and not visit.needs_visit("t1", True, 0, 100)


def test_visit_dates_and_branches() -> None:
    resolved = datetime(2026, 3, 2, 2, tzinfo=UTC)
    assert visit.due_after(resolved, 3) == resolved + timedelta(days=3)
    assert visit.needs_follow_up("neutral") and visit.needs_follow_up("dissatisfied")
    assert not visit.needs_follow_up("satisfied")
    assert visit.LABELS == {"satisfied": "满意", "neutral": "一般", "dissatisfied": "不满意"}
    assert visit.overdue(resolved, resolved + timedelta(seconds=1), False)
    assert not visit.overdue(resolved, resolved, False) and not visit.overdue(
        resolved, resolved + timedelta(1), True
    )


@pytest.mark.parametrize(
    ("delivered", "n", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 1, 31), 12, date(2027, 1, 31)),
        (date(2026, 1, 31), 13, date(2027, 4, 30)),
        (date(2026, 1, 31), 14, date(2027, 7, 31)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
    ],
)
def test_project_visits(delivered: date, n: int, expected: date) -> None:
    assert visit.project_visit_on(delivered, n, 12, 1, 3) == expected


def test_project_visits_other_cadences() -> None:
    assert visit.project_visit_on(date(2026, 1, 10), 1, 12, 2, 6) == date(2026, 3, 10)
    assert visit.project_visit_on(date(2026, 1, 10), 6, 12, 2, 6) == date(2027, 1, 10)
    assert visit.project_visit_on(date(2026, 1, 10), 7, 12, 2, 6) == date(2027, 7, 10)
    assert visit.project_visit_on(date(2026, 1, 10), 1, 0, 1, 3) == date(2026, 4, 10)
    with pytest.raises(ValueError):
        visit.project_visit_on(date(2026, 1, 10), 0, 12, 1, 3)
    assert visit.add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert visit.add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


# -- reports -------------------------------------------------------------------------------------


def test_windows() -> None:
    start, end = report.month_window("2026-03", SH)
    assert start == datetime(2026, 2, 28, 16, tzinfo=UTC) and end == datetime(2026, 3, 31, 16, tzinfo=UTC)
    start, end = report.month_window("2026-12", SH)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC) and start.tzinfo == UTC
    for bad in ("2026-13", "2026", "march"):
        with pytest.raises(ValueError):
            report.month_window(bad, SH)
    friday, start, end = report.week_window(date(2026, 3, 4), SH)
    assert friday == date(2026, 3, 6)
    assert start == datetime(2026, 2, 27, 16, tzinfo=UTC) and end == datetime(2026, 3, 6, 16, tzinfo=UTC)
    assert report.week_window(date(2026, 3, 6), SH)[0] == date(2026, 3, 6)
    assert report.week_window(date(2026, 3, 7), SH)[0] == date(2026, 3, 13)
    assert report.day_window(date(2026, 3, 1), date(2026, 3, 1), SH) == (
        datetime(2026, 2, 28, 16, tzinfo=UTC),
        datetime(2026, 3, 1, 16, tzinfo=UTC),
    )
    with pytest.raises(ValueError):
        report.day_window(date(2026, 3, 2), date(2026, 3, 1), SH)


def test_rates_and_hours() -> None:
    assert report.rate(1, 3) == 0.3333 and report.rate(0, 0) is None and report.rate(2, 2) == 1.0
    assert report.hours_summary([]) == {"count": 0, "mean": None, "median": None, "max": None}
    assert report.hours_summary([1.0, 2.0, 6.0]) == {"count": 3, "mean": 3.0, "median": 2.0, "max": 6.0}
    assert report.hours_summary([1.234, 1.235]) == {"count": 2, "mean": 1.23, "median": 1.23, "max": 1.24}


def test_flatten_and_cells() -> None:
    rows = report.flatten(
        {
            "report": "x",
            "intake": {"total": 3, "by_kind": {"a": 1}},
            "items": [{"n": "=1"}],
            "skip": 1,
            "tags": ["a"],
        },
        skip=("skip",),
    )
    assert rows == [
        ("", "report", "x"),
        ("intake", "total", 3),
        ("intake", "by_kind.a", 1),
        ("items", "[1].n", "=1"),
        ("tags", "[1]", "a"),
    ]
    assert [
        report.safe_cell(v) for v in ("=1+1", "+x", "-x", "@x", "\tx", "\rx", "ok", 5, 1.5, None, True, False)
    ] == ["'=1+1", "'+x", "'-x", "'@x", "'\tx", "'\rx", "ok", 5, 1.5, "", "true", "false"]
    assert report.safe_cell(date(2026, 3, 1)) == "2026-03-01"


def test_csv_and_xlsx() -> None:
    data = report.to_csv([("s", "m", "=cmd"), ("s", "n", 2)]).decode("utf-8")
    assert data == "\ufeff类别 section,指标 metric,数值 value\r\ns,m,'=cmd\r\ns,n,2\r\n"
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(report.to_xlsx("x" * 40, [("s", "m", "@x"), ("s", "n", 2)])))
    sheet = book.active
    assert sheet.title == "x" * 31
    assert list(sheet.iter_rows(values_only=True)) == [report.HEADERS, ("s", "m", "'@x"), ("s", "n", 2)]
