"""The §1.4 / §1.6 seed rules the first pass missed (issue 6, hole 4) and the invoice mark from
accounts (CONTRACTS.md): same-day 50/50, cross-over deals to the department, no commission for
following another's authorized customer without approval, event files shared evenly, the
tracking plan's reminder, the trade show's end date — through the API on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from leads.wiring import LeadsContext
from testkit.events import envelope, outbox_events, publish, running_worker, wait_settled

pytestmark = pytest.mark.integration
H = dict[str, str]
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LEAD = {"name": "Zhang San", "company": "ACME 有限公司", "phone": "138 0013 8000", "source": "walk_in"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, **delta: float) -> datetime:
        self.now = T0 + timedelta(**delta)
        return self.now


@pytest.fixture
def clock(leads_ctx: LeadsContext) -> Clock:
    leads_ctx.clock = Clock(T0)
    return leads_ctx.clock


def _register(client: FlaskClient, headers: H, **fields: Any) -> Any:
    resp = client.post("/api/v1/leads", json={**LEAD, **fields}, headers=headers)
    assert resp.status_code in (200, 201), resp.json
    return resp.json


def _split(client: FlaskClient, manager: H, lead_id: str, **body: Any) -> list[tuple[str, str]]:
    resp = client.post(f"/api/v1/leads/{lead_id}/split", headers=manager, json=body)
    assert resp.status_code == 201, resp.json
    return [(s["rep"], s["percent"]) for s in resp.json["shares"]]


def _run(client: FlaskClient, admin: H) -> dict[str, Any]:
    resp = client.post("/api/v1/leads/cadence/run", headers=admin)
    assert resp.status_code == 200, resp.json
    return resp.json


# --- splits ----------------------------------------------------------------------------------

def test_same_day_deal_is_shared_50_50_only_on_the_day_of_the_reception(
        client: FlaskClient, rep1: H, rep2: H, manager: H, clock: Clock) -> None:
    lead = _register(client, rep1)
    clock.at(days=3)
    assert _register(client, rep2)["visit_recorded"] is True  # rep2 receives rep1's customer
    body = {"situation": "same_day_deal", "serving_rep": "rep2", "earlier_rep": "rep1"}
    clock.at(days=3, hours=6)  # 16:00 the same day in Shanghai
    assert _split(client, manager, lead["id"], **body) == [("rep2", "50.00"), ("rep1", "50.00")]
    clock.at(days=4)  # the deal closes the next day: the reception was a courtesy
    assert _split(client, manager, lead["id"], **body) == [("rep1", "100.00")]


def test_cross_over_dispute_credits_the_department(client: FlaskClient, rep1: H, manager: H,
                                                    clock: Clock) -> None:
    lead = _register(client, rep1)
    assert _split(client, manager, lead["id"], situation="cross_over_dispute") == [
        ("department:east", "100.00")]


def test_following_anothers_authorized_customer_without_approval_earns_nothing(
        client: FlaskClient, rep1: H, manager: H, clock: Clock) -> None:
    lead = _register(client, rep1)
    body = {"situation": "followed_others_authorized", "follower": "rep2"}
    assert _split(client, manager, lead["id"], **body) == [("rep1", "100.00")]
    assert _split(client, manager, lead["id"], **body, approved=True) == [
        ("rep1", "50.00"), ("rep2", "50.00")]
    resp = client.post(f"/api/v1/leads/{lead['id']}/split", headers=manager,
                       json={"situation": "followed_others_authorized"})
    assert resp.status_code == 422 and "follower" in resp.json["errors"]["json"]


# --- event files shared evenly ------------------------------------------------------------------

def test_event_files_are_shared_evenly_among_participants(
        client: FlaskClient, manager: H, rep1: H, leads_ctx: LeadsContext, clock: Clock) -> None:
    rows = [{"name": f"Guest {i}", "phone": f"1390013{i:04d}"} for i in range(5)]
    resp = client.post("/api/v1/leads/import", headers=manager,
                       json={"source": "event", "show_name": "Health seminar", "rows": rows})
    assert resp.json["created"] == 5
    _register(client, manager, source="event", show_name="Other seminar", phone="13700137000")
    resp = client.post("/api/v1/leads/event-files/share", headers=manager, json={
        "show_name": "Health seminar", "participants": ["rep1", "rep2"]})
    assert resp.status_code == 200, resp.json
    counts: dict[str, int] = {}
    for a in resp.json["assignments"]:
        counts[a["to_owner"]] = counts.get(a["to_owner"], 0) + 1
    assert sorted(counts.values()) == [2, 3] and set(counts) == {"rep1", "rep2"}
    moved = outbox_events(leads_ctx.bus, "leads.lead.reassigned.v1")
    assert len(moved) == 5 and {e["data"]["rule"] for e in moved} == {"event_sharing"}
    assert len(client.get("/api/v1/leads", headers=rep1).json["items"]) == counts["rep1"]
    resp = client.post("/api/v1/leads/event-files/share", headers=rep1, json={
        "show_name": "Health seminar", "participants": ["rep1"]})
    assert resp.status_code == 403
    resp = client.post("/api/v1/leads/event-files/share", headers=manager, json={
        "show_name": "Health seminar", "participants": ["ghost"]})
    assert resp.status_code == 422 and "participants" in resp.json["errors"]["json"]


# --- cadences ----------------------------------------------------------------------------------

def test_tracking_plan_next_date_raises_a_reminder_on_that_date(
        client: FlaskClient, rep1: H, admin: H, leads_ctx: LeadsContext, clock: Clock) -> None:
    lead = _register(client, rep1)
    planned = T0 + timedelta(days=3)
    resp = client.put(f"/api/v1/leads/{lead['id']}/tracking", headers=rep1, json={
        "tracking_class": "B", "next_step": "send samples", "next_date": planned.isoformat()})
    assert resp.status_code == 200, resp.json
    clock.at(days=2, hours=23)
    assert _run(client, admin)["emitted"] == 0
    clock.at(days=3)
    assert _run(client, admin)["by_type"] == {"leads.followup.due.v1": 1}
    clock.at(days=3, hours=1)
    assert _run(client, admin)["emitted"] == 0  # once
    [due] = [e["data"] for e in outbox_events(leads_ctx.bus, "leads.followup.due.v1")]
    assert due["kind"] == "follow_up_planned" and due["due_at"] == planned.isoformat()
    assert due["owner_id"] == "rep1" and due["escalate_to"] is None


def test_trade_show_cadence_runs_from_the_shows_end(client: FlaskClient, rep1: H, admin: H,
                                                    leads_ctx: LeadsContext, clock: Clock) -> None:
    # Captured on the show's first day (Mar 2); the show ends Mar 5 (local), so its week runs
    # from Mar 6 00:00 Shanghai (Mar 5 16:00 UTC) to Mar 13 00:00 Shanghai.
    lead = _register(client, rep1, source="trade_show", show_name="Canton Fair",
                     show_ended_on="2026-03-05")
    assert lead["show_ended_on"] == "2026-03-05"
    week_after_end = datetime(2026, 3, 12, 16, 0, tzinfo=UTC)
    clock.now = week_after_end - timedelta(minutes=1)
    assert _run(client, admin)["emitted"] == 0  # a week after capture is not enough
    clock.now = week_after_end
    assert _run(client, admin)["by_type"] == {"leads.followup.due.v1": 1}
    clock.now = week_after_end + timedelta(days=7)
    assert _run(client, admin)["by_type"] == {"leads.followup.overdue.v1": 1}
    resp = client.post("/api/v1/leads/import", headers=rep1, json={
        "source": "trade_show", "show_name": "Expo", "show_ended_on": "2026-03-20",
        "rows": [{"name": "Li", "phone": "13900139000"}]})
    lead2 = client.get(f"/api/v1/leads/{resp.json['rows'][0]['lead_id']}", headers=rep1).json
    assert lead2["show_ended_on"] == "2026-03-20"
    resp = _post_raw(client, rep1, source="walk_in", show_ended_on="2026-03-05",
                     phone="13700137000")
    assert resp.status_code == 422 and "show_ended_on" in resp.json["errors"]["json"]


def _post_raw(client: FlaskClient, headers: H, **fields: Any) -> Any:
    return client.post("/api/v1/leads", json={**LEAD, **fields}, headers=headers)


# --- accounts.invoice.issued.v1 -------------------------------------------------------------------

def test_invoice_issued_marks_the_lead_and_stops_its_cadence(
        client: FlaskClient, rep1: H, admin: H, leads_ctx: LeadsContext, clock: Clock) -> None:
    lead = _register(client, rep1, source="trade_show", show_name="Canton Fair")
    invoice = envelope("accounts.invoice.issued.v1", {
        "invoice_id": "inv-1", "order_id": "o-1", "lead_code": lead["code"], "amount": "1200.00",
        "currency": "CNY", "issued_on": "2026-03-03", "due_on": "2026-04-02",
        "account_id": "a-1", "account_code": "C-1", "account_name": "ACME", "owner_id": "rep1",
        "owner_team": "east", "extra_field": "ignored"}, subject="inv-1")
    other = envelope("accounts.invoice.issued.v1", {
        "invoice_id": "inv-2", "order_id": "o-2", "lead_code": None, "amount": "1.00",
        "currency": "CNY", "issued_on": "2026-03-03", "due_on": "2026-04-02"})
    with running_worker(leads_ctx.bus) as bus:
        publish(bus, invoice)
        publish(bus, invoice)  # redelivered
        publish(bus, other)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled", count=2) == 2
    seen = client.get(f"/api/v1/leads/{lead['id']}", headers=rep1).json
    assert seen["invoice_id"] == "inv-1" and seen["invoiced_at"] is not None
    assert seen["version"] == lead["version"] + 1  # applied once
    clock.at(days=30)
    assert _run(client, admin)["emitted"] == 0  # no trade-show or protection reminders
