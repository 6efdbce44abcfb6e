"""Ledger through the API: strict money, invoices announced with the lead code, payments
allocated oldest first, credit notes."""

from __future__ import annotations

import pytest

from testkit.events import outbox_events

pytestmark = pytest.mark.integration
A = "/api/v1/accounts"


@pytest.mark.parametrize("amount, message", [
    ("-5.00", "greater than zero"), ("abc", "Not a valid amount"), ("1.005", "two decimal"),
    ("NaN", "Not a valid amount"), (12.5, "Not a valid"), ("0", "greater than zero"),
])
def test_bad_amounts_are_refused_with_field_errors(  # type: ignore[no-untyped-def]
        api, finance, open_account, amount, message):
    account = open_account()
    resp = api.post(f"{A}/{account}/charges", headers=finance,
                    json={"order_id": "SO-1", "amount": amount})
    assert resp.status_code == 422 and resp.content_type.startswith("application/problem+json")
    assert message in " ".join(resp.json["errors"]["json"]["amount"])


def test_unknown_currency_and_unknown_fields_are_refused(  # type: ignore[no-untyped-def]
        api, finance, open_account):
    account = open_account()
    resp = api.post(f"{A}/{account}/charges", headers=finance,
                    json={"order_id": "SO-1", "amount": "10.00", "currency": "XYZ"})
    assert resp.status_code == 422 and "currency" in resp.json["errors"]["json"]
    resp = api.post(f"{A}/{account}/payments", headers=finance, json={"amount": "1.00", "tip": 1})
    assert resp.status_code == 422 and "tip" in resp.json["errors"]["json"]


def test_only_finance_posts_and_reps_see_only_their_accounts(  # type: ignore[no-untyped-def]
        api, hdr, open_account):
    account = open_account(owner_id="rep1")
    rep1, rep2 = hdr("rep1", "sales_rep", team="east"), hdr("rep2", "sales_rep", team="west")
    assert api.post(f"{A}/{account}/charges", headers=rep1,
                    json={"order_id": "SO-1", "amount": "1.00"}).status_code == 403
    assert api.get(f"{A}/{account}/credit", headers=rep1).status_code == 200
    assert api.get(f"{A}/{account}/credit", headers=rep2).status_code == 404
    assert api.get(f"{A}/{account}/credit", headers=hdr("x", "support_agent")).status_code == 200


def test_invoice_payment_oldest_first_and_credit_note(  # type: ignore[no-untyped-def]
        api, post, finance, open_account, credit_ctx):
    account = open_account()
    old = post(f"{A}/{account}/charges", finance, {"order_id": "SO-1", "amount": "100.00",
               "issued_on": "2026-05-01", "due_on": "2026-05-31", "lead_code": "L-000007"})
    new = post(f"{A}/{account}/charges", finance, {"order_id": "SO-2", "amount": "50.50",
               "issued_on": "2026-06-01"})
    assert new["due_on"] == "2026-07-01" and new["currency"] == "CNY"  # 30 days' terms
    [issued, _] = outbox_events(credit_ctx.bus, "accounts.invoice.issued.v1")
    data = issued["data"]
    assert data["order_id"] == "SO-1" and data["lead_code"] == "L-000007"
    assert data["amount"] == "100.00" and data["currency"] == "CNY"
    assert data["due_on"] == "2026-05-31" and data["account_code"].startswith("C-")
    assert data["owner_id"] == "rep1" and data["owner_team"] == "east"

    payment = post(f"{A}/{account}/payments", finance, {"amount": "120.00", "received_on": "2026-06-10"})
    assert [(a["charge_id"], a["amount"]) for a in payment["allocations"]] == [
        (old["id"], "100.00"), (new["id"], "20.00")]
    assert payment["unallocated"] == "0.00"

    note = post(f"{A}/{account}/credit-notes", finance, {"amount": "10.25", "reason": "damaged"})
    assert note["charge_id"] == new["id"]  # the oldest open charge
    resp = api.post(f"{A}/{account}/credit-notes", headers=finance,
                    json={"amount": "20.26", "reason": "too much", "charge_id": new["id"]})
    assert resp.status_code == 422  # more than the balance 20.25

    charges = {c["order_id"]: c for c in api.get(f"{A}/{account}/charges", headers=finance).json["items"]}
    assert charges["SO-1"]["balance"] == "0.00" and charges["SO-1"]["settled_on"] == "2026-06-10"
    assert charges["SO-2"]["balance"] == "20.25"
    credit = api.get(f"{A}/{account}/credit", headers=finance).json
    assert credit["outstanding"] == "20.25" and credit["exposure"] == "20.25"

    # told where to go: the named charge only; the rest stays as cash on account
    paid = post(f"{A}/{account}/payments", finance, {"amount": "30.00", "allocations": [
        {"charge_id": new["id"], "amount": "5.00"}]})
    assert paid["unallocated"] == "25.00"
    later = post(f"{A}/{account}/charges", finance, {"order_id": "SO-3", "amount": "40.00"})
    assert later["paid"] == "25.00"  # cash on account applied to the next charge
    assert post(f"{A}/{account}/charges", finance, {"order_id": "SO-3", "amount": "1.00"},
                status=409)["status"] == 409


def test_a_charge_for_a_referred_lead_earns_its_referrer_purchase_points(  # type: ignore[no-untyped-def]
        api, post, finance, admin, open_account, credit_ctx):
    """§2.8: 100 points per 1,000 yuan a referred customer buys. The charge names the
    originating lead (``lead_code``); the account that referred that lead earns the points,
    once per order; a charge without a referred lead earns nothing."""
    from datetime import UTC, datetime

    from accounts.points.service import note_referral

    referrer, customer = open_account("Old Friend Ltd"), open_account("New Customer Ltd")
    with credit_ctx.bus.session_factory() as session, session.begin():
        note_referral(session, lead_id="lead-31", lead_code="L-000031", account_id=referrer,
                      at=datetime(2026, 6, 1, tzinfo=UTC))
    post(f"{A}/{customer}/charges", finance, {"order_id": "SO-1", "amount": "2500.00",
                                              "lead_code": "L-000031"})
    post(f"{A}/{customer}/charges", finance, {"order_id": "SO-2", "amount": "900.00",
                                              "lead_code": "L-000031"})  # under 1,000: none
    post(f"{A}/{customer}/charges", finance, {"order_id": "SO-3", "amount": "5000.00",
                                              "lead_code": "L-000099"})  # nobody referred it
    post(f"{A}/{customer}/charges", finance, {"order_id": "SO-4", "amount": "5000.00"})
    points = api.get(f"{A}/{referrer}/points", headers=admin).json
    assert points["balance"] == 200
    assert [(e["points"], e["referred_lead_code"]) for e in points["items"]] == [(200, "L-000031")]
    assert api.get(f"{A}/{customer}/points", headers=admin).json["balance"] == 0
    awarded = outbox_events(credit_ctx.bus, "accounts.points.awarded.v1")
    assert [(e["data"]["account_id"], e["data"]["points"]) for e in awarded] == [(referrer, 200)]
