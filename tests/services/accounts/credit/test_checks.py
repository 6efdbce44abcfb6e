"""Credit checks for order systems: reasons, reservations, idempotency, release, conversion,
and no over-commit under 50 concurrent checks on real PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from accounts.app import create_app
from accounts.wiring import build

pytestmark = pytest.mark.integration
A = "/api/v1/accounts"


def _limit(api, post, finance, hdr, account, amount):  # type: ignore[no-untyped-def]
    """Give the account an approved limit through the four-level chain."""
    req = post(f"{A}/{account}/credit/requests", finance, {"proposed_limit": amount, "reason": "r"})
    for who, role in (("opsmgr", "sales_ops_manager"), ("vp", "sales_vp"), ("gm", "sales_gm"),
                      ("ceo", "group_gm")):
        post(f"{A}/{account}/credit/requests/{req['id']}/decisions", hdr(who, role),
             {"decision": "approved", "opinion": "ok"})


def test_held_with_every_reason_then_approved_with_a_reservation(  # type: ignore[no-untyped-def]
        api, post, hdr, finance, open_account, approve_archive):
    account = open_account()
    orders = hdr("erp", "integration")
    held = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "100.00"})
    assert held["status"] == "held" and held["approved"] is False
    codes = {r["code"]: r for r in held["reasons"]}
    assert set(codes) == {"archive_not_approved", "cash_before_delivery"}
    assert codes["cash_before_delivery"]["over_by"] == "100.00"

    approve_archive(account)  # no sales yet: standard limit 0.00
    _limit(api, post, finance, hdr, account, "1000.00")
    again = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "100.00"},
                 status=200)  # same order: evaluated again, now it passes
    assert again["status"] == "reserved" and again["approved"] is True and again["id"] == held["id"]
    repeat = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "100.00"},
                  status=200)
    assert repeat["id"] == held["id"] and repeat["status"] == "reserved"
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert view["reserved"] == "100.00" and view["available"] == "900.00"  # reserved once

    over = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-2", "amount": "950.00"})
    assert over["status"] == "held"
    assert over["reasons"] == [{"code": "over_limit", "over_by": "50.00",
                                "detail": "over the available 900.00 by 50.00"}]
    assert api.post(f"{A}/{account}/credit/checks", headers=orders,
                    json={"order_id": "SO-1", "amount": "99.00"}).status_code == 409

    # cancelled: released; invoiced: converted into a charge
    post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-3", "amount": "200.00"})
    released = post(f"{A}/{account}/credit/checks/SO-3/release", orders, status=200)
    assert released["status"] == "released"
    assert api.post(f"{A}/{account}/credit/checks/SO-3/release", headers=orders).status_code == 409
    post(f"{A}/{account}/charges", finance, {"order_id": "SO-1", "amount": "100.00"})
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert (view["reserved"], view["outstanding"], view["available"]) == ("0.00", "100.00", "900.00")


def test_reservations_expire_on_the_clock(  # type: ignore[no-untyped-def]
        api, post, hdr, finance, open_account, approve_archive, credit_ctx, clock):
    from accounts.credit.scheduler import run_all

    account = open_account()
    approve_archive(account)
    _limit(api, post, finance, hdr, account, "500.00")
    post(f"{A}/{account}/credit/checks", hdr("erp", "integration"), {"order_id": "X", "amount": "500.00"})
    clock.advance(hours=73)
    run_all(credit_ctx.bus.session_factory, credit_ctx.bus, clock())
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert view["reserved"] == "0.00" and view["available"] == "500.00"


def test_bad_check_input(api, hdr, open_account):  # type: ignore[no-untyped-def]
    account = open_account()
    orders = hdr("erp", "integration")
    for body in ({"order_id": "A", "amount": "-1"}, {"order_id": "A", "amount": "1.001"},
                 {"order_id": "A", "amount": "x"}, {"order_id": "A", "amount": "1", "currency": "QQQ"},
                 {"amount": "1"}):
        resp = api.post(f"{A}/{account}/credit/checks", headers=orders, json=body)
        assert resp.status_code == 422, body
    assert api.post(f"{A}/nope/credit/checks", headers=orders,
                    json={"order_id": "A", "amount": "1"}).status_code == 404
    assert api.post(f"{A}/{account}/credit/checks", headers=hdr("t", "technician"),
                    json={"order_id": "A", "amount": "1"}).status_code == 403


def test_fifty_concurrent_checks_never_over_commit(  # type: ignore[no-untyped-def]
        pg_url, isolated_bus, issuer, hdr):
    """Real PostgreSQL, 50 threads at once, one account with 1000.00 available: exactly ten
    checks of 100.00 are approved and the reservations add up to the limit."""
    from accounts.credit import policy as credit_policy
    from accounts.credit.state import credit_row
    from accounts.limits.service import on_archive_approved, set_effective
    from accounts.models import Account

    ctx = build(pg_url, "memory://")
    app = create_app(ctx, verifier=issuer.verifier())
    admin = hdr("admin", "admin")
    resp = app.test_client().post(A, headers=admin, json={"name": "Busy Co", "owner_id": "rep1"})
    account = resp.json["id"]
    with ctx.bus.session_factory() as session, session.begin():
        acc = session.get(Account, account)
        on_archive_approved(session, ctx.bus.emit, acc, now=ctx.clock(), actor="ceo")
        row = credit_row(session, account, "CNY")
        set_effective(session, ctx.bus.emit, acc, row, Decimal("1000.00"), cause="approval",
                      now=ctx.clock(), policy=credit_policy.current(session), actor="ceo")
    orders = hdr("erp", "integration")
    barrier = threading.Barrier(50)

    def one(i: int) -> str:
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"{A}/{account}/credit/checks", headers=orders,
                           json={"order_id": f"SO-{i}", "amount": "100.00"})
        assert resp.status_code == 201, resp.json
        return str(resp.json["status"])

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert statuses.count("reserved") == 10 and statuses.count("held") == 40
    view = app.test_client().get(f"{A}/{account}/credit", headers=admin).json
    assert view["reserved"] == "1000.00" and view["available"] == "0.00"
    ctx.bus.engine.dispose()
