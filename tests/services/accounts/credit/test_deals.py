"""Deals 小定 → 大定 → 签约 → 交款: deposit events at once, stages in order, the registers."""

from __future__ import annotations

import io

import pytest

from testkit.events import outbox_events

pytestmark = pytest.mark.integration
A = "/api/v1/accounts"


def test_deal_stages_deposit_events_and_registers(api, post, hdr, open_account, credit_ctx):  # type: ignore[no-untyped-def]
    account = open_account(owner_id="rep1", owner_team="east")
    rep = hdr("rep1", "sales_rep", team="east")
    deal = post(f"{A}/{account}/deals", rep, {"stage": "small_deposit", "amount": "2000.00",
                "product": "=cmd|' /C calc'!A0", "on": "2026-06-01"})
    assert deal["stage"] == "small_deposit" and deal["code"] == "D-000001"
    url = f"{A}/{account}/deals/{deal['id']}/stages"
    assert api.post(url, headers=rep, json={"stage": "contract", "amount": "1.00"}).status_code == 409
    assert api.post(url, headers=rep, json={"stage": "large_deposit", "amount": "1.001"}).status_code == 422
    post(url, rep, {"stage": "large_deposit", "amount": "20000.00", "on": "2026-06-05"}, status=200)
    post(url, rep, {"stage": "contract", "amount": "200000.00", "on": "2026-06-10"}, status=200)
    paid = post(url, rep, {"stage": "payment", "amount": "180000.00", "on": "2026-06-12"}, status=200)
    assert paid["stage"] == "payment" and paid["contract"] == "200000.00"
    assert api.post(url, headers=rep, json={"stage": "payment", "amount": "1.00"}).status_code == 409
    assert api.post(f"{A}/{account}/deals", headers=rep,
                    json={"stage": "contract", "amount": "1.00"}).status_code == 422

    deposits = outbox_events(credit_ctx.bus, "accounts.deposit.received.v1")
    assert [(e["data"]["stage"], e["data"]["amount"]) for e in deposits] == [
        ("small_deposit", "2000.00"), ("large_deposit", "20000.00")]
    assert deposits[0]["data"]["deal_id"] == deal["id"] and deposits[0]["data"]["owner_id"] == "rep1"

    manager = hdr("boss", "sales_manager", team="east")
    resp = api.get("/api/v1/accounts/deal-registers/small_deposits?from=2026-06-01&until=2026-07-01",
                   headers=manager)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff小订明细表") and "D-000001" in text and "2000.00" in text
    assert "'=cmd" in text  # neutralised, never a formula
    other = hdr("boss2", "sales_manager", team="west")
    assert "D-000001" not in api.get(
        "/api/v1/accounts/deal-registers/contracts?from=2026-06-01&until=2026-07-01",
        headers=other).get_data(as_text=True)
    sales = api.get("/api/v1/accounts/deal-registers/sales?from=2026-06-01&until=2026-07-01&format=xlsx",
                    headers=hdr("finance", "finance"))
    assert sales.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(sales.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:8] == ("rep1", "east", 1, 1, 1, "200000.00", 1, "180000.00")
    assert api.get("/api/v1/accounts/deal-registers/nope?from=2026-06-01&until=2026-07-01",
                   headers=manager).status_code == 404
    empty = api.get("/api/v1/accounts/deal-registers/sales?from=2026-06-01&until=2026-05-01",
                    headers=manager)
    assert empty.status_code == 200 and "rep1" not in empty.get_data(as_text=True)
    assert api.get("/api/v1/accounts/deal-registers/sales?from=2026-06-01&until=2026-07-01",
                   headers=rep).status_code == 403


def test_payment_stage_posts_a_payment_to_the_ledger(  # type: ignore[no-untyped-def]
        api, post, hdr, open_account):
    """交款 is money received: the deal's payment is posted to the ledger (reference: the
    deal's code), allocated to open charges oldest first, the rest kept as cash on account."""
    account = open_account(owner_id="rep1", owner_team="east")
    rep, finance = hdr("rep1", "sales_rep", team="east"), hdr("finance", "finance")
    older = post(f"{A}/{account}/charges", finance, {"order_id": "SO-1", "amount": "1000.00",
                                                     "issued_on": "2026-05-01", "due_on": "2026-05-31"})
    newer = post(f"{A}/{account}/charges", finance, {"order_id": "SO-2", "amount": "3000.00",
                                                     "issued_on": "2026-06-01", "due_on": "2026-07-01"})
    deal = post(f"{A}/{account}/deals", rep, {"stage": "small_deposit", "amount": "500.00"})
    url = f"{A}/{account}/deals/{deal['id']}/stages"
    assert deal["payment_id"] is None
    post(url, rep, {"stage": "large_deposit", "amount": "1000.00"}, status=200)
    contract = post(url, rep, {"stage": "contract", "amount": "5000.00"}, status=200)
    assert contract["payment_id"] is None  # deposits and contracts move no ledger money
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert (view["outstanding"], view["unapplied"]) == ("4000.00", "0.00")

    paid = post(url, rep, {"stage": "payment", "amount": "4500.00", "on": "2026-06-12"}, status=200)
    assert paid["stage"] == "payment" and paid["payment_id"]
    view = api.get(f"{A}/{account}/credit", headers=finance).json
    assert (view["outstanding"], view["unapplied"]) == ("0.00", "500.00")
    charges = {c["order_id"]: c for c in api.get(f"{A}/{account}/charges", headers=finance).json["items"]}
    assert charges["SO-1"]["id"] == older["id"] and charges["SO-2"]["id"] == newer["id"]
    assert (charges["SO-1"]["paid"], charges["SO-2"]["paid"]) == ("1000.00", "3000.00")
    assert charges["SO-1"]["settled_on"] == charges["SO-2"]["settled_on"] == "2026-06-12"
    # once paid, never twice: the stage is refused and the ledger unchanged
    assert api.post(url, headers=rep, json={"stage": "payment", "amount": "1.00"}).status_code == 409
    assert api.get(f"{A}/{account}/credit", headers=finance).json["unapplied"] == "500.00"
