"""Holds: manual place/release with history and events; overdue → payment notice; overdue
beyond two months → violation + hold; a payment that cures it releases the hold."""

from __future__ import annotations

import pytest

from accounts.credit.scheduler import run_all
from testkit.events import outbox_events

pytestmark = pytest.mark.integration
A = "/api/v1/accounts"


def test_manual_hold_and_release(api, post, hdr, open_account, credit_ctx):  # type: ignore[no-untyped-def]
    account = open_account()
    ops = hdr("opsmgr", "sales_ops_manager")
    held = post(f"{A}/{account}/credit/hold", ops, {"reason": "disputed delivery"}, status=200)
    assert held["state"] == "on_hold" and held["reasons"] == ["manual"]
    assert api.post(f"{A}/{account}/credit/hold", headers=ops,
                    json={"reason": "again"}).status_code == 409
    assert api.post(f"{A}/{account}/credit/hold", headers=hdr("rep1", "sales_rep"),
                    json={"reason": "x"}).status_code == 403
    assert api.post(f"{A}/{account}/credit/hold", headers=ops, json={}).status_code == 422
    check = post(f"{A}/{account}/credit/checks", hdr("erp", "integration"),
                 {"order_id": "O", "amount": "1.00"})
    assert "manual_hold" in {r["code"] for r in check["reasons"]}

    released = post(f"{A}/{account}/credit/hold/release", ops, {"reason": "settled"}, status=200)
    assert released["state"] == "released" and released["reasons"] == []
    assert [(h["from_state"], h["to_state"], h["note"]) for h in released["history"]] == [
        ("none", "on_hold", "disputed delivery"), ("on_hold", "released", "settled")]
    assert api.post(f"{A}/{account}/credit/hold/release", headers=ops,
                    json={"reason": "x"}).status_code == 409
    [placed] = outbox_events(credit_ctx.bus, "accounts.credit.hold_placed.v1")
    [freed] = outbox_events(credit_ctx.bus, "accounts.credit.hold_released.v1")
    assert placed["data"]["reasons"] == ["manual"] and placed["data"]["account_id"] == account
    assert freed["data"]["released_by"] == "opsmgr" and freed["data"]["reason"] == "settled"


def test_overdue_notice_then_default_liability_then_payment_releases(  # type: ignore[no-untyped-def]
        api, post, finance, open_account, credit_ctx, clock, hdr):
    account = open_account()
    charge = post(f"{A}/{account}/charges", finance, {"order_id": "SO-9", "amount": "300.00",
                  "issued_on": "2026-05-01", "due_on": "2026-06-01"})
    bus = credit_ctx.bus
    run_all(bus.session_factory, bus, clock())
    run_all(bus.session_factory, bus, clock())  # a second pass sends nothing twice
    [notice] = outbox_events(bus, "accounts.payment.overdue.v1")
    assert notice["data"]["charge_id"] == charge["id"] and notice["data"]["amount_due"] == "300.00"
    assert notice["data"]["days_overdue"] == 14 and notice["data"]["due_on"] == "2026-06-01"
    assert api.get(f"{A}/{account}/credit", headers=finance).json["hold"]["state"] == "none"

    clock.advance(days=62)  # 2026-08-16: beyond two months after 2026-06-01
    run_all(bus.session_factory, bus, clock())
    run_all(bus.session_factory, bus, clock())
    hold = api.get(f"{A}/{account}/credit/hold", headers=finance).json
    assert hold["state"] == "on_hold" and hold["reasons"] == ["overdue_default"]
    [violation] = hold["violations"]
    assert violation["type"] == "default_liability" and violation["charge_id"] == charge["id"]
    check = post(f"{A}/{account}/credit/checks", hdr("erp", "integration"),
                 {"order_id": "N", "amount": "1.00"})
    assert "overdue_beyond_2_months" in {r["code"] for r in check["reasons"]}
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert view["overdue"]["amount"] == "300.00" and view["overdue"]["default_liability"] is True

    post(f"{A}/{account}/payments", finance, {"amount": "300.00"})
    hold = api.get(f"{A}/{account}/credit/hold", headers=finance).json
    assert hold["state"] == "released" and hold["history"][-1]["note"] == "payment received"
    [released] = outbox_events(bus, "accounts.credit.hold_released.v1")
    assert released["data"]["reason"] == "payment received"


def test_a_lost_account_goes_on_hold_once_and_comes_back(api, hdr, open_account, credit_ctx):  # type: ignore[no-untyped-def]
    from accounts.models import Account
    from testkit.events import envelope, publish, running_worker, wait_settled

    account = open_account()
    finance = hdr("finance", "finance")

    def status(value: str) -> object:
        with credit_ctx.bus.session_factory() as session, session.begin():
            row = session.get(Account, account)
            old, row.status = row.status, value
        return envelope("accounts.account.status_changed.v1", {
            "account_id": account, "old_status": old, "new_status": value, "reason": "no orders",
            "version": 2}, subject=account, source="crm/accounts")

    with running_worker(credit_ctx.bus) as bus:
        lost = status("lost")
        publish(bus, lost)
        publish(bus, lost)  # redelivered: applied once
        wait_settled(bus, "duplicate")
        hold = api.get(f"{A}/{account}/credit/hold", headers=finance).json
        assert hold["state"] == "on_hold" and hold["reasons"] == ["account_lost"]
        check = api.post(f"{A}/{account}/credit/checks", headers=hdr("erp", "integration"),
                         json={"order_id": "L1", "amount": "1.00"}).json
        assert "account_lost" in {r["code"] for r in check["reasons"]}
        publish(bus, status("active"))
        wait_settled(bus, "handled", 2)
    assert api.get(f"{A}/{account}/credit/hold", headers=finance).json["state"] == "released"
    assert len(outbox_events(credit_ctx.bus, "accounts.credit.hold_placed.v1")) == 1


def test_hooks_for_the_archive(api, post, hdr, open_account, credit_ctx, approve_archive):  # type: ignore[no-untyped-def]
    from accounts.credit.hooks import credit_columns, credit_hold

    account = open_account()
    approve_archive(account)
    with credit_ctx.bus.session_factory() as session:
        assert credit_hold(session, account) is False
        columns = credit_columns(session, [account])[account]
        assert columns.credit_limit == 0 and columns.performance_rate == 1
    post(f"{A}/{account}/credit/hold", hdr("opsmgr", "sales_ops_manager"), {"reason": "x"}, status=200)
    with credit_ctx.bus.session_factory() as session:
        assert credit_hold(session, account) is True
