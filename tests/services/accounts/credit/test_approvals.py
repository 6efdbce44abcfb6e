"""The four-level limit-change approval, temporary increases and one-order exceptions."""

from __future__ import annotations

import pytest

from accounts.credit.scheduler import run_all
from testkit.events import outbox_events

pytestmark = pytest.mark.integration
A = "/api/v1/accounts"
CHAIN = (("opsmgr", "sales_ops_manager"), ("vp", "sales_vp"), ("gm", "sales_gm"), ("ceo", "group_gm"))


def test_four_levels_in_order_then_the_new_limit(  # type: ignore[no-untyped-def]
        api, post, hdr, open_account, approve_archive, credit_ctx):
    account = open_account()
    approve_archive(account)
    rep = hdr("rep1", "sales_rep", team="east")
    req = post(f"{A}/{account}/credit/requests", rep, {
        "proposed_limit": "50000.00", "reason": "new store opening", "address": "1 Harbour Rd",
        "contact": "Li Si", "phone": "0574 8765 4321"})
    assert req["status"] == "pending" and req["awaiting_role"] == "sales_ops_manager"
    assert req["chain"] == [r for _, r in CHAIN] and req["current_limit"] == "0.00"
    assert req["form"]["responsible_rep"] == "rep1" and req["form"]["request_date"] == "2026-06-15"
    url = f"{A}/{account}/credit/requests/{req['id']}/decisions"
    ok = {"decision": "approved", "opinion": "同意"}
    # wrong role, out of order, bad input
    assert api.post(url, headers=hdr("vp", "sales_vp"), json=ok).status_code == 403
    assert api.post(url, headers=hdr("opsmgr", "sales_ops_manager"),
                    json={**ok, "step": 2}).status_code == 409
    assert api.post(url, headers=hdr("opsmgr", "sales_ops_manager"),
                    json={"decision": "maybe", "opinion": "x"}).status_code == 422
    for i, (who, role) in enumerate(CHAIN, start=1):
        body = post(url, hdr(who, role), {**ok, "step": i})
    assert body["status"] == "approved" and [d["role"] for d in body["decisions"]] == [r for _, r in CHAIN]
    assert api.post(url, headers=hdr("ceo", "group_gm"), json=ok).status_code == 409
    view = api.get(f"{A}/{account}/credit", headers=rep).json
    assert view["effective_limit"] == "50000.00" and view["standard_limit"] == "0.00"
    changed = outbox_events(credit_ctx.bus, "accounts.credit.limit_changed.v1")[-1]["data"]
    assert (changed["old_limit"], changed["new_limit"], changed["cause"]) == ("0.00", "50000.00", "approval")
    asked = outbox_events(credit_ctx.bus, "accounts.credit.approval_requested.v1")
    assert [(e["data"]["step"], e["data"]["approver_role"]) for e in asked] == [
        (i, r) for i, (_, r) in enumerate(CHAIN, start=1)]
    decided = outbox_events(credit_ctx.bus, "accounts.credit.approval_decided.v1")
    assert [e["data"]["final"] for e in decided] == [False, False, False, True]


def test_rejection_ends_it_and_requester_never_approves_own(  # type: ignore[no-untyped-def]
        api, post, hdr, open_account):
    account = open_account()
    ops = hdr("opsmgr", "sales_ops_manager")
    own = post(f"{A}/{account}/credit/requests", ops, {"proposed_limit": "10.00", "reason": "r"})
    assert api.post(f"{A}/{account}/credit/requests/{own['id']}/decisions", headers=ops,
                    json={"decision": "approved", "opinion": "mine"}).status_code == 403
    post(f"{A}/{account}/credit/requests/{own['id']}/decisions", hdr("opsmgr2", "sales_ops_manager"),
         {"decision": "approved", "opinion": "ok"})
    rejected = post(f"{A}/{account}/credit/requests/{own['id']}/decisions", hdr("vp", "sales_vp"),
                    {"decision": "rejected", "opinion": "too risky"})
    assert rejected["status"] == "rejected" and rejected["awaiting_role"] is None
    assert api.post(f"{A}/{account}/credit/requests/{own['id']}/decisions", headers=hdr("gm", "sales_gm"),
                    json={"decision": "approved", "opinion": "x"}).status_code == 409
    assert api.get(f"{A}/{account}/credit", headers=ops).json["effective_limit"] is None
    for body in ({"proposed_limit": "-1", "reason": "r"}, {"proposed_limit": "1.001", "reason": "r"},
                 {"reason": "r"}, {"proposed_limit": "5", "reason": "r", "extra": 1}):
        assert api.post(f"{A}/{account}/credit/requests", headers=ops, json=body).status_code == 422


def test_temporary_increase_reverts_on_its_end_date(  # type: ignore[no-untyped-def]
        api, post, hdr, open_account, approve_archive, credit_ctx, clock):
    account = open_account()
    approve_archive(account)
    fin = hdr("finance", "finance")
    req = post(f"{A}/{account}/credit/requests", fin, {"proposed_limit": "8000.00", "reason": "season",
               "ends_on": "2026-06-30"})
    for who, role in CHAIN:
        post(f"{A}/{account}/credit/requests/{req['id']}/decisions", hdr(who, role),
             {"decision": "approved", "opinion": "ok"})
    view = api.get(f"{A}/{account}/credit", headers=fin).json
    assert (view["effective_limit"], view["temporary_increase"], view["limit_in_force"]) == (
        "0.00", "8000.00", "8000.00")
    bus = credit_ctx.bus
    clock.advance(days=15)  # 2026-06-30: still the last day
    run_all(bus.session_factory, bus, clock())
    assert api.get(f"{A}/{account}/credit", headers=fin).json["limit_in_force"] == "8000.00"
    clock.advance(days=1)
    run_all(bus.session_factory, bus, clock())
    run_all(bus.session_factory, bus, clock())
    view = api.get(f"{A}/{account}/credit", headers=fin).json
    assert view["limit_in_force"] == "0.00" and view["temporary_increase"] == "0.00"
    [ended] = outbox_events(bus, "accounts.credit.temporary_increase_expiring.v1")
    assert ended["data"]["amount"] == "8000.00" and ended["data"]["ends_on"] == "2026-06-30"
    causes = [e["data"]["cause"] for e in outbox_events(bus, "accounts.credit.limit_changed.v1")]
    assert causes == ["archive_approval", "temporary_increase", "temporary_increase_expired"]


def test_one_order_exception_passes_a_hold(  # type: ignore[no-untyped-def]
        api, post, hdr, open_account, approve_archive):
    account = open_account()
    approve_archive(account)
    ops, orders = hdr("opsmgr", "sales_ops_manager"), hdr("erp", "integration")
    post(f"{A}/{account}/credit/hold", ops, {"reason": "audit"}, status=200)
    held = post(f"{A}/{account}/credit/checks", orders, {"order_id": "VIP-1", "amount": "10.00"})
    assert held["status"] == "held"
    req = post(f"{A}/{account}/credit/requests", hdr("rep1", "sales_rep", team="east"),
               {"kind": "order_exception", "order_id": "VIP-1", "reason": "key customer"})
    assert req["chain"] == ["sales_ops_manager", "sales_vp"]  # the policy's exception levels
    for who, role in CHAIN[:2]:
        post(f"{A}/{account}/credit/requests/{req['id']}/decisions", hdr(who, role),
             {"decision": "approved", "opinion": "once"})
    passed = post(f"{A}/{account}/credit/checks", orders, {"order_id": "VIP-1", "amount": "10.00"},
                  status=200)
    assert passed["status"] == "reserved" and passed["reasons"][0]["code"] == "order_exception"
    other = post(f"{A}/{account}/credit/checks", orders, {"order_id": "VIP-2", "amount": "10.00"})
    assert other["status"] == "held"
