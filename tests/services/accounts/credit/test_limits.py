"""The credit limit formula, its inputs, the effective limit from the archive's approval."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.limits import rules
from testkit.events import envelope, outbox_events, publish, running_worker, wait_settled

pytestmark = pytest.mark.integration
A = "/api/v1/accounts"


def test_windows_and_formula() -> None:
    assert rules.add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert rules.previous_period(date(2026, 6, 15), 3) == (date(2026, 1, 1), date(2026, 4, 1))
    assert rules.previous_period(date(2026, 1, 5), 3) == (date(2025, 10, 1), date(2026, 1, 1))
    assert rules.overdue_beyond(date(2026, 4, 14), date(2026, 6, 15), 2)
    assert not rules.overdue_beyond(date(2026, 4, 15), date(2026, 6, 15), 2)
    inputs = rules.LimitInputs(sales_total=Decimal("120000.00"), window_months=12,
                               due_last_period=Decimal("1000"), paid_on_time=Decimal("800"),
                               rate=rules.on_time_rate(Decimal("1000"), Decimal("800"), Decimal(1)),
                               grade="B", coefficient=Decimal("1.20"))
    assert inputs.monthly_average == Decimal("10000.00")
    assert inputs.standard_limit == Decimal("9600.00")  # 10000 * 0.8 * 1.2


def test_credit_view_shows_inputs_and_cash_before_delivery(  # type: ignore[no-untyped-def]
        api, post, finance, open_account, approve_archive, credit_ctx, set_grade):
    account = open_account()
    set_grade(account, "A")  # coefficient 1.20 in the archive's default policy
    # Q1 2026 is the last period (today 2026-06-15): 1000 due, 600 paid by the due date.
    post(f"{A}/{account}/charges", finance, {"order_id": "A", "amount": "600.00",
         "issued_on": "2026-01-10", "due_on": "2026-02-10"})
    post(f"{A}/{account}/charges", finance, {"order_id": "B", "amount": "400.00",
         "issued_on": "2026-02-10", "due_on": "2026-03-10"})
    post(f"{A}/{account}/charges", finance, {"order_id": "C", "amount": "11000.00",
         "issued_on": "2026-05-10", "due_on": "2026-07-10"})
    post(f"{A}/{account}/payments", finance, {"amount": "600.00", "received_on": "2026-02-01"})
    post(f"{A}/{account}/payments", finance, {"amount": "400.00", "received_on": "2026-03-20"})
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    inputs = view["inputs"]
    assert inputs["sales_total"] == "12000.00" and inputs["monthly_average_sales"] == "1000.00"
    assert inputs["due_last_period"] == "1000.00" and inputs["paid_on_time"] == "600.00"
    assert inputs["on_time_rate"] == "0.6000" and inputs["grade_coefficient"] == "1.20"
    assert inputs["performance_period"] == {"from": "2026-01-01", "until": "2026-04-01"}
    assert inputs["grade"] == "A" and view["standard_limit"] == "720.00"  # 1000 * 0.6 * 1.2
    assert view["effective_limit"] is None
    assert view["cash_before_delivery"] is True and view["archive_approved"] is False
    assert view["exposure"] == "11000.00" and view["hold"] == {"state": "none", "reasons": []}

    approve_archive(account)
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert view["effective_limit"] == "720.00" and view["archive_approved"] is True
    [changed] = outbox_events(credit_ctx.bus, "accounts.credit.limit_changed.v1")
    assert changed["data"]["cause"] == "archive_approval" and changed["data"]["new_limit"] == "720.00"
    assert changed["data"]["old_limit"] is None
    # exposure 11000 over the 720 limit: on hold for it
    assert view["hold"] == {"state": "on_hold", "reasons": ["over_limit"]}


def test_archive_approved_event_sets_the_limit_once(  # type: ignore[no-untyped-def]
        credit_ctx, open_account, api, finance):
    account = open_account()
    event = envelope("accounts.archive.approved.v1", {"account_id": account, "approved_by": "ceo",
                     "version": 2, "account_code": "C-000001"}, subject=account, source="crm/accounts")
    with running_worker(credit_ctx.bus) as bus:
        publish(bus, event)
        publish(bus, event)  # redelivered: applied once
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    assert api.get(f"{A}/{account}/credit", headers=finance).json["archive_approved"] is True
    assert len(outbox_events(credit_ctx.bus, "accounts.credit.limit_changed.v1")) == 1


def test_recompute_on_demand_and_policy_is_audited(  # type: ignore[no-untyped-def]
        api, hdr, open_account, admin):
    account = open_account()
    reviewer = hdr("reviewer", "review_group")
    resp = api.post(f"{A}/{account}/credit/recompute", headers=reviewer)
    assert resp.status_code == 200 and resp.json["computed_at"] is not None
    assert api.post(f"{A}/{account}/credit/recompute", headers=hdr("rep1", "sales_rep")).status_code == 403
    resp = api.put("/api/v1/accounts/credit-policy", headers=admin,
                   json={"reason": "half-year window", "changes": {"sales_window_months": 6}})
    assert resp.status_code == 200 and resp.json["policy"]["sales_window_months"] == 6
    bad = api.put("/api/v1/accounts/credit-policy", headers=admin,
                  json={"reason": "x", "changes": {"performance_period_months": 5, "nope": 1}})
    assert bad.status_code == 422 and "nope" in bad.json["errors"]["json"]["changes"]
    assert api.put("/api/v1/accounts/credit-policy", headers=reviewer,
                   json={"reason": "x", "changes": {}}).status_code == 403


def test_scheduled_recomputation_of_every_account(  # type: ignore[no-untyped-def]
        api, post, finance, open_account, credit_ctx, clock, set_grade):
    from accounts.limits.service import recompute_all

    first, second = open_account("First Co"), open_account("Second Co")
    set_grade(first, "B")
    post(f"{A}/{first}/charges", finance, {"order_id": "F1", "amount": "12000.00",
         "issued_on": "2026-06-01"})
    assert recompute_all(credit_ctx.bus.session_factory, clock(), batch=1) >= 2
    views = {a: api.get(f"{A}/{a}/credit", headers=finance).json for a in (first, second)}
    assert views[first]["inputs"]["standard_limit"] == "1000.00"  # 12000 / 12 * 1.00 * 1.00
    assert views[first]["computed_at"] is not None and views[second]["computed_at"] is not None
