"""Pipeline stages, outcomes, tracking class, follow-ups and the cadence scheduler against a real
PostgreSQL database. Time moves by replacing ``LeadsContext.clock``; nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leads.pipeline.scheduler import run_cadence
from testkit.events import outbox_events

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
LEAD = {"name": "Zhang San", "company": "ACME 有限公司", "phone": "138 0013 8000", "source": "walk_in"}


@pytest.fixture
def clock(leads_ctx):
    """``clock.at(days=…)`` moves the service's clock relative to T0."""

    class Clock:
        now = T0

        def at(self, **delta: float) -> datetime:
            self.now = T0 + timedelta(**delta)
            return self.now

    c = Clock()
    leads_ctx.clock = lambda: c.now
    return c


def _lead(client, headers, **extra) -> str:
    resp = client.post("/api/v1/leads", json={**LEAD, **extra}, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def _types(ctx, type_: str) -> list[dict]:
    return [e["data"] for e in outbox_events(ctx.bus, type_)]


def _run(client, admin, clock, days: float) -> dict:
    clock.at(days=days)
    resp = client.post("/api/v1/leads/cadence/run", headers=admin)
    assert resp.status_code == 200, resp.json
    return resp.json


# --- stages -------------------------------------------------------------------------------------

def test_stage_move_refused_with_missing_checklist_items(client, rep1, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    resp = client.post(f"/api/v1/leads/{lead_id}/stage", json={"to_stage": "value_assessment",
                                                                "facts": {"opportunity_confirmed": True}},
                       headers=rep1)
    assert resp.status_code == 409 and resp.content_type == "application/problem+json"
    assert resp.json["missing"] == ["company_profile_known", "inside_contact", "information_sufficient",
                                    "need_clear"]
    # Refused means nothing saved, not even the facts.
    assert client.get(f"/api/v1/leads/{lead_id}/stages", headers=rep1).json["stage"] == "identify"
    assert _types(leads_ctx, "leads.lead.stage_changed.v1") == []


def test_stage_validation_and_unknown_fields(client, rep1, clock):
    lead_id = _lead(client, rep1)
    url = f"/api/v1/leads/{lead_id}/stage"
    assert client.post(url, json={"to_stage": "nowhere"}, headers=rep1).status_code == 422
    assert client.post(url, json={"to_stage": "won"}, headers=rep1).status_code == 422
    resp = client.post(url, json={"to_stage": "information", "facts": {"bogus": True}}, headers=rep1)
    assert resp.status_code == 422 and "facts" in resp.json["errors"]["json"]
    resp = client.post(url, json={"to_stage": "information", "extra": 1}, headers=rep1)
    assert resp.status_code == 422 and "extra" in resp.json["errors"]["json"]


def test_stage_history_and_time_in_stage(client, rep1, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    url = f"/api/v1/leads/{lead_id}/stage"
    clock.at(days=2)
    resp = client.post(url, json={"to_stage": "information", "facts": {
        "opportunity_confirmed": True, "company_profile_known": True}}, headers=rep1)
    assert resp.status_code == 200 and resp.json["stage"] == "information"
    assert resp.json["checklist"] == {"opportunity_confirmed": True, "company_profile_known": True}
    clock.at(days=5)
    assert client.post(url, json={"to_stage": "identify"}, headers=rep1).status_code == 200  # back: free
    clock.at(days=6)
    report = client.get(f"/api/v1/leads/{lead_id}/stages", headers=rep1).json
    assert [(i["stage"], i["seconds"]) for i in report["items"]] == [
        ("identify", 2 * 86400), ("information", 3 * 86400), ("identify", 86400)]
    assert report["items"][0]["actor"] == "rep1" and report["items"][-1]["left_at"] is None
    assert report["time_in_stages"] == {"identify": 3 * 86400, "information": 3 * 86400}
    [first, _] = _types(leads_ctx, "leads.lead.stage_changed.v1")
    assert first["from_stage"] == "identify" and first["to_stage"] == "information"
    assert first["by"] == "rep1" and first["at"] == (T0 + timedelta(days=2)).isoformat()


# --- outcomes -----------------------------------------------------------------------------------

def test_lose_needs_a_reason_from_the_list(client, rep1, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    url = f"/api/v1/leads/{lead_id}/lose"
    assert client.post(url, json={}, headers=rep1).status_code == 422
    resp = client.post(url, json={"reason": "bored"}, headers=rep1)
    assert resp.status_code == 422 and "reason" in resp.json["errors"]["json"]
    clock.at(days=1)
    resp = client.post(url, json={"reason": "price", "note": "too expensive"}, headers=rep1)
    assert resp.status_code == 200
    assert resp.json["status"] == "lost" and resp.json["stage"] == "lost"
    assert resp.json["lost_reason"] == "price"
    [lost] = _types(leads_ctx, "leads.lead.lost.v1")
    assert lost["reason"] == "price" and lost["note"] == "too expensive" and lost["from_stage"] == "identify"
    assert client.post(url, json={"reason": "price"}, headers=rep1).status_code == 409  # already lost
    report = client.get(f"/api/v1/leads/{lead_id}/stages", headers=rep1).json
    assert [i["stage"] for i in report["items"]] == ["identify", "lost"]
    assert report["items"][1]["seconds"] is None and report["time_in_stages"] == {"identify": 86400}


def test_lost_and_terminated_leads_cannot_convert(client, rep1, clock):
    lost = _lead(client, rep1)
    client.post(f"/api/v1/leads/{lost}/lose", json={"reason": "no_need"}, headers=rep1)
    resp = client.post(f"/api/v1/leads/{lost}/convert", headers=rep1)
    assert resp.status_code == 409 and "lost" in resp.json["detail"]
    terminated = _lead(client, rep1, phone="139 0013 9000")
    resp = client.post(f"/api/v1/leads/{terminated}/terminate", json={"reason": "price"}, headers=rep1)
    assert resp.status_code == 422  # a lost reason is not a risk reason
    resp = client.post(f"/api/v1/leads/{terminated}/terminate", json={"reason": "credit_risk"},
                       headers=rep1)
    assert resp.status_code == 200 and resp.json["status"] == "terminated"
    assert client.post(f"/api/v1/leads/{terminated}/convert", headers=rep1).status_code == 409
    assert client.post(f"/api/v1/leads/{terminated}/reopen", headers=rep1).status_code == 409


def test_reopen_lost_lead_restarts_at_first_stage(client, rep1, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    assert client.post(f"/api/v1/leads/{lead_id}/reopen", headers=rep1).status_code == 409  # open
    client.post(f"/api/v1/leads/{lead_id}/lose", json={"reason": "no_budget"}, headers=rep1)
    resp = client.post(f"/api/v1/leads/{lead_id}/reopen", headers=rep1)
    assert resp.status_code == 200
    assert (resp.json["status"], resp.json["stage"], resp.json["lost_reason"]) == ("open", "identify", None)
    assert client.post(f"/api/v1/leads/{lead_id}/convert", headers=rep1).status_code == 202
    stages = client.get(f"/api/v1/leads/{lead_id}/stages", headers=rep1).json
    assert [i["stage"] for i in stages["items"]] == ["identify", "lost", "identify", "won"]
    moves = [(e["from_stage"], e["to_stage"]) for e in _types(leads_ctx, "leads.lead.stage_changed.v1")]
    assert moves == [("identify", "lost"), ("lost", "identify"), ("identify", "won")]


# --- tracking class -----------------------------------------------------------------------------

def test_a_class_needs_a_follow_up_plan(client, rep1, clock):
    lead_id = _lead(client, rep1)
    url = f"/api/v1/leads/{lead_id}/tracking"
    resp = client.put(url, json={"tracking_class": "A"}, headers=rep1)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert set(resp.json["errors"]["json"]) == {"next_step", "next_date"}
    resp = client.put(url, json={"tracking_class": "B", "next_step": "send samples"}, headers=rep1)
    assert resp.status_code == 422 and set(resp.json["errors"]["json"]) == {"next_date"}
    past = (T0 - timedelta(days=3)).isoformat()
    resp = client.put(url, json={"tracking_class": "A", "next_step": "visit", "next_date": past},
                      headers=rep1)
    assert resp.status_code == 422 and set(resp.json["errors"]["json"]) == {"next_date"}
    resp = client.put(url, json={"tracking_class": "Z"}, headers=rep1)
    assert resp.status_code == 422 and set(resp.json["errors"]["json"]) == {"tracking_class"}
    assert client.put(url, json={"tracking_class": "C"}, headers=rep1).status_code == 200
    when = (T0 + timedelta(days=3)).isoformat()
    resp = client.put(url, json={"tracking_class": "A", "next_step": "visit", "next_date": when},
                      headers=rep1)
    assert resp.status_code == 200
    assert resp.json["tracking_class"] == "A" and resp.json["next_step"] == "visit"
    assert resp.json["next_follow_up_at"] == when
    # The plan on the lead satisfies a later re-classing.
    assert client.put(url, json={"tracking_class": "B"}, headers=rep1).status_code == 200


# --- follow-ups ---------------------------------------------------------------------------------

def test_follow_up_log_and_permission_walls(client, rep1, rep2, manager, issuer, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    url = f"/api/v1/leads/{lead_id}/follow-ups"
    clock.at(hours=3)
    nxt = (T0 + timedelta(days=4)).isoformat()
    resp = client.post(url, json={"channel": "phone", "summary": "called", "outcome": "wants samples",
                                  "next_step": "send samples", "next_date": nxt}, headers=rep1)
    assert resp.status_code == 201
    assert resp.json["at"] == clock.now.isoformat() and resp.json["by"] == "rep1"
    clock.at(hours=5)
    assert client.post(url, json={"channel": "visit", "summary": "met"}, headers=manager).status_code == 201
    page = client.get(url + "?limit=1", headers=rep1).json
    assert [i["summary"] for i in page["items"]] == ["met"] and page["next_cursor"]
    page2 = client.get(url + f"?limit=1&cursor={page['next_cursor']}", headers=rep1).json
    assert [i["summary"] for i in page2["items"]] == ["called"] and page2["next_cursor"] is None
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=rep1).json
    assert lead["next_step"] == "send samples" and lead["next_follow_up_at"] == nxt
    [logged, _] = _types(leads_ctx, "leads.followup.logged.v1")
    assert logged["channel"] == "phone" and logged["next_date"] == nxt and logged["owner_id"] == "rep1"
    # Another rep, a manager of another team: 404 everywhere (ids reveal nothing).
    other_manager = issuer.headers("mgr2", "sales_manager", team="west")
    for headers in (rep2, other_manager):
        assert client.get(url, headers=headers).status_code == 404
        assert client.post(url, json={"channel": "sms", "summary": "x"}, headers=headers).status_code == 404
        assert client.post(f"/api/v1/leads/{lead_id}/stage", json={"to_stage": "identify"},
                           headers=headers).status_code == 404
        assert client.put(f"/api/v1/leads/{lead_id}/tracking", json={"tracking_class": "C"},
                          headers=headers).status_code == 404
        assert client.post(f"/api/v1/leads/{lead_id}/lose", json={"reason": "price"},
                           headers=headers).status_code == 404
        assert client.get(f"/api/v1/leads/{lead_id}/stages", headers=headers).status_code == 404
    resp = client.post(url, json={"channel": "pigeon", "summary": "x", "extra": 1}, headers=rep1)
    assert resp.status_code == 422 and {"channel", "extra"} <= set(resp.json["errors"]["json"])


# --- cadence ------------------------------------------------------------------------------------

def test_cadence_run_is_admin_only(client, rep1, manager):
    assert client.post("/api/v1/leads/cadence/run", headers=rep1).status_code == 403
    assert client.post("/api/v1/leads/cadence/run", headers=manager).status_code == 403


def test_first_contact_overdue_once(client, manager, admin, leads_ctx, clock):
    lead_id = _lead(client, manager, owner_id="rep1", owner_team="east")  # assigned to rep1
    assert _run(client, admin, clock, 6)["emitted"] == 0
    assert _run(client, admin, clock, 8)["by_type"] == {"leads.followup.overdue.v1": 1}
    assert _run(client, admin, clock, 8.5)["emitted"] == 0
    assert run_cadence(leads_ctx.bus.session_factory, leads_ctx.bus, clock.now).emitted == {}
    [event] = _types(leads_ctx, "leads.followup.overdue.v1")
    assert event["lead_id"] == lead_id and event["kind"] == "first_contact_overdue"
    assert event["owner_id"] == "rep1" and event["owner_team"] == "east" and event["escalate_to"] is None
    assert event["due_at"] == (T0 + timedelta(days=7)).isoformat()


def test_contact_in_time_means_no_first_contact_reminder(client, manager, issuer, admin, leads_ctx,
                                                         clock):
    lead_id = _lead(client, manager, owner_id="rep1", owner_team="east")
    _run(client, admin, clock, 1)  # schedules the lead for day 7
    clock.at(days=3)
    rep1 = issuer.headers("rep1", "sales_rep", team="east")
    client.post(f"/api/v1/leads/{lead_id}/follow-ups", json={"channel": "email", "summary": "hi"},
                headers=rep1)
    assert _run(client, admin, clock, 8)["emitted"] == 0


def test_trade_show_escalation_then_breach(client, rep1, admin, leads_ctx, clock):
    _lead(client, rep1, source="trade_show", show_name="Canton Fair")
    assert _run(client, admin, clock, 6.9)["emitted"] == 0
    assert _run(client, admin, clock, 7)["by_type"] == {"leads.followup.due.v1": 1}
    assert _run(client, admin, clock, 10)["emitted"] == 0
    assert _run(client, admin, clock, 14)["by_type"] == {"leads.followup.overdue.v1": 1}
    [due] = _types(leads_ctx, "leads.followup.due.v1")
    [breach] = _types(leads_ctx, "leads.followup.overdue.v1")
    assert due["kind"] == "trade_show_unanswered_escalation" and due["escalate_to"] == "manager"
    assert breach["kind"] == "trade_show_unanswered_breach" and breach["escalate_to"] == "manager"


def test_key_lead_not_contacted_for_a_week(client, rep1, admin, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    clock.at(days=1)
    client.put(f"/api/v1/leads/{lead_id}/tracking", json={
        "tracking_class": "A", "next_step": "visit", "next_date": (T0 + timedelta(days=30)).isoformat()},
        headers=rep1)
    assert _run(client, admin, clock, 7.5)["emitted"] == 0
    assert _run(client, admin, clock, 8)["by_type"] == {"leads.followup.due.v1": 1}
    [event] = _types(leads_ctx, "leads.followup.due.v1")
    assert event["kind"] == "key_lead_stale"
    clock.at(days=9)
    client.post(f"/api/v1/leads/{lead_id}/follow-ups", json={"channel": "phone", "summary": "ok"},
                headers=rep1)
    assert _run(client, admin, clock, 15)["emitted"] == 0
    assert _run(client, admin, clock, 16)["by_type"] == {"leads.followup.due.v1": 1}  # a new week


def test_protection_expiring_then_expired(client, rep1, admin, leads_ctx, clock):
    _lead(client, rep1)  # registered T0 = 2026-11-02 09:00 Shanghai → protected until 2027-01-02
    until = datetime(2027, 1, 2, 1, 0, tzinfo=UTC)
    assert _run(client, admin, clock, (until - T0).days - 8)["emitted"] == 0
    assert _run(client, admin, clock, (until - T0).days - 7)["by_type"] == {
        "leads.protection.expiring.v1": 1}
    assert _run(client, admin, clock, (until - T0).days - 1)["emitted"] == 0
    assert _run(client, admin, clock, (until - T0).days)["by_type"] == {"leads.protection.expired.v1": 1}
    assert _run(client, admin, clock, (until - T0).days + 1)["emitted"] == 0
    [expiring] = _types(leads_ctx, "leads.protection.expiring.v1")
    [expired] = _types(leads_ctx, "leads.protection.expired.v1")
    assert expiring["kind"] == "protection_expiring" and expired["kind"] == "protection_expired"
    assert expired["due_at"] == until.isoformat()


def test_visit_by_owner_renews_protection(client, rep1, admin, leads_ctx, clock):
    lead_id = _lead(client, rep1)
    clock.at(days=30)
    client.post(f"/api/v1/leads/{lead_id}/follow-ups", json={"channel": "visit", "summary": "met"},
                headers=rep1)
    assert _run(client, admin, clock, 62)["emitted"] == 0  # would have expired without the visit
    assert _types(leads_ctx, "leads.protection.expired.v1") == []
    # One source of contacts: the ownership module sees the same visit.
    [contact] = client.get(f"/api/v1/leads/{lead_id}/contacts", headers=rep1).json["items"]
    assert contact["kind"] == "face_to_face" and contact["by"] == "rep1"


def test_closed_leads_get_no_reminders(client, manager, admin, leads_ctx, clock):
    lead_id = _lead(client, manager, owner_id="rep1", owner_team="east")
    client.post(f"/api/v1/leads/{lead_id}/lose", json={"reason": "no_need"}, headers=manager)
    assert _run(client, admin, clock, 70)["checked"] == 0


def test_ownership_contacts_count_too(client, manager, admin, leads_ctx, clock):
    """Contacts recorded through the ownership module (lead_contacts) are read next to follow-ups."""
    import uuid

    from leads.ownership.models import LeadContact

    lead_id = _lead(client, manager, owner_id="rep1", owner_team="east")
    with leads_ctx.bus.session_factory() as session, session.begin():
        session.add(LeadContact(id=str(uuid.uuid4()), lead_id=lead_id, at=T0 + timedelta(days=40),
                                kind="face_to_face", by="rep1", out_of_town=False))
    assert _run(client, admin, clock, 8)["by_type"] == {"leads.followup.overdue.v1": 1}  # not yet then
    assert _run(client, admin, clock, 62)["emitted"] == 0  # the day-40 visit renewed protection


def test_worker_thread_runs_the_cadence_with_the_context_clock(client, manager, leads_ctx, clock):
    import threading

    from eventbus.testing import wait_for
    from leads.pipeline.scheduler import start_cadence_thread

    _lead(client, manager, owner_id="rep1", owner_team="east")
    clock.at(days=8)
    stop = threading.Event()
    thread = start_cadence_thread(leads_ctx.bus.session_factory, leads_ctx.bus, leads_ctx.clock, stop,
                                  interval=0.05)
    try:
        wait_for(lambda: _types(leads_ctx, "leads.followup.overdue.v1"), message="overdue event")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(_types(leads_ctx, "leads.followup.overdue.v1")) == 1  # many passes, one event


def test_configured_stages_and_reasons(client, rep1, clock, monkeypatch):
    """Stages and lost reasons come from the policy; a lead in a stage the policy no longer has
    counts as being in the first one."""
    from leads.pipeline import service as pipeline_service
    from leads.policy.rules import LeadPolicy, StageSpec

    policy = LeadPolicy(stages=(StageSpec("qualify", "Qualify", ("budget_known",)),
                                StageSpec("negotiate", "Negotiate")), lost_reasons=("gone",))
    monkeypatch.setattr(pipeline_service, "lead_policy", lambda _session: policy)
    lead_id = _lead(client, rep1)  # stored stage: the column default "identify"
    url = f"/api/v1/leads/{lead_id}/stage"
    resp = client.post(url, json={"to_stage": "negotiate"}, headers=rep1)
    assert resp.status_code == 409 and resp.json["missing"] == ["budget_known"]
    resp = client.post(url, json={"to_stage": "negotiate", "facts": {"budget_known": True}}, headers=rep1)
    assert resp.status_code == 200 and resp.json["stage"] == "negotiate"
    assert client.post(f"/api/v1/leads/{lead_id}/lose", json={"reason": "price"},
                       headers=rep1).status_code == 422
    assert client.post(f"/api/v1/leads/{lead_id}/lose", json={"reason": "gone"},
                       headers=rep1).status_code == 200
