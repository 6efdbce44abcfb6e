"""Ownership wired into the leads API: policy, protection by qualifying contacts, owner history
and reassignment rules, splits, reception rotation and redistribution — real PostgreSQL, the
service's injectable clock instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leads.ownership import rotation
from testkit.events import outbox_events

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LEAD = {"name": "Zhang San", "company": "ACME 有限公司", "phone": "138 0013 8000", "source": "walk_in"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(leads_ctx):
    leads_ctx.clock = Clock(T0)
    return leads_ctx.clock


@pytest.fixture
def rep3(issuer) -> dict[str, str]:
    return issuer.headers("rep3", "sales_rep", team="east")


def _register(client, headers, **fields):
    resp = client.post("/api/v1/leads", json={**LEAD, **fields}, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- policy --------------------------------------------------------------------------------------

def test_policy_defaults_and_admin_only_audited_changes(client, rep1, manager, admin, leads_ctx):
    resp = client.get("/api/v1/leads/policy", headers=rep1)
    assert resp.status_code == 200
    assert resp.json["version"] == 0 and resp.json["policy"]["protection_months"] == 2
    assert resp.json["policy"]["claimable_after_months"] == 3
    change = {"protection_months": 3, "reason": "board decision 2026-11"}
    for who in (rep1, manager):
        assert client.put("/api/v1/leads/policy", json=change, headers=who).status_code == 403
    resp = client.put("/api/v1/leads/policy", headers=admin,
                      json={"protection_months": 0, "split_shared_percent": 120, "reason": "x"})
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert set(resp.json["errors"]["json"]) == {"protection_months", "split_shared_percent"}
    resp = client.put("/api/v1/leads/policy", headers=admin, json={"protection_monthz": 3, "reason": "x"})
    assert resp.status_code == 422 and "protection_monthz" in resp.json["errors"]["json"]
    resp = client.put("/api/v1/leads/policy", headers=admin, json={"protection_months": 3})
    assert resp.status_code == 422 and "reason" in resp.json["errors"]["json"]
    resp = client.put("/api/v1/leads/policy", headers=admin, json={"reason": "nothing"})
    assert resp.status_code == 422

    resp = client.put("/api/v1/leads/policy", headers=admin, json=change)
    assert resp.status_code == 200, resp.json
    assert resp.json["version"] == 1 and resp.json["updated_by"] == "admin"
    assert resp.json["policy"]["protection_months"] == 3
    assert client.get("/api/v1/leads/policy", headers=manager).json["policy"]["protection_months"] == 3
    [audit] = client.get("/api/v1/leads/policy/changes", headers=admin).json["items"]
    assert audit["actor"] == "admin" and audit["reason"] == "board decision 2026-11"
    assert audit["changes"] == {"protection_months": [2, 3]} and audit["version"] == 1
    assert client.get("/api/v1/leads/policy/changes", headers=rep1).status_code == 403

    from leads.policy.service import current_policy

    with leads_ctx.bus.session_factory() as session:
        assert current_policy(session).protection_months == 3


# --- protection ----------------------------------------------------------------------------------

def test_protection_renewed_only_by_a_qualifying_contact(client, rep1, rep2, manager, clock):
    lead = _register(client, rep1)
    url = f"/api/v1/leads/{lead['id']}"
    state = client.get(f"{url}/protection", headers=rep1).json
    assert state["status"] == "protected" and state["renewed_by"] is None
    assert state["protected_until"] == _iso(datetime(2026, 5, 2, 2, 0, tzinfo=UTC))
    assert state["claimable_at"] == _iso(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))

    clock.advance(days=55)  # inside the 7-day warning before 2 May
    assert client.get(f"{url}/protection", headers=rep1).json["status"] == "expiring"
    # A phone call does not renew a local lead; a manager's visit does not renew the owner's.
    resp = client.post(f"{url}/contacts", headers=rep1, json={"kind": "phone"})
    assert resp.status_code == 201, resp.json
    assert resp.json["qualifying"] is False and resp.json["protection"]["status"] == "expiring"
    resp = client.post(f"{url}/contacts", headers=manager, json={"kind": "face_to_face"})
    assert resp.json["qualifying"] is False
    assert resp.json["protection"]["protected_until"] == state["protected_until"]
    # The owner's face-to-face visit renews from its own (server) time.
    clock.advance(hours=1)
    resp = client.post(f"{url}/contacts", headers=rep1, json={"kind": "face_to_face", "note": "met"})
    assert resp.json["qualifying"] is True
    renewed = resp.json["protection"]
    assert renewed["status"] == "protected" and renewed["renewed_by"]["kind"] == "face_to_face"
    assert renewed["anchor_at"] == _iso(clock.now) == resp.json["contact"]["at"]
    assert renewed["protected_until"] == _iso(datetime(2026, 6, 26, 3, 0, tzinfo=UTC))
    assert len(client.get(f"{url}/contacts", headers=rep1).json["items"]) == 3
    # The public authorized list shows the real protection end.
    items = client.get("/api/v1/leads/authorized", headers=rep2, query_string={"company": "ACME"}).json
    assert items["items"][0]["protected_until"] == renewed["protected_until"]

    # Out of town: a phone visit counts from then on.
    resp = client.patch(f"{url}/protection", headers=rep1, json={"out_of_town": True})
    assert resp.status_code == 200 and resp.json["out_of_town"] is True
    clock.advance(days=10)
    resp = client.post(f"{url}/contacts", headers=rep1, json={"kind": "phone"})
    assert resp.json["qualifying"] is True and resp.json["contact"]["out_of_town"] is True

    # Another rep sees nothing of it.
    assert client.get(f"{url}/protection", headers=rep2).status_code == 404
    assert client.post(f"{url}/contacts", headers=rep2, json={"kind": "face_to_face"}).status_code == 404
    assert client.get(f"{url}/contacts", headers=rep2).status_code == 404
    assert client.patch(f"{url}/protection", headers=rep2, json={"out_of_town": False}).status_code == 404
    resp = client.post(f"{url}/contacts", headers=rep1, json={"kind": "visit", "by": "rep2"})
    assert resp.status_code == 422 and set(resp.json["errors"]["json"]) == {"kind", "by"}


# --- owners --------------------------------------------------------------------------------------

def test_reassign_rules_history_and_events(client, rep1, rep2, manager, admin, clock, leads_ctx):
    lead = _register(client, rep1)
    url = f"/api/v1/leads/{lead['id']}"
    body = {"to_owner": "rep2", "rule": "manager_decision"}
    # reps may neither reassign (403 on their own lead) nor see another rep's history (404)
    assert client.post(f"{url}/reassign", headers=rep1, json={**body, "reason": "x"}).status_code == 403
    assert client.post(f"{url}/reassign", headers=rep2, json={**body, "reason": "x"}).status_code == 403
    assert client.get(f"{url}/history", headers=rep2).status_code == 404
    resp = client.post(f"{url}/reassign", headers=manager, json=body)
    assert resp.status_code == 422 and "reason" in resp.json["errors"]["json"]
    resp = client.post(f"{url}/reassign", headers=manager,
                       json={"to_owner": "rep2", "rule": "claim_after_inactivity", "reason": "idle"})
    assert resp.status_code == 409 and "claimable only from" in resp.json["detail"]

    # The customer chose rep2 while rep1 is protected: rep2 owns it, 80/20 recorded.
    clock.advance(days=10)
    resp = client.post(f"{url}/reassign", headers=manager,
                       json={"to_owner": "rep2", "rule": "customer_choice"})
    assert resp.status_code == 200, resp.json
    moved = resp.json
    assert moved["changed"] is True and moved["owner_id"] == "rep2" and moved["owner_team"] == "east"
    assert moved["change"]["rule"] == "customer_choice" and "rule 2" in moved["change"]["reason"]
    assert [(s["rep"], s["percent"]) for s in moved["split"]["shares"]] == [("rep2", "80.00"),
                                                                           ("rep1", "20.00")]
    assert client.get(f"{url}/split", headers=rep2).json["shares"] == moved["split"]["shares"]
    assert client.get(f"{url}/history", headers=rep1).status_code == 404  # no longer rep1's

    # Three months without a qualifying contact by rep2: claimable, rep1 claims it back.
    clock.advance(days=95)
    assert client.get(f"{url}/protection", headers=rep2).json["status"] == "claimable"
    resp = client.post(f"{url}/reassign", headers=manager, json={
        "to_owner": "rep1", "rule": "claim_after_inactivity", "reason": "no visit since March"})
    assert resp.status_code == 200, resp.json
    assert client.get(f"{url}/protection", headers=rep1).json["status"] == "protected"

    history = client.get(f"{url}/history", headers=rep1).json["items"]
    assert [(h["from_owner"], h["to_owner"], h["rule"], h["actor"]) for h in history] == [
        (None, "rep1", "registration", "rep1"),
        ("rep1", "rep2", "customer_choice", "manager"),
        ("rep2", "rep1", "claim_after_inactivity", "manager")]
    assert history[2]["reason"] == "no visit since March"
    events = outbox_events(leads_ctx.bus, "leads.lead.reassigned.v1")
    assert [e["data"]["rule"] for e in events] == ["customer_choice", "claim_after_inactivity"]
    data = events[1]["data"]
    assert events[1]["subject"] == lead["id"] and data["from_owner"] == "rep2"
    assert data["to_owner"] == "rep1" and data["to_team"] == "east" and data["actor"] == "manager"
    assert data["code"] == lead["code"] and data["reason"] == "no visit since March"
    assert data["at"] == clock.now.isoformat()
    # Admins reassign anywhere; a manager may not move a lead out of the team.
    resp = client.post(f"{url}/reassign", headers=manager, json={
        "to_owner": "rep9", "to_team": "west", "rule": "manager_decision", "reason": "moves"})
    assert resp.status_code == 403
    resp = client.post(f"{url}/reassign", headers=admin, json={
        "to_owner": "rep9", "to_team": "west", "rule": "manager_decision", "reason": "moved west"})
    assert resp.status_code == 200 and resp.json["owner_team"] == "west"
    assert client.get(f"{url}/history", headers=manager).status_code == 404  # not east's any more


def test_another_rep_or_team_gets_404_or_403_never_the_data(client, rep1, rep2, issuer):
    lead = _register(client, rep1)
    west = issuer.headers("mw", "sales_manager", team="west")
    url = f"/api/v1/leads/{lead['id']}"
    calls = (("post", "reassign", {"to_owner": "x", "rule": "family_member"}),
             ("get", "history", None), ("get", "protection", None),
             ("patch", "protection", {"out_of_town": True}),
             ("post", "contacts", {"kind": "face_to_face"}), ("get", "contacts", None),
             ("post", "split", {"situation": "sole_credit", "rep": "x"}), ("get", "split", None))
    for headers, allowed in ((west, {404}), (rep2, {403, 404})):
        for method, path, body in calls:
            resp = getattr(client, method)(f"{url}/{path}", headers=headers, json=body)
            assert resp.status_code in allowed, (path, resp.status_code, resp.json)
            assert lead["code"] not in resp.get_data(as_text=True)


def test_assignment_at_registration_is_history_and_event(client, manager, leads_ctx):
    lead = _register(client, manager, owner_id="rep3")
    [line] = client.get(f"/api/v1/leads/{lead['id']}/history", headers=manager).json["items"]
    assert (line["from_owner"], line["to_owner"], line["actor"], line["rule"]) == (
        None, "rep3", "manager", "registration")
    [event] = outbox_events(leads_ctx.bus, "leads.lead.assigned.v1")
    assert event["data"]["owner_id"] == "rep3" and event["data"]["owner_team"] == "east"
    assert event["subject"] == lead["id"]


def test_splits_from_protection_state(client, rep1, manager, clock):
    lead = _register(client, rep1)
    url = f"/api/v1/leads/{lead['id']}/split"
    assert client.post(url, headers=rep1, json={"situation": "sole_credit", "rep": "rep1"}).status_code == 403
    resp = client.post(url, headers=manager, json={"situation": "forgot_who_served"})
    assert resp.status_code == 422 and set(resp.json["errors"]["json"]) == {"serving_rep", "earlier_rep"}
    # rep1 still protected: 50/50
    resp = client.post(url, headers=manager, json={
        "situation": "forgot_who_served", "serving_rep": "rep2", "earlier_rep": "rep1"})
    assert resp.status_code == 201, resp.json
    assert [(s["rep"], s["percent"]) for s in resp.json["shares"]] == [("rep2", "50.00"), ("rep1", "50.00")]
    # after expiry the former owner gets nothing
    clock.advance(days=70)
    resp = client.post(url, headers=manager, json={
        "situation": "forgot_who_served", "serving_rep": "rep2", "earlier_rep": "rep1",
        "reason": "deal closed"})
    assert [(s["rep"], s["percent"]) for s in resp.json["shares"]] == [("rep2", "100.00")]
    current = client.get(url, headers=rep1).json
    assert current["split_id"] == resp.json["split_id"] and current["reason"] == "deal closed"
    resp = client.post(url, headers=manager, json={"situation": "served_in_owners_absence",
                                                    "assistant": "rep3"})
    assert [(s["rep"], s["percent"]) for s in resp.json["shares"]] == [("rep1", "80.00"), ("rep3", "20.00")]


# --- rotation and redistribution ------------------------------------------------------------------

def test_reception_rotation_with_away_make_up_and_named_reps(client, rep1, rep2, manager, issuer, clock):
    base = "/api/v1/leads/rotation/east/2026-03-02"
    roster = {"reps": ["rep1", "rep2", "rep3"]}
    assert client.put(base, headers=rep1, json=roster).status_code == 403
    west = issuer.headers("mw", "sales_manager", team="west")
    assert client.put(base, headers=west, json=roster).status_code == 403
    assert client.get(base, headers=manager).status_code == 404
    assert client.put(base, headers=manager, json={"reps": ["rep1", "rep1"]}).status_code == 422
    resp = client.put(base, headers=manager, json=roster)
    assert resp.status_code == 200 and resp.json["next_rep"] == "rep1"

    def nxt(headers, **body):
        resp = client.post(f"{base}/next", headers=headers, json=body)
        assert resp.status_code == 200, resp.json
        return resp.json

    assert nxt(rep2, kind="new_customer", customer="walk-in 1")["rep"] == "rep1"
    # rep2 marks themselves away (a rep cannot mark another)
    assert client.post(f"{base}/away", headers=rep1, json={"rep": "rep2"}).status_code == 403
    assert client.post(f"{base}/away", headers=rep2, json={"rep": "rep2"}).status_code == 200
    turn = nxt(rep1, kind="new_customer")
    assert turn["rep"] == "rep3" and turn["skipped_away"] == ["rep2"]
    assert turn["state"]["makeup"] == {"rep2": 1}
    named = nxt(manager, kind="named_rep", names=["rep2", "rep3"], customer="asks for rep2")
    assert named["rep"] == "rep3" and named["consumed_turn"] is False  # rep2 away: next named
    back = client.post(f"{base}/returned", headers=manager, json={"rep": "rep2"})
    assert back.status_code == 200 and back.json["next_rep"] == "rep2"
    makeup = nxt(manager, kind="new_customer")
    assert makeup["rep"] == "rep2" and makeup["kind"] == "makeup"
    returning = nxt(manager, kind="returning_customer", owner="rep3")
    assert returning["rep"] == "rep3" and returning["consumed_turn"] is False
    assert nxt(manager, kind="new_customer")["rep"] == "rep1"
    resp = client.post(f"{base}/next", headers=manager, json={"kind": "named_rep"})
    assert resp.status_code == 422 and "names" in resp.json["errors"]["json"]
    assert client.post(f"{base}/away", headers=manager, json={"rep": "rep9"}).status_code == 409

    log = client.get(f"{base}/log", headers=rep1).json["items"]
    assert [i["action"] for i in log] == ["roster", "next", "away", "next", "next", "returned",
                                          "next", "next", "next"]
    assert [i["rep"] for i in log if i["action"] == "next"] == ["rep1", "rep3", "rep3", "rep2",
                                                                "rep3", "rep1"]
    assert "skipped away reps rep2" in log[3]["reason"] and log[1]["customer"] == "walk-in 1"
    west_rep = issuer.headers("rw", "sales_rep", team="west")
    assert client.get(f"{base}/log", headers=west_rep).status_code == 403


def test_redistribution_is_reproducible_logged_and_evented(client, manager, rep1, admin, leads_ctx):
    ids = [_register(client, manager, owner_id="rep3", phone=f"1390013900{i}")["id"] for i in range(6)]
    body = {"from_rep": "rep3", "to_reps": ["rep1", "rep2"], "method": "random", "seed": "leave-2026"}
    assert client.post("/api/v1/leads/redistribute", headers=rep1, json=body).status_code == 403
    resp = client.post("/api/v1/leads/redistribute", headers=manager, json=body)
    assert resp.status_code == 200, resp.json
    result = resp.json
    expected = rotation.redistribute(ids, ["rep1", "rep2"], "random", "leave-2026", departing="rep3")
    assert [(a["lead_id"], a["to_owner"]) for a in result["assignments"]] == list(expected.assignments)
    assert result["log"] == list(expected.log) and result["seed"] == "leave-2026"
    for lead_id, rep in expected.assignments:
        history = client.get(f"/api/v1/leads/{lead_id}/history", headers=manager).json["items"]
        assert (history[-1]["from_owner"], history[-1]["to_owner"], history[-1]["rule"]) == (
            "rep3", rep, "redistribution")
    events = outbox_events(leads_ctx.bus, "leads.lead.reassigned.v1")
    assert sorted(e["subject"] for e in events) == sorted(ids)
    assert {e["data"]["rule"] for e in events} == {"redistribution"}
    # Nothing left to move; even split of a fresh batch differs by at most one.
    again = client.post("/api/v1/leads/redistribute", headers=manager, json=body).json
    assert again["assignments"] == []
    for i in range(3):
        _register(client, manager, owner_id="rep4", phone=f"1370013700{i}")
    even = client.post("/api/v1/leads/redistribute", headers=admin, json={
        "from_rep": "rep4", "to_reps": ["rep1", "rep2", "rep5"], "method": "even"}).json
    counts = {r: sum(a["to_owner"] == r for a in even["assignments"]) for r in ("rep1", "rep2", "rep5")}
    assert sorted(counts.values()) == [1, 1, 1] and even["seed"]


def test_conversion_event_carries_the_recorded_split(client, rep1, manager, leads_ctx):
    """The converted event tells accounts (and outside systems) who gets the deal's credit."""
    import json

    from sqlalchemy import select

    from leads.db import OUTBOX

    lead_id = client.post("/api/v1/leads", headers=rep1, json={
        "name": "Split Co", "phone": "+8613900000077", "source": "walk_in"}).json["id"]

    def converted_split() -> list[dict[str, str]]:
        with leads_ctx.bus.session_factory() as s:
            raw = s.execute(select(OUTBOX.c.envelope).where(
                OUTBOX.c.event_type == "leads.lead.converted.v1")).scalar_one()
        return json.loads(raw)["data"]["split"]

    resp = client.post(f"/api/v1/leads/{lead_id}/split", headers=manager, json={
        "situation": "served_in_owners_absence", "assistant": "rep2"})
    assert resp.status_code == 201, resp.json
    assert client.post(f"/api/v1/leads/{lead_id}/convert", headers=rep1).status_code == 202
    assert converted_split() == [{"rep": "rep1", "percent": "80.00"}, {"rep": "rep2", "percent": "20.00"}]


def test_reception_registers_walk_ins_through_the_rotation(client, rep1, manager, leads_ctx):
    """轮流接待 in one step: new walk-ins and calls go to the next rep on duty, a named rep
    serves outside the order, a returning customer is a visit and takes no turn."""
    from zoneinfo import ZoneInfo

    today = leads_ctx.clock().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()

    def walk_in(phone: str, **extra: object) -> tuple[int, dict]:  # type: ignore[type-arg]
        resp = client.post("/api/v1/leads", headers=rep1, json={
            "name": f"Visitor {phone[-4:]}", "phone": phone, "source": "walk_in",
            "assign_by_rotation": True, **extra})
        return resp.status_code, resp.json

    assert walk_in("+8613700000001")[0] == 409  # no rotation set for today yet
    resp = client.put(f"/api/v1/leads/rotation/east/{today}", headers=manager,
                      json={"reps": ["rep1", "rep2"]})
    assert resp.status_code == 200, resp.json
    first = walk_in("+8613700000001")
    assert first[0] == 201 and first[1]["owner_id"] == "rep1"
    assert walk_in("+8613700000002")[1]["owner_id"] == "rep2"
    returning = walk_in("+8613700000001")
    assert returning[0] == 200 and returning[1]["visit_recorded"] is True
    assert walk_in("+8613700000003")[1]["owner_id"] == "rep1"  # the visit took no turn
    named = walk_in("+8613700000004", named_rep="rep1")
    assert named[1]["owner_id"] == "rep1"
    assert walk_in("+8613700000005")[1]["owner_id"] == "rep2"  # naming took no turn either
    log = client.get(f"/api/v1/leads/rotation/east/{today}/log", headers=manager).json
    assert sum(1 for entry in log["items"] if entry["action"] == "next") == 5

    bad = client.post("/api/v1/leads", headers=rep1, json={
        "name": "Caller", "phone": "+8613700000009", "source": "trade_show",
        "assign_by_rotation": True})
    assert bad.status_code == 422 and "assign_by_rotation" in bad.json["errors"]["json"]


def test_policy_and_owner_audit_rows_cannot_be_rewritten(client, rep1, admin, manager, leads_ctx):
    """Issue 7: the audit trail is append-only below the API (triggers), on both databases."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DatabaseError

    resp = client.put("/api/v1/leads/policy", headers=admin,
                      json={"protection_months": 3, "reason": "board decision"})
    assert resp.status_code == 200
    lead = _register(client, rep1)
    moved = client.post(f"/api/v1/leads/{lead['id']}/reassign", headers=manager,
                        json={"to_owner": "rep2", "rule": "customer_choice"})
    assert moved.status_code == 200, moved.json
    engine = leads_ctx.bus.session_factory.kw["bind"]
    for table in ("lead_policy_changes", "lead_owner_changes"):
        for stmt in (f"UPDATE {table} SET reason = 'rewritten'", f"DELETE FROM {table}"):  # noqa: S608 - fixed names
            with pytest.raises(DatabaseError), engine.begin() as conn:
                conn.execute(sa.text(stmt))
    [audit] = client.get("/api/v1/leads/policy/changes", headers=admin).json["items"]
    assert audit["reason"] == "board decision"
    with engine.connect() as conn:
        reasons = conn.execute(sa.text("SELECT reason FROM lead_owner_changes")).scalars().all()
    assert reasons and "rewritten" not in reasons
