"""Tickets through the API: kinds and routing, first responder, one-stop, repeat contacts, major
matters, the lifecycle with its history, and who may see and do what (both databases)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from support.wiring import SupportContext
from testkit.events import outbox_events

from .helpers import URL, act, body, open_ticket

pytestmark = pytest.mark.integration
UNKNOWN = {"json": {"account_id": ["Unknown account."]}}
H = dict[str, str]


@pytest.fixture
def acc1(known_account: Callable[..., str]) -> str:
    return known_account(
        str(uuid.uuid4()),
        owner_id="rep1",
        owner_team="east",
        code="C-000001",
        grade="A",
        member=True,
        phone="13800138000",
        contact={"name": "Wang Wu", "title": "总", "mobile": "+8613800138000", "email": "wang@x.cn"},
        timezone="Asia/Shanghai",
    )


@pytest.fixture
def acc_west(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()), owner_id="rep9", owner_team="west", code="C-000002")


# -- opening, kinds, routing ------------------------------------------------------------------


def test_agent_opens_ticket_owned_routed_and_announced(
    client: FlaskClient, agent: H, acc1: str, support_ctx: SupportContext
) -> None:
    ticket = open_ticket(client, agent, acc1, description="Since Monday.", phone="138-0013-8000")
    assert ticket["code"] == "T-000001" and ticket["status"] == "new"
    assert ticket["owner_id"] == "agent" and ticket["assignee_id"] is None
    assert ticket["queue"] == "technical" and ticket["repair_mode"] == "onsite"
    assert ticket["account"]["name"] == "Ningbo Harbour Trading" and ticket["account"]["grade"] == "A"
    assert ticket["account"]["member"] is True and ticket["account"]["credit_hold"] is False
    assert {c["metric"] for c in ticket["sla"]} == {"first_response", "resolution"}
    [event] = outbox_events(support_ctx.bus, "support.ticket.opened.v1")
    data = event["data"]
    assert event["subject"] == ticket["id"] and data["owner_id"] == "agent"
    assert data["queue"] == "technical" and data["account_owner_id"] == "rep1"
    assert data["customer"] == {
        "name": "Wang Wu",
        "title": "总",
        "mobile": "+8613800138000",
        "email": "wang@x.cn",
        "timezone": "Asia/Shanghai",
    }


@pytest.mark.parametrize(
    ("kind", "extra", "queue"),
    [
        ("inquiry", {}, "after_sales"),
        ("complaint", {}, "complaint_desk"),
        ("suggestion", {}, "complaint_desk"),
        ("dispute", {}, "complaint_desk"),
        ("repair", {"repair_mode": "factory"}, "quality"),
        ("repair", {"repair_mode": "paid", "repair_fee": "350.00"}, "after_sales"),
        ("installation", {}, "after_sales"),
        ("replacement", {}, "after_sales"),
        ("return", {}, "after_sales"),
        ("shipment_tracking", {}, "after_sales"),
        ("major_fault", {}, "technical"),
    ],
)
def test_each_kind_routes_to_its_queue(
    client: FlaskClient, agent: H, acc1: str, kind: str, extra: dict[str, str], queue: str
) -> None:
    ticket = open_ticket(client, agent, acc1, kind=kind, **extra)
    assert ticket["queue"] == queue
    if extra.get("repair_fee"):
        assert ticket["repair_fee"] == "350.00" and ticket["currency"] == "CNY"


def test_routing_follows_the_policy(client: FlaskClient, agent: H, admin: H, acc1: str) -> None:
    policy = client.get("/api/v1/support/policy", headers=admin).json["policy"]
    routing = {**policy["routing"], "inquiry": "vip"}
    resp = client.put(
        "/api/v1/support/policy",
        headers=admin,
        json={"queues": [*policy["queues"], "vip"], "routing": routing, "reason": "VIP desk opens"},
    )
    assert resp.status_code == 200, resp.json
    assert open_ticket(client, agent, acc1, kind="inquiry")["queue"] == "vip"


def test_bad_input_is_422(client: FlaskClient, agent: H, acc1: str) -> None:
    resp = client.post(
        URL,
        json={"account_id": acc1, "kind": "refund", "subject": "", "priority": "asap", "extra": 1},
        headers=agent,
    )
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert set(resp.json["errors"]["json"]) == {"kind", "subject", "priority", "extra"}
    assert "kind" in client.post(URL, json=body(acc1, kind="teleport"), headers=agent).json["errors"]["json"]
    resp = client.post(URL, json={}, headers=agent)
    assert set(resp.json["errors"]["json"]) == {"account_id", "kind", "subject"}
    long = client.post(URL, json=body(acc1, subject="x" * 201), headers=agent)
    assert long.status_code == 422 and "subject" in long.json["errors"]["json"]
    paid = client.post(URL, json=body(acc1, repair_mode="paid"), headers=agent)
    assert paid.status_code == 422 and "repair_fee" in paid.json["errors"]["json"]
    fee = client.post(URL, json=body(acc1, kind="inquiry", repair_fee="10.00"), headers=agent)
    assert fee.status_code == 422
    assert client.get(f"{URL}?colour=red", headers=agent).status_code == 422
    assert client.get(f"{URL}?cursor=garbage", headers=agent).status_code == 422


def test_unknown_account_is_422_and_emits_nothing(
    client: FlaskClient, agent: H, support_ctx: SupportContext
) -> None:
    resp = client.post(URL, json=body(str(uuid.uuid4())), headers=agent)
    assert resp.status_code == 422 and resp.json["errors"] == UNKNOWN
    assert outbox_events(support_ctx.bus) == []


def test_reps_open_only_for_their_accounts(
    client: FlaskClient, rep1: H, rep2: H, manager: H, acc1: str, acc_west: str
) -> None:
    assert client.post(URL, json=body(acc1), headers=rep1).status_code == 201
    other = client.post(URL, json=body(acc1, new_matter=True), headers=rep2)
    unknown = client.post(URL, json=body(str(uuid.uuid4())), headers=rep2)
    assert other.status_code == unknown.status_code == 422
    assert other.json["errors"] == unknown.json["errors"] == UNKNOWN
    assert client.post(URL, json=body(acc_west), headers=manager).json["errors"] == UNKNOWN


def test_unauthenticated_401_and_no_role_403(client: FlaskClient, nobody: H, acc1: str) -> None:
    resp = client.get(URL)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    assert client.post(URL, json=body(acc1), headers=nobody).status_code == 403
    assert client.get(URL, headers=nobody).status_code == 403


# -- one-stop, repeat contacts, major matters ---------------------------------------------------


def test_one_stop_closure(client: FlaskClient, agent: H, acc1: str) -> None:
    ticket = open_ticket(client, agent, acc1, kind="inquiry", resolution="Told the delivery date.")
    assert ticket["status"] == "resolved" and ticket["one_stop"] is True
    later = open_ticket(client, agent, acc1, kind="inquiry", new_matter=True)
    resolved = act(client, agent, later["id"], "resolve").json
    assert resolved["one_stop"] is True  # resolved straight from new by its first responder
    third = open_ticket(client, agent, acc1, kind="inquiry", new_matter=True)
    act(client, agent, third["id"], "start")
    assert act(client, agent, third["id"], "resolve").json["one_stop"] is False


def test_repeat_contact_attaches_and_alerts_the_owner(
    client: FlaskClient, agent: H, agent2: H, acc1: str, support_ctx: SupportContext
) -> None:
    first = open_ticket(client, agent, acc1)
    again = client.post(URL, json=body(acc1, description="Still noisy!"), headers=agent2)
    assert again.status_code == 200 and again.json["attached"] is True
    assert again.json["id"] == first["id"] and again.json["repeat_contacts"] == 1
    # The same caller's phone finds it too, even for another account record.
    [event] = outbox_events(support_ctx.bus, "support.ticket.repeat_contact.v1")
    assert event["data"]["owner_id"] == "agent" and event["data"]["repeat_contacts"] == 1
    separate = client.post(URL, json=body(acc1, new_matter=True), headers=agent2)
    assert separate.status_code == 201 and separate.json["id"] != first["id"]
    other_kind = client.post(URL, json=body(acc1, kind="inquiry"), headers=agent2)
    assert other_kind.status_code == 201
    contact = client.post(f"{URL}/{first['id']}/contacts", json={"channel": "email"}, headers=agent2)
    assert contact.status_code == 200 and contact.json["repeat_contacts"] == 2
    history = client.get(f"{URL}/{first['id']}/history", headers=agent).json
    assert [c["repeat"] for c in history["contacts"]] == [False, True, True]


def test_repeat_contact_by_phone(
    client: FlaskClient, agent: H, known_account: Callable[..., str], acc1: str
) -> None:
    first = open_ticket(client, agent, acc1, phone="+86 138 0013 9999")
    branch = known_account(str(uuid.uuid4()), code="C-000009")
    again = client.post(URL, json=body(branch, phone="13800139999"), headers=agent)
    assert again.status_code == 200 and again.json["id"] == first["id"]


def test_major_matter_goes_to_the_general_manager_at_once(
    client: FlaskClient, agent: H, acc1: str, support_ctx: SupportContext
) -> None:
    ticket = open_ticket(client, agent, acc1, kind="inquiry", major=True)
    assert ticket["major"] is True
    [event] = outbox_events(support_ctx.bus, "support.ticket.escalated.v1")
    assert event["data"]["role"] == "group_gm" and event["data"]["level"] == 0
    assert event["data"]["reason"] == "major matter"
    open_ticket(client, agent, acc1, kind="major_fault")
    assert len(outbox_events(support_ctx.bus, "support.ticket.escalated.v1")) == 2


# -- lifecycle ----------------------------------------------------------------------------------


def test_full_lifecycle_with_history(
    client: FlaskClient, agent: H, supervisor: H, tech: H, acc1: str, support_ctx: SupportContext
) -> None:
    t = open_ticket(client, agent, acc1)
    steps = [
        (supervisor, "assign", {"assignee_id": "tech"}, "assigned"),
        (tech, "start", {}, "in_progress"),
        (tech, "wait", {}, "waiting_customer"),
        (tech, "resume", {}, "in_progress"),
        (tech, "resolve", {}, "resolved"),
        (supervisor, "close", {}, "closed"),
        (agent, "reopen", {}, "in_progress"),
        (tech, "resolve", {}, "resolved"),
    ]
    for headers, action, extra, status in steps:
        resp = act(client, headers, t["id"], action, note=f"{action} note", **extra)
        assert resp.status_code == 200, (action, resp.json)
        assert resp.json["status"] == status
    final = client.get(f"{URL}/{t['id']}", headers=agent).json
    assert final["assignee_id"] == "tech" and final["reopened"] == 1 and final["version"] == 9
    items = client.get(f"{URL}/{t['id']}/history", headers=agent).json["items"]
    assert [i["action"] for i in items] == ["open"] + [s[1] for s in steps]
    assert all(i["at"].endswith("+00:00") and i["actor"] for i in items)
    assert items[1]["actor"] == "supervisor" and items[1]["note"] == "assign note"
    assert (items[3]["from_status"], items[3]["to_status"]) == ("in_progress", "waiting_customer")
    changes = outbox_events(support_ctx.bus, "support.ticket.status_changed.v1")
    assert [(e["data"]["from_status"], e["data"]["to_status"]) for e in changes][:2] == [
        ("new", "assigned"),
        ("assigned", "in_progress"),
    ]
    assert changes[0]["data"]["by"] == "supervisor" and changes[0]["data"]["note"] == "assign note"
    [assigned] = outbox_events(support_ctx.bus, "support.ticket.assigned.v1")
    assert assigned["data"]["assignee_id"] == "tech" and assigned["data"]["queue"] == "technical"


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ([], "resume"),
        ([], "close"),
        ([], "reopen"),
        (["start"], "start"),
        (["resolve"], "wait"),
        (["resolve", "close"], "resolve"),
        (["resolve", "close"], "assign"),
        (["start", "wait"], "wait"),
    ],
)
def test_illegal_transitions_are_409(
    client: FlaskClient, supervisor: H, acc1: str, path: list[str], action: str
) -> None:
    t = open_ticket(client, supervisor, acc1)
    for step in path:
        assert act(client, supervisor, t["id"], step).status_code == 200
    resp = act(client, supervisor, t["id"], action, assignee_id="tech" if action == "assign" else None)
    assert resp.status_code == 409 and resp.content_type == "application/problem+json"
    assert resp.json["action"] == action


def test_transition_input_errors(client: FlaskClient, agent: H, acc1: str) -> None:
    t = open_ticket(client, agent, acc1)
    assert act(client, agent, t["id"], "fly").status_code == 422
    assert act(client, agent, t["id"], "resolve", note=None).status_code == 422
    assert act(client, agent, t["id"], "assign", note=None).status_code == 422  # no assignee
    assert act(client, agent, t["id"], "start", assignee_id="tech").status_code == 422
    assert act(client, agent, t["id"], "start", note="x" * 4001).status_code == 422


def test_hand_over_with_record(
    client: FlaskClient, agent: H, agent2: H, acc1: str, support_ctx: SupportContext
) -> None:
    t = open_ticket(client, agent, acc1)
    bad = client.post(f"{URL}/{t['id']}/hand-over", json={"to_id": "agent2"}, headers=agent)
    assert bad.status_code == 422
    resp = client.post(
        f"{URL}/{t['id']}/hand-over", json={"to_id": "agent2", "reason": "outside my remit"}, headers=agent
    )
    assert resp.status_code == 200 and resp.json["owner_id"] == "agent2"
    [event] = outbox_events(support_ctx.bus, "support.ticket.handed_over.v1")
    assert event["data"] == {
        **event["data"],
        "from_id": "agent",
        "to_id": "agent2",
        "reason": "outside my remit",
    }
    history = client.get(f"{URL}/{t['id']}/history", headers=agent2).json["items"]
    assert history[-1]["action"] == "hand_over" and history[-1]["data"] == {
        "from_id": "agent",
        "to_id": "agent2",
    }
    # The new owner's resolution is not one-stop: the matter changed hands.
    assert act(client, agent2, t["id"], "resolve").json["one_stop"] is False


def test_priority_change_retargets_the_sla(client: FlaskClient, agent: H, acc1: str) -> None:
    t = open_ticket(client, agent, acc1)
    before = {c["metric"]: c["target_minutes"] for c in t["sla"]}
    resp = client.put(f"{URL}/{t['id']}/priority", json={"priority": "urgent"}, headers=agent)
    after = {c["metric"]: c["target_minutes"] for c in resp.json["sla"]}
    assert before == {"first_response": 240, "resolution": 1620}
    assert after == {"first_response": 30, "resolution": 240}


# -- permissions per role and object ------------------------------------------------------------


def test_visibility_per_role(
    client: FlaskClient,
    agent: H,
    agent2: H,
    supervisor: H,
    tech: H,
    tech2: H,
    qa: H,
    rep1: H,
    rep2: H,
    manager: H,
    west_manager: H,
    admin: H,
    integration: H,
    opsmgr: H,
    ceo: H,
    acc1: str,
    acc_west: str,
) -> None:
    mine = open_ticket(client, agent, acc1, kind="inquiry")  # agent's own
    unassigned = open_ticket(client, agent2, acc_west, kind="inquiry")  # agent2's, unassigned
    assigned = open_ticket(client, agent2, acc_west, kind="installation")
    act(client, supervisor, assigned["id"], "assign", assignee_id="tech")
    quality = open_ticket(client, agent2, acc_west, repair_mode="factory")
    act(client, supervisor, quality["id"], "assign", assignee_id="agent2")
    done = open_ticket(client, agent2, acc_west, kind="suggestion", resolution="Thanks, noted.")

    def ids(headers: H) -> set[str]:
        return {t["id"] for t in client.get(URL, headers=headers).json["items"]}

    everything = {mine["id"], unassigned["id"], assigned["id"], quality["id"], done["id"]}
    for headers in (supervisor, admin, integration, opsmgr, ceo):
        assert ids(headers) == everything
    assert ids(agent) == {mine["id"], unassigned["id"]}  # own + unassigned active
    assert ids(agent2) == everything  # registered all but "mine", which is unassigned and active
    assert ids(tech) == {assigned["id"]} and ids(tech2) == set()
    assert ids(qa) == {quality["id"]}
    assert ids(rep1) == ids(manager) == {mine["id"]}
    assert ids(rep2) == set()
    assert ids(west_manager) == everything - {mine["id"]}
    for headers in (tech2, rep2, west_manager, qa):
        resp = client.get(f"{URL}/{mine['id']}", headers=headers)
        assert resp.status_code == 404 and "Harbour" not in resp.get_data(as_text=True)
    # May see but not do: 403; may not see: 404.
    assert act(client, rep1, mine["id"], "start").status_code == 403
    assert act(client, manager, mine["id"], "start").status_code == 403
    assert act(client, ceo, mine["id"], "start").status_code == 403
    assert act(client, tech2, assigned["id"], "start").status_code == 404
    assert act(client, agent, assigned["id"], "start").status_code == 404
    assert act(client, tech, assigned["id"], "start").status_code == 200
    # An agent may take an unassigned ticket but not give it to someone else.
    assert act(client, agent, unassigned["id"], "assign", assignee_id="tech").status_code == 403
    assert act(client, agent, unassigned["id"], "assign", assignee_id="agent").status_code == 200
    assert ids(agent) == {mine["id"], unassigned["id"]}
    # agent2 may work the unassigned ticket, but only its owner or a supervisor hands it over.
    assert (
        client.post(
            f"{URL}/{mine['id']}/hand-over", json={"to_id": "x", "reason": "r"}, headers=agent2
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"{URL}/{mine['id']}/hand-over", json={"to_id": "x", "reason": "r"}, headers=tech
        ).status_code
        == 404
    )
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=agent).status_code == 404


def test_keyset_pagination_walks_every_ticket_once(client: FlaskClient, agent: H, acc1: str) -> None:
    for i in range(7):
        open_ticket(client, agent, acc1, subject=f"Visit {i}", kind="installation", new_matter=True)
    for headers in (agent,):
        seen, cursor = [], None
        while True:
            page = client.get(
                f"{URL}?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=headers
            ).json
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == 7 and len(set(seen)) == 7
    filtered = client.get(f"{URL}?account_id={acc1}&kind=installation&active=true&status=new", headers=agent)
    assert len(filtered.json["items"]) == 7
