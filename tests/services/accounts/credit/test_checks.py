"""Credit checks for order systems: reasons, reservations, idempotency, release, conversion,
and no over-commit under 50 concurrent checks on real PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import event

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


class _Statements:
    """The statements an engine sends (BEGIN/COMMIT apart) while counting."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine, self.sent = engine, []

    def _on(self, conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.sent.append(" ".join(statement.split()))

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self.sent

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)


def test_a_check_is_two_statements_and_a_repeat_one(  # type: ignore[no-untyped-def]
        api, post, hdr, finance, open_account, approve_archive, credit_ctx):
    """The hot path: one statement locks the credit row and reads the account, the order's
    check, the policy version and the default flag; then the check's INSERT with the credit
    row's UPDATE (one statement on PostgreSQL, two on SQLite). A repeated approved order reads
    once and writes nothing."""
    account = open_account()
    approve_archive(account)
    _limit(api, post, finance, hdr, account, "1000.00")
    orders = hdr("erp", "integration")
    post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-0", "amount": "1.00"})
    with _Statements(credit_ctx.bus.engine) as sent:
        post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "100.00"})
    assert sent[0].startswith("SELECT accounts.") and "JOIN credit_accounts" in sent[0]
    if credit_ctx.bus.engine.dialect.name == "postgresql":
        assert len(sent) == 2, sent
        assert sent[0].endswith("FOR UPDATE OF credit_accounts")
        assert sent[1].startswith("WITH new_check AS (INSERT INTO credit_checks")
        assert "UPDATE credit_accounts SET reserved=(credit_accounts.reserved + " in sent[1]
    else:  # SQLite: no FOR UPDATE (it serializes writers), no INSERT in a WITH
        assert len(sent) == 3, sent
        assert sent[1].startswith("INSERT INTO credit_checks")
        assert sent[2].startswith("UPDATE credit_accounts")
    with _Statements(credit_ctx.bus.engine) as sent:
        post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "100.00"}, status=200)
    assert len(sent) == 1, sent
    with _Statements(credit_ctx.bus.engine) as sent:  # held: no reservation to write
        post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-2", "amount": "5000.00"})
    assert len(sent) <= 3 and not any(s.startswith("UPDATE credit_accounts") for s in sent), sent
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert view["reserved"] == "101.00"


def test_a_policy_change_reaches_the_next_check(  # type: ignore[no-untyped-def]
        api, post, hdr, finance, admin, open_account, approve_archive):
    """The policy is cached per connection by its version: a change applies at once, to the
    default-liability months (the default flag is read again) and the reservation's life."""
    account = open_account()
    approve_archive(account)
    _limit(api, post, finance, hdr, account, "1000.00")
    post(f"{A}/{account}/charges", finance, {"order_id": "OLD", "amount": "10.00",
                                             "issued_on": "2026-02-01", "due_on": "2026-03-01"})
    orders = hdr("erp", "integration")
    held = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "1.00"})
    assert [r["code"] for r in held["reasons"]] == ["overdue_beyond_2_months"]
    resp = api.put(f"{A}/credit-policy", headers=admin, json={
        "changes": {"default_liability_months": 4, "reservation_hours": 24}, "reason": "r"})
    assert resp.status_code == 200, resp.json
    passed = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "1.00"},
                  status=200)
    assert passed["status"] == "reserved", passed
    assert passed["expires_at"].startswith("2026-06-16T02:00:00")  # 24 h after 15 June 02:00 UTC
    resp = api.put(f"{A}/credit-policy", headers=admin, json={
        "changes": {"default_liability_months": 2}, "reason": "back"})
    assert resp.status_code == 200
    again = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-2", "amount": "1.00"})
    assert [r["code"] for r in again["reasons"]] == ["overdue_beyond_2_months"]


def test_an_order_checked_after_the_lock_was_read_is_a_repeat(  # type: ignore[no-untyped-def]
        api, post, hdr, finance, open_account, approve_archive, credit_ctx):
    """The locking statement saw no check of the order, yet one was committed before the
    insert (a retry racing its original): the insert yields, and the order is decided as a
    repeat — the existing check, no second reservation."""
    from accounts.checks import service
    from accounts.credit import policy as credit_policy
    from accounts.ledger.service import Op

    account = open_account()
    approve_archive(account)
    _limit(api, post, finance, hdr, account, "1000.00")
    orders = hdr("erp", "integration")
    first = post(f"{A}/{account}/credit/checks", orders, {"order_id": "SO-1", "amount": "100.00"})
    now = credit_ctx.clock()
    with credit_ctx.bus.session_factory() as session, session.begin():
        locked = service.lock(session, account, "SO-1", now.date())
        assert locked is not None and locked.existing is not None
        stale = dataclasses.replace(locked, existing=None)  # as if read before the commit
        session.expunge(locked.existing)
        op = Op(session=session, emit=credit_ctx.bus.emit, account=locked.account, row=locked.row,
                policy=credit_policy.cached(session, locked.policy_version), now=now, actor="erp")
        found, created = service.check(op, order_id="SO-1", amount=Decimal("100.00"), currency=None,
                                       locked=stale)
        assert (found.id, found.status, created) == (first["id"], "reserved", False)
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert view["reserved"] == "100.00"
