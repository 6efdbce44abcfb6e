"""Grading policy, status rules, periodic re-approval, referral points, the grade summary
table and its audited exports — through the API and the real consumer."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.archive.service import record_purchase
from accounts.grading.service import current_grade
from accounts.points.service import award_purchase_points
from accounts.scheduler import run_all
from testkit.events import envelope, outbox_events, publish, running_worker, wait_settled

pytestmark = pytest.mark.integration
URL = "/api/v1/accounts"
SCORES = {"financial_strength": 10, "credit_record": 10, "sales_volume": 9, "cooperation": 9,
          "growth_potential": 9}  # 95.00 → A


@pytest.fixture
def clerk(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("clerk", "archive_clerk")


@pytest.fixture
def reviewer(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("reviewer", "review_group")


def _open(client, headers, **overrides):  # type: ignore[no-untyped-def]
    body = {"name": "Ningbo Harbour", "owner_id": "rep1", "owner_team": "east", **overrides}
    resp = client.post(URL, json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_policy_is_admin_only_audited_and_drives_grades(client, admin, clerk, reviewer,
                                                        accounts_ctx):  # type: ignore[no-untyped-def]
    policy = client.get(f"{URL}/policy", headers=clerk).json
    assert policy["version"] == 0 and policy["policy"]["grade_bands"]["D"] == 60
    assert policy["policy"]["grade_coefficients"]["A"] == "1.20"
    assert client.put(f"{URL}/policy", json={"grade_bands": {}, "reason": "r"},
                      headers=clerk).status_code == 403
    bad = client.put(f"{URL}/policy", json={"grade_bands": {"A": 50, "B": 80, "C": 70, "D": 60,
                                                            "E": 50}, "reason": "r"}, headers=admin)
    assert bad.status_code == 422 and "grade_bands" in bad.json["errors"]["json"]
    assert client.put(f"{URL}/policy", json={"colour": 1, "reason": "r"},
                      headers=admin).status_code == 422
    account = _open(client, clerk)
    graded = client.post(f"{URL}/{account['id']}/grades", json={"scores": SCORES, "reason": "r"},
                         headers=reviewer).json
    assert (graded["score"], graded["grade"], graded["coefficient"]) == ("95.00", "A", "1.20")
    # Unknown or out-of-range criteria are named.
    resp = client.post(f"{URL}/{account['id']}/grades",
                       json={"scores": {**SCORES, "luck": 3, "cooperation": 11}, "reason": "r"},
                       headers=reviewer)
    assert resp.status_code == 422
    assert {"scores.luck", "scores.cooperation"} <= set(resp.json["errors"]["json"])

    changed = client.put(f"{URL}/policy", json={
        "grade_bands": {"A": 97, "B": 85, "C": 70, "D": 60, "E": 50},
        "grade_coefficients": {"A": "1.50", "B": "1.10", "C": "0.80", "D": "0.50", "E": "0.00"},
        "reason": "stricter A"}, headers=admin)
    assert changed.status_code == 200 and changed.json["version"] == 1
    regraded = client.post(f"{URL}/{account['id']}/grades", json={"scores": SCORES, "reason": "r"},
                           headers=reviewer).json
    assert (regraded["grade"], regraded["coefficient"]) == ("B", "1.10")
    with accounts_ctx.bus.session_factory() as s:
        assert current_grade(s, account["id"]) == ("B", Decimal("1.10"))
    audit = client.get(f"{URL}/policy/changes", headers=admin).json["items"]
    assert audit[0]["reason"] == "stricter A" and audit[0]["changes"]["grade_bands"][1]["A"] == 97
    events = outbox_events(accounts_ctx.bus, "accounts.account.graded.v1")
    assert [(e["data"]["old_grade"], e["data"]["new_grade"], e["data"]["coefficient"])
            for e in events] == [(None, "A", "1.20"), ("A", "B", "1.10")]


def test_ungraded_coefficient_and_grade_bands_from_the_documents(accounts_ctx) -> None:  # type: ignore[no-untyped-def]
    from accounts.grading.rules import grade_for
    from accounts.policy.rules import AccountsPolicy

    p = AccountsPolicy()
    assert [grade_for(p, Decimal(v)) for v in ("90", "89.99", "70", "60", "59.99", "50", "10")] == [
        "A", "B", "C", "D", "E", "E", "E"]
    with accounts_ctx.bus.session_factory() as s, pytest.raises(Exception, match="no account"):
        current_grade(s, str(uuid.uuid4()))


def test_status_rules_and_reactivation_by_purchase(client, clerk, accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    bus = accounts_ctx.bus
    now = accounts_ctx.clock()
    assert run_all(bus.session_factory, bus, now + timedelta(days=89))["status_changed"] == 0
    assert run_all(bus.session_factory, bus, now + timedelta(days=91))["status_changed"] == 1
    assert client.get(f"{URL}/{account['id']}", headers=clerk).json["status"] == "inactive"
    assert run_all(bus.session_factory, bus, now + timedelta(days=366))["status_changed"] == 1
    assert client.get(f"{URL}/{account['id']}", headers=clerk).json["status"] == "lost"
    with bus.session_factory() as s, s.begin():
        record_purchase(s, bus.emit, account["id"], at=now + timedelta(days=367))
    assert client.get(f"{URL}/{account['id']}", headers=clerk).json["status"] == "active"
    events = outbox_events(bus, "accounts.account.status_changed.v1")
    assert [(e["data"]["old_status"], e["data"]["new_status"]) for e in events] == [
        ("active", "inactive"), ("inactive", "lost"), ("lost", "active")]


def test_periodic_reapproval_returns_to_the_group_gm(client, clerk, reviewer, issuer,
                                                     accounts_ctx):  # type: ignore[no-untyped-def]
    ceo = issuer.headers("ceo", "group_gm")
    account = _open(client, clerk)
    url = f"{URL}/{account['id']}"
    client.post(f"{url}/archive/submit", json={}, headers=clerk)
    client.post(f"{url}/grades", json={"scores": SCORES, "reason": "r"}, headers=reviewer)
    assert client.post(f"{url}/archive/approve", json={}, headers=ceo).status_code == 200
    bus = accounts_ctx.bus
    later = accounts_ctx.clock() + timedelta(days=366)
    assert run_all(bus.session_factory, bus, later)["review_due"] == 1
    assert client.get(url, headers=clerk).json["archive_state"] == "pending_approval"
    assert client.post(f"{url}/archive/approve", json={}, headers=ceo).status_code == 200


def test_referral_points_from_leads_events_once(client, clerk, accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, clerk)
    lead_id = str(uuid.uuid4())
    registered = {"lead_id": lead_id, "code": "L-000031", "name": "Zhou", "company": None,
                  "phone": "+8613800000000", "email": None, "source": "referral",
                  "owner_id": "rep1", "owner_team": "east",
                  "registered_at": "2026-11-20T08:00:00+00:00", "channel": "referral",
                  "show_name": None, "referrer_type": "account", "referrer_id": account["id"]}
    visit = {"visit_id": str(uuid.uuid4()), "lead_id": lead_id, "code": "L-000031",
             "channel": "meeting", "at": "2026-11-21T08:00:00+00:00", "by": "rep1", "note": None,
             "owner_id": "rep1", "owner_team": "east"}
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope("leads.lead.registered.v1", registered))
        wait_settled(bus, "handled")
        publish(bus, envelope("leads.visit.recorded.v1", visit))
        publish(bus, envelope("leads.visit.recorded.v1", {**visit, "visit_id": "second"}))
        wait_settled(bus, "handled", count=3)
    with accounts_ctx.bus.session_factory() as s, s.begin():
        award_purchase_points(s, accounts_ctx.bus.emit, lead_id, Decimal("2500.00"),
                              source_key="invoice-1", at=accounts_ctx.clock())
        award_purchase_points(s, accounts_ctx.bus.emit, lead_id, Decimal("2500.00"),
                              source_key="invoice-1", at=accounts_ctx.clock())
    ledger = client.get(f"{URL}/{account['id']}/points", headers=clerk).json
    assert ledger["balance"] == 300
    assert [(e["points"], e["balance"]) for e in ledger["items"]] == [(200, 300), (100, 100)]
    events = outbox_events(accounts_ctx.bus, "accounts.points.awarded.v1")
    assert [(e["data"]["points"], e["data"]["referred_lead_code"]) for e in events] == [
        (100, "L-000031"), (200, "L-000031")]


def test_conversion_brings_the_lead_contact_person(accounts_ctx, client, clerk):  # type: ignore[no-untyped-def]
    data = {"lead_id": str(uuid.uuid4()), "code": "L-000007", "name": "Wang Wu",
            "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+8657188886666",
            "email": "wang.wu@bamboo.example", "owner_id": "rep1", "owner_team": "east",
            "converted_by": "rep1",
            "contacts": [{"name": "Wang Wu", "phone": "+8657188886666", "email": "wang.wu@bamboo.example"}]}
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope("leads.lead.converted.v1", data))
        wait_settled(bus, "handled")
    [account] = client.get(URL, headers=clerk).json["items"]
    card = client.get(f"{URL}/{account['id']}", headers=clerk).json
    assert card["archive_state"] == "draft"
    assert [(c["category"], c["name"], c["phone"]) for c in card["contacts"]] == [
        ("primary", "Wang Wu", "+8657188886666")]
    found = client.get(f"{URL}?q=0571 8888 6666", headers=clerk).json["items"]
    assert [a["id"] for a in found] == [account["id"]]


def test_grade_summary_csv_xlsx_neutralised_managers_only_audited(client, clerk, reviewer, admin,
                                                                  manager, issuer):  # type: ignore[no-untyped-def]
    a = _open(client, clerk, name="=HYPERLINK(\"http://evil\")")
    _open(client, clerk, name="West Co", owner_id="rep9", owner_team="west")
    client.post(f"{URL}/{a['id']}/grades", json={"scores": SCORES, "reason": "r"}, headers=reviewer)
    for who in (clerk, reviewer, issuer.headers("rep1", "sales_rep", team="east")):
        assert client.get(f"{URL}/grade-summary", headers=who).status_code == 403
    resp = client.get(f"{URL}/grade-summary?format=csv", headers=admin)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["No", "客户名称", "业务员", "客户等级评分", "等级系数", "月均销售额(元)",
                       "信用履约率", "客户等级", "信用额度(元)", "备注"]
    assert rows[1][:5] == ["1", "'=HYPERLINK(\"http://evil\")", "rep1", "95.00", "1.20"]
    assert rows[1][7] == "A" and rows[1][8] == ""  # credit limit: from the credit capability
    assert rows[2][1] == "West Co" and rows[2][4] == "0.00"
    assert rows[-1] == ["编制:", "时间:", "复核:", "审核:", "审批:"]
    # A sales manager exports their team only.
    team_rows = list(csv.reader(io.StringIO(
        client.get(f"{URL}/grade-summary", headers=manager).get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[1] for r in team_rows[1:-2]] == ["'=HYPERLINK(\"http://evil\")"]

    xlsx = client.get(f"{URL}/grade-summary?format=xlsx", headers=admin)
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][1] == "客户名称" and values[1][1] == "'=HYPERLINK(\"http://evil\")"
    assert client.get(f"{URL}/grade-summary?format=pdf", headers=admin).status_code == 422

    log = client.get(f"{URL}/exports", headers=admin).json["items"]
    assert [(e["actor"], e["fmt"], e["rows"]) for e in log] == [
        ("admin", "xlsx", 2), ("manager", "csv", 1), ("admin", "csv", 2)]
    assert client.get(f"{URL}/exports", headers=manager).status_code == 403
