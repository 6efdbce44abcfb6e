"""The customer archive through the API: card fields and contacts, validation, who may edit,
change requests, the append-only audit trail, masking, the archive flow and status."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from accounts.archive import rules
from accounts.models import AccountAudit
from testkit.events import outbox_events

pytestmark = pytest.mark.integration
URL = "/api/v1/accounts"
TAX = "91350100M000100Y43"  # a valid unified social credit code
TAX2 = "91110000600037341" + rules.uscc_check_char("91110000600037341")


@pytest.fixture
def clerk(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("clerk", "archive_clerk")


@pytest.fixture
def rep(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("rep1", "sales_rep", team="east")


@pytest.fixture
def svcclerk(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("svcclerk", "service_clerk")


@pytest.fixture
def reviewer(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("reviewer", "review_group")


@pytest.fixture
def ceo(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("ceo", "group_gm")


def _open(client, headers, **overrides):  # type: ignore[no-untyped-def]
    body = {"name": "Ningbo Harbour Trading", "company": "Ningbo Harbour Trading",
            "phone": "0574 8765 4321", "owner_id": "rep1", "owner_team": "east", **overrides}
    resp = client.post(URL, json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


CARD = {
    "region": "华东", "valid_until": "2027-06-30", "profile": "Agent for Zhejiang",
    "address": "1 Harbour Rd, Ningbo", "website": "https://harbour.example",
    "customer_type": "agent", "company_nature": "private", "legal_representative": "Li Si",
    "industry": "bamboo", "industry_situation": "growing", "bank_credit_rating": "AA",
    "market_coverage": "Zhejiang", "products": "flooring", "business_scope": "wholesale",
    "registered_capital": "5000000.00", "market_positioning": "mid", "sales_channels": "dealers",
    "purchasing": "monthly", "annual_sales": "12000000", "off_season_sales": "600000.5",
    "peak_sales": "1500000", "purchasing_power": "900000", "off_season_purchasing_power": "400000",
    "peak_purchasing_power": "1300000", "competitor_usage": "Brand X for 30%",
    "competitor_satisfaction": "medium", "competitor_rep": "Zhao, aggressive pricing",
    "competitor_rep_relation": "friendly", "remarks": "key account",
    "bank_name": "ICBC Ningbo", "bank_account": "6222020200112233445", "tax_number": TAX,
    "billing_phone": "0574 8765 0000", "invoicing_requirements": "VAT special invoice",
    "contacts": [
        {"category": "primary", "name": "Li Si", "department_title": "Purchasing, manager",
         "phone": "0574 8765 4321", "fax": "0574 8765 4322", "mobile": "13812345678",
         "email": "Li.Si@Harbour.Example"},
        {"category": "secondary", "name": "Wang Er", "mobile": "13900001111"},
    ],
}


def test_uscc_rule() -> None:
    assert rules.validate_uscc(" 91350100m000100y43 ") == TAX
    for bad in ("91350100M000100Y44", "91350100M000100Y4", "91350100M000100YI3", "91ABCDEFM000100Y43"):
        with pytest.raises(ValueError):
            rules.validate_uscc(bad)


def test_clerk_fills_every_card_field_audited_and_announced(client, clerk, accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    assert account["archive_state"] == "draft" and account["status"] == "active"
    resp = client.patch(f"{URL}/{account['id']}", json={**CARD, "reason": "licence received"},
                        headers=clerk)
    assert resp.status_code == 200, resp.json
    card = client.get(f"{URL}/{account['id']}", headers=clerk).json
    for name, value in CARD.items():
        if name in ("contacts", "billing_phone") or name.endswith(("sales", "power", "capital")):
            continue
        assert card[name] == value, name
    assert card["off_season_sales"] == "600000.50" and card["billing_phone"] == "+8657487650000"
    assert card["credit_limit"] is None  # filled in by the credit capability
    assert [(c["category"], c["name"]) for c in card["contacts"]] == [
        ("primary", "Li Si"), ("secondary", "Wang Er")]
    assert card["contacts"][0]["phone"] == "+8657487654321"
    assert card["contacts"][0]["email"] == "Li.Si@harbour.example"
    assert card["version"] == 2

    audit = client.get(f"{URL}/{account['id']}/audit", headers=clerk).json["items"]
    assert audit[0]["action"] == "edited" and audit[0]["reason"] == "licence received"
    assert audit[0]["actor"] == "clerk"
    assert audit[0]["changes"]["region"] == {"before": None, "after": "华东"}
    assert audit[0]["changes"]["contacts"]["before"] == []
    [event] = outbox_events(accounts_ctx.bus, "accounts.account.updated.v1")
    data = event["data"]
    assert data["account_code"] == account["code"] and data["owner_id"] == "rep1"
    assert data["changed"]["tax_number"] == {"before": None, "after": TAX}
    assert data["changed"]["bank_account"]["after"] == "***************3445"
    assert data["version"] == 2 and data["actor"] == "clerk"

    # An edit that changes nothing writes nothing.
    client.patch(f"{URL}/{account['id']}", json={"region": "华东", "reason": "same"}, headers=clerk)
    assert len(client.get(f"{URL}/{account['id']}/audit", headers=clerk).json["items"]) == 2


def test_bad_input_is_422_with_fields(client, clerk):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    url = f"{URL}/{account['id']}"
    cases = [
        ({"tax_number": "91350100M000100Y44"}, "tax_number"),  # wrong check character
        ({"tax_number": "123"}, "tax_number"),
        ({"colour": "red"}, "colour"),
        ({"profile": "x" * 4001}, "profile"),
        ({"customer_type": "pirate"}, "customer_type"),
        ({"bank_credit_rating": "BBB"}, "bank_credit_rating"),
        ({"annual_sales": "-1"}, "annual_sales"),
        ({"annual_sales": "12.345"}, "annual_sales"),
        ({"annual_sales": "1e5"}, "annual_sales"),
        ({"contacts": [{"category": "primary", "name": "A", "nick": "x"}]}, "contacts"),
    ]
    for body, field in cases:
        resp = client.patch(url, json={**body, "reason": "r"}, headers=clerk)
        assert resp.status_code == 422, (body, resp.json)
        assert resp.content_type == "application/problem+json"
        assert field in resp.json["errors"]["json"], (body, resp.json)
    resp = client.patch(url, json={"region": "x"}, headers=clerk)  # no reason
    assert resp.status_code == 422 and "reason" in resp.json["errors"]["json"]


def test_tax_number_unique_among_live_accounts(client, clerk, accounts_ctx):  # type: ignore[no-untyped-def]
    first = _open(client, clerk)
    second = _open(client, clerk, name="Other", company="Other")
    ok = client.patch(f"{URL}/{first['id']}", json={"tax_number": TAX, "reason": "r"}, headers=clerk)
    assert ok.status_code == 200
    clash = client.patch(f"{URL}/{second['id']}", json={"tax_number": TAX, "reason": "r"}, headers=clerk)
    assert clash.status_code == 409
    # A lost account no longer holds its code.
    assert client.post(f"{URL}/{first['id']}/status", json={"status": "lost", "reason": "gone"},
                       headers=clerk).status_code == 200
    assert client.patch(f"{URL}/{second['id']}", json={"tax_number": TAX, "reason": "r"},
                        headers=clerk).status_code == 200
    # ... and cannot come back to life holding it.
    assert client.post(f"{URL}/{first['id']}/status", json={"status": "active", "reason": "back"},
                       headers=clerk).status_code == 409
    # A purchase does not reactivate it either (and does not fail).
    from accounts.archive.service import record_purchase

    with accounts_ctx.bus.session_factory() as s, s.begin():
        record_purchase(s, accounts_ctx.bus.emit, first["id"], at=accounts_ctx.clock())
    assert client.get(f"{URL}/{first['id']}", headers=clerk).json["status"] == "lost"
    # Search by tax number finds both (the lost one keeps its record).
    found = client.get(f"{URL}?q={TAX}", headers=clerk).json["items"]
    assert {a["id"] for a in found} == {first["id"], second["id"]}


def test_only_the_clerk_edits_others_request_changes(client, clerk, rep, svcclerk, manager,
                                                    accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    url = f"{URL}/{account['id']}"
    for who in (rep, svcclerk, manager):
        resp = client.patch(url, json={"region": "west", "reason": "r"}, headers=who)
        assert resp.status_code == 403, resp.json
    req = client.post(f"{url}/change-requests", json={"region": "华南", "remarks": "moved",
                                                      "reason": "customer moved"}, headers=rep)
    assert req.status_code == 201, req.json
    assert req.json["state"] == "pending" and req.json["changes"] == {"region": "华南",
                                                                      "remarks": "moved"}
    bad = client.post(f"{url}/change-requests", json={"tax_number": "X", "reason": "r"}, headers=rep)
    assert bad.status_code == 422
    other = client.post(f"{url}/change-requests", json={"region": "北方", "reason": "svc"},
                        headers=svcclerk).json
    # The rep cannot apply; the clerk sees the queue and applies one, rejects the other.
    assert client.post(f"{url}/change-requests/{req.json['id']}/apply", json={},
                       headers=rep).status_code == 403
    queue = client.get(f"{URL}/change-requests", headers=clerk).json["items"]
    assert {r["id"] for r in queue} == {req.json["id"], other["id"]}
    applied = client.post(f"{url}/change-requests/{req.json['id']}/apply", json={}, headers=clerk)
    assert applied.status_code == 200 and applied.json["state"] == "applied"
    again = client.post(f"{url}/change-requests/{req.json['id']}/apply", json={}, headers=clerk)
    assert again.status_code == 409
    rejected = client.post(f"{url}/change-requests/{other['id']}/reject",
                           json={"reason": "not verified"}, headers=clerk)
    assert rejected.status_code == 200 and rejected.json["state"] == "rejected"

    card = client.get(url, headers=rep).json
    assert card["region"] == "华南" and card["remarks"] == "moved"
    audit = client.get(f"{url}/audit", headers=rep).json["items"]
    assert [a["action"] for a in audit][:2] == ["change_request_rejected", "change_request_applied"]
    assert audit[1]["actor"] == "clerk" and "rep1" in audit[1]["reason"]
    assert audit[1]["changes"]["region"] == {"before": None, "after": "华南"}


def test_audit_rows_cannot_be_updated_or_deleted(client, clerk, accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    engine = accounts_ctx.bus.session_factory.kw["bind"]
    for stmt in (sa.update(AccountAudit).values(reason="rewritten"), sa.delete(AccountAudit)):
        with pytest.raises(DatabaseError), engine.begin() as conn:
            conn.execute(stmt)
    audit = client.get(f"{URL}/{account['id']}/audit", headers=clerk).json["items"]
    assert len(audit) == 1 and audit[0]["reason"] == "opened directly"


def test_visibility_and_masking(client, clerk, rep, issuer, svcclerk):  # type: ignore[no-untyped-def]
    mine = _open(client, clerk)
    theirs = _open(client, clerk, name="West Co", company="West Co", owner_id="rep9",
                   owner_team="west")
    client.patch(f"{URL}/{mine['id']}", json={"bank_account": "6222020200112233445",
                                              "reason": "r"}, headers=clerk)
    assert client.get(f"{URL}/{theirs['id']}", headers=rep).status_code == 404
    assert client.get(f"{URL}/{theirs['id']}/audit", headers=rep).status_code == 404
    assert [a["id"] for a in client.get(URL, headers=rep).json["items"]] == [mine["id"]]
    assert client.get(f"{URL}/{mine['id']}", headers=rep).json["bank_account"] == "***************3445"
    assert client.get(f"{URL}/{mine['id']}", headers=svcclerk).json["bank_account"].endswith("*3445")
    assert client.get(f"{URL}/{mine['id']}", headers=clerk).json["bank_account"] == "6222020200112233445"
    finance = issuer.headers("fin", "finance")
    assert client.get(f"{URL}/{mine['id']}", headers=finance).json["bank_account"] == "6222020200112233445"
    listed = client.get(URL, headers=rep).json["items"][0]
    assert "bank_account" not in listed  # list rows carry the header only
    audit = client.get(f"{URL}/{mine['id']}/audit", headers=rep).json["items"]
    assert audit[0]["changes"]["bank_account"]["after"] == "***************3445"


def test_search_by_name_prefix_and_contact_phone(client, clerk):  # type: ignore[no-untyped-def]
    a = _open(client, clerk, name="Hangzhou Bamboo", company="Hangzhou Bamboo")
    _open(client, clerk, name="Ningbo 50% Off", company="Ningbo 50% Off")
    client.patch(f"{URL}/{a['id']}", json={"contacts": [
        {"category": "primary", "name": "Wu", "mobile": "13812345678"}], "reason": "r"}, headers=clerk)
    assert [x["id"] for x in client.get(f"{URL}?q=hangz", headers=clerk).json["items"]] == [a["id"]]
    assert [x["id"] for x in client.get(f"{URL}?q=138 1234 5678", headers=clerk).json["items"]] == [a["id"]]
    assert len(client.get(f"{URL}?q=Ningbo 50%", headers=clerk).json["items"]) == 1
    assert client.get(f"{URL}?q=Ningbo_", headers=clerk).json["items"] == []


def test_archive_flow_review_group_grades_group_gm_decides(client, clerk, reviewer, ceo, rep,
                                                           accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    url = f"{URL}/{account['id']}"
    scores = {"financial_strength": 9, "credit_record": 9, "sales_volume": 8, "cooperation": 8,
              "growth_potential": 7}
    # Out of order: approving a draft is a conflict; only the GM approves; only the clerk submits.
    assert client.post(f"{url}/archive/approve", json={}, headers=ceo).status_code == 409
    assert client.post(f"{url}/archive/submit", json={}, headers=rep).status_code == 403
    assert client.post(f"{url}/archive/submit", json={}, headers=clerk).json["archive_state"] == \
        "pending_review"
    assert client.post(f"{url}/grades", json={"scores": scores, "reason": "r"},
                       headers=rep).status_code == 403
    graded = client.post(f"{url}/grades", json={"scores": scores, "reason": "annual review"},
                         headers=reviewer)
    assert graded.status_code == 201, graded.json
    assert graded.json["score"] == "83.50" and graded.json["grade"] == "B"
    assert graded.json["coefficient"] == "1.00"
    assert client.get(url, headers=clerk).json["archive_state"] == "pending_approval"
    assert client.post(f"{url}/archive/approve", json={}, headers=reviewer).status_code == 403
    rejected = client.post(f"{url}/archive/reject", json={"reason": "bank rating missing"}, headers=ceo)
    assert rejected.status_code == 200 and rejected.json["archive_state"] == "rejected"
    assert client.post(f"{url}/archive/reject", json={}, headers=ceo).status_code == 422
    # The clerk corrects and resubmits; graded again; approved.
    client.post(f"{url}/archive/submit", json={"reason": "fixed"}, headers=clerk)
    client.post(f"{url}/grades", json={"scores": {**scores, "growth_potential": 10}, "reason": "r"},
                headers=reviewer)
    approved = client.post(f"{url}/archive/approve", json={"reason": "ok"}, headers=ceo)
    assert approved.status_code == 200 and approved.json["archive_state"] == "approved"
    assert approved.json["valid_until"] is not None

    [rej] = outbox_events(accounts_ctx.bus, "accounts.archive.rejected.v1")
    assert rej["data"]["rejected_by"] == "ceo" and rej["data"]["reason"] == "bank rating missing"
    [appr] = outbox_events(accounts_ctx.bus, "accounts.archive.approved.v1")
    assert appr["data"]["approved_by"] == "ceo" and appr["data"]["grade"] == "B"
    graded_events = outbox_events(accounts_ctx.bus, "accounts.account.graded.v1")
    assert [(e["data"]["old_grade"], e["data"]["new_grade"]) for e in graded_events] == [
        (None, "B"), ("B", "B")]
    history = client.get(f"{url}/grades", headers=rep).json
    assert history["grade"] == "B" and len(history["items"]) == 2
    assert "VIP" in history["grade_class"]
    actions = [a["action"] for a in client.get(f"{url}/audit", headers=clerk).json["items"]]
    assert actions[:3] == ["archive_approved", "graded", "submitted_for_review"]


def test_status_changes_are_audited_events(client, clerk, rep, accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    url = f"{URL}/{account['id']}"
    assert client.post(f"{url}/status", json={"status": "lost", "reason": "r"},
                       headers=rep).status_code == 403
    assert client.post(f"{url}/status", json={"status": "gone", "reason": "r"},
                       headers=clerk).status_code == 422
    resp = client.post(f"{url}/status", json={"status": "lost", "reason": "moved to a competitor"},
                       headers=clerk)
    assert resp.status_code == 200 and resp.json["status"] == "lost"
    [event] = outbox_events(accounts_ctx.bus, "accounts.account.status_changed.v1")
    assert (event["data"]["old_status"], event["data"]["new_status"]) == ("active", "lost")
    assert event["data"]["reason"] == "moved to a competitor"


def test_violations_and_evaluations(client, clerk, rep):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    url = f"{URL}/{account['id']}"
    assert client.post(f"{url}/violations", json={"occurred_on": "2026-11-01", "kind": "late payment",
                                                  "description": "30 days late"},
                       headers=rep).status_code == 403
    assert client.post(f"{url}/violations", json={"occurred_on": "2026-11-01", "kind": "late payment",
                                                  "description": "30 days late"},
                       headers=clerk).status_code == 201
    assert client.post(f"{url}/evaluations", json={"evaluator": "Sales GM", "text": "reliable"},
                       headers=clerk).status_code == 201
    assert client.post(f"{url}/evaluations", json={"evaluator": "x"}, headers=clerk).status_code == 422
    card = client.get(url, headers=rep).json
    assert card["violations"][0]["kind"] == "late payment"
    assert card["evaluations"][0]["text"] == "reliable"
