"""Seed-rule holes found by trying leads as a new user would (issue 6): the first registration
holds on every channel, the owner's own walk-in renews protection, impossible phone numbers
and unknown owners are refused — through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from leads.policy.rules import add_months
from leads.wiring import LeadsContext
from testkit.events import outbox_events
from testkit.issuer import TestIssuer

pytestmark = pytest.mark.integration
H = dict[str, str]
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LEAD = {"name": "Zhang San", "company": "ACME 有限公司", "phone": "138 0013 8000", "source": "walk_in"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(leads_ctx: LeadsContext) -> Clock:
    leads_ctx.clock = Clock(T0)
    return leads_ctx.clock


def _post(client: FlaskClient, headers: H, **fields: Any) -> Any:
    return client.post("/api/v1/leads", json={**LEAD, **fields}, headers=headers)


# --- 1. the first registration holds on every channel ---------------------------------------

@pytest.mark.parametrize("source,extra", [
    ("event", {"show_name": "Spring seminar"}), ("trade_show", {"show_name": "Canton Fair"}),
    ("api_import", {}), ("web_form", {}),
])
def test_another_reps_registration_of_a_protected_customer_is_a_visit_on_the_owners_lead(
        client: FlaskClient, rep1: H, rep2: H, leads_ctx: LeadsContext, source: str,
        extra: dict[str, str]) -> None:
    first = _post(client, rep1).json
    resp = _post(client, rep2, source=source, name="San Zhang", **extra)
    assert resp.status_code == 200, resp.json
    assert resp.json["visit_recorded"] is True and resp.json["id"] == first["id"]
    assert resp.json["owner_id"] == "rep1" and "phone" not in resp.json
    assert resp.json["visit"]["channel"] == source
    assert client.get("/api/v1/leads", headers=rep2).json["items"] == []
    assert len(outbox_events(leads_ctx.bus, "leads.lead.registered.v1")) == 1
    [visit] = outbox_events(leads_ctx.bus, "leads.visit.recorded.v1")
    assert visit["data"]["owner_id"] == "rep1" and visit["data"]["by"] == "rep2"
    assert visit["data"]["channel"] == source


def test_same_email_on_another_channel_also_holds(client: FlaskClient, rep1: H, rep2: H) -> None:
    first = _post(client, rep1, phone=None, email="zs@acme.example").json
    resp = _post(client, rep2, phone=None, email="zs@ACME.example", source="event",
                 show_name="Seminar")
    assert resp.status_code == 200 and resp.json["id"] == first["id"]


def test_import_duplicate_row_names_the_owner(client: FlaskClient, rep1: H, rep2: H) -> None:
    first = _post(client, rep1).json
    resp = client.post("/api/v1/leads/import", headers=rep2, json={
        "source": "api_import", "rows": [{"name": "Zhang", "phone": "+86 138 0013 8000"},
                                         {"name": "Li Si", "phone": "13900139000"}]})
    assert resp.status_code == 200, resp.json
    dup, created = resp.json["rows"]
    assert (dup["status"], dup["lead_id"], dup["owner_id"]) == ("duplicate", first["id"], "rep1")
    assert (created["status"], created["owner_id"]) == ("created", "rep2")
    assert [i["id"] for i in client.get("/api/v1/leads", headers=rep2).json["items"]] == [
        created["lead_id"]]


# --- 2. the owner's own walk-in or call at intake renews protection ---------------------------

def test_owners_walk_in_at_intake_renews_protection(client: FlaskClient, rep1: H, rep2: H,
                                                     clock: Clock) -> None:
    lead = _post(client, rep1).json
    clock.now = T0 + timedelta(days=40)
    assert _post(client, rep2).json["visit_recorded"] is True  # someone else's: no renewal
    prot = client.get(f"/api/v1/leads/{lead['id']}/protection", headers=rep1).json
    assert prot["renewed_by"] is None
    clock.now = T0 + timedelta(days=45)
    resp = _post(client, rep1, note="came back for the quote")
    assert resp.status_code == 200 and resp.json["visit_recorded"] is True
    prot = client.get(f"/api/v1/leads/{lead['id']}/protection", headers=rep1).json
    assert prot["renewed_by"] == {"at": clock.now.isoformat(), "kind": "face_to_face", "by": "rep1"}
    assert datetime.fromisoformat(prot["protected_until"]) == add_months(clock.now, 2, _shanghai())


def test_owners_call_renews_only_when_out_of_town(client: FlaskClient, rep1: H, clock: Clock) -> None:
    lead = _post(client, rep1).json
    clock.now = T0 + timedelta(days=10)
    _post(client, rep1, source="phone_call")
    prot = client.get(f"/api/v1/leads/{lead['id']}/protection", headers=rep1).json
    assert prot["renewed_by"] is None
    client.patch(f"/api/v1/leads/{lead['id']}/protection", json={"out_of_town": True}, headers=rep1)
    clock.now = T0 + timedelta(days=20)
    _post(client, rep1, source="phone_call")
    prot = client.get(f"/api/v1/leads/{lead['id']}/protection", headers=rep1).json
    assert prot["renewed_by"]["kind"] == "phone" and prot["renewed_by"]["at"] == clock.now.isoformat()


def _shanghai() -> ZoneInfo:
    return ZoneInfo("Asia/Shanghai")


# --- 3. impossible phone numbers -------------------------------------------------------------

@pytest.mark.parametrize("phone", ["12345", "+86 12345", "1380013800"])
def test_impossible_phone_numbers_are_refused(client: FlaskClient, rep1: H, phone: str) -> None:
    resp = _post(client, rep1, phone=phone)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert "phone" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/leads/import", headers=rep1,
                       json={"source": "api_import", "rows": [{"name": "A", "phone": phone}]})
    assert resp.json["rows"][0]["status"] == "error" and "phone" in resp.json["rows"][0]["errors"]
    assert client.get("/api/v1/leads", headers=rep1).json["items"] == []


# --- 6. reassign to an owner who does not exist -----------------------------------------------

def test_reassign_to_unknown_owner_is_422(client: FlaskClient, rep1: H, manager: H) -> None:
    lead = _post(client, rep1).json
    url = f"/api/v1/leads/{lead['id']}/reassign"
    resp = client.post(url, headers=manager, json={"to_owner": "nobody", "rule": "manager_decision",
                                                   "reason": "typo"})
    assert resp.status_code == 422 and resp.json["errors"]["json"]["to_owner"] == ["No user nobody."]
    resp = client.post(url, headers=manager, json={"to_owner": "agent", "rule": "manager_decision",
                                                   "reason": "wrong person"})
    assert resp.status_code == 422 and "not a sales rep" in resp.json["errors"]["json"]["to_owner"][0]
    resp = client.post(url, headers=manager, json={"to_owner": "rep2", "rule": "manager_decision",
                                                   "reason": "rep1 moves to key accounts"})
    assert resp.status_code == 200 and resp.json["owner_id"] == "rep2"


def test_unknown_owners_refused_on_registration_and_redistribution(client: FlaskClient, rep1: H,
                                                                   manager: H) -> None:
    resp = _post(client, manager, owner_id="ghost")
    assert resp.status_code == 422 and "owner_id" in resp.json["errors"]["json"]
    _post(client, rep1)
    resp = client.post("/api/v1/leads/redistribute", headers=manager,
                       json={"from_rep": "rep1", "to_reps": ["rep2", "ghost"], "method": "even"})
    assert resp.status_code == 422 and resp.json["errors"]["json"]["to_reps"] == ["No user ghost."]


def test_without_a_directory_leads_knows_the_users_its_records_name(
        client: FlaskClient, rep1: H, manager: H, leads_ctx: LeadsContext, issuer: TestIssuer) -> None:
    import dataclasses

    leads_ctx.settings = dataclasses.replace(leads_ctx.settings, directory=None)
    lead = _post(client, rep1).json
    url = f"/api/v1/leads/{lead['id']}/reassign"
    body = {"rule": "manager_decision", "reason": "moves"}
    assert client.post(url, headers=manager, json={**body, "to_owner": "rep2"}).status_code == 422
    _post(client, issuer.headers("rep2", "sales_rep", team="east"), phone="13900139000")
    assert client.post(url, headers=manager, json={**body, "to_owner": "rep2"}).status_code == 200


# --- 5. two identical walk-ins at the same instant ---------------------------------------------

def test_two_identical_walk_ins_at_the_same_instant_make_one_lead(
        client: FlaskClient, leads_ctx: LeadsContext, rep1: H, rep2: H,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Real threads, each with its own connection. Both requests are held right after their
    duplicate check until the other has reached it too (or 2 s passed): without the per-person
    lock both would see no lead and create one each."""
    import threading

    from leads.intake import dedupe

    check, barrier = dedupe.check, threading.Barrier(2, timeout=2)

    def check_then_wait(*args: Any, **kwargs: Any) -> Any:
        result = check(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other request is (rightly) blocked until this one commits
        return result

    monkeypatch.setattr(dedupe, "check", check_then_wait)
    answers: list[Any] = []

    def walk_in(headers: H) -> None:
        answers.append(_post(client.application.test_client(), headers))

    threads = [threading.Thread(target=walk_in, args=(h,)) for h in (rep1, rep2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status_code for r in answers) == [200, 201]
    assert len({r.json["id"] for r in answers}) == 1
    assert len(outbox_events(leads_ctx.bus, "leads.lead.registered.v1")) == 1
    assert len(outbox_events(leads_ctx.bus, "leads.visit.recorded.v1")) == 1
