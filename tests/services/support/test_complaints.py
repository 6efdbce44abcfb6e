"""The nine-step complaint flow through the API (in order, 409 otherwise), sign-off and
approvals, grievances transferred after 3 days with accountability entries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from support.wiring import SupportContext
from testkit.events import outbox_events

from .conftest import FakeClock
from .helpers import URL, open_ticket

pytestmark = pytest.mark.integration
H = dict[str, str]


@pytest.fixture
def acc(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()), member=True)


def step(client: FlaskClient, headers: H, ticket_id: str, n: int, **data: Any) -> Any:
    return client.post(f"{URL}/{ticket_id}/complaint/steps", json={"step": n, **data}, headers=headers)


def test_the_full_flow_in_order(
    client: FlaskClient, agent: H, opsmgr: H, gm: H, ceo: H, acc: str, support_ctx: SupportContext
) -> None:
    t = open_ticket(client, agent, acc, kind="complaint", subject="Wrong colour delivered")
    assert step(client, agent, t["id"], 2, problem_found=True).status_code == 409  # ② before ①
    r = step(client, agent, t["id"], 1, material="Photos of the door panels", attachments=["p1.jpg"])
    assert r.status_code == 200 and r.json["step"] == 1 and r.json["next_steps"] == [2]
    assert client.get(f"{URL}/{t['id']}", headers=agent).json["status"] == "in_progress"
    assert step(client, agent, t["id"], 1, material="again").status_code == 409
    assert step(client, agent, t["id"], 2, problem_found=True).status_code == 200
    assert step(client, agent, t["id"], 3, category="quality").status_code == 200
    assert step(client, agent, t["id"], 5, opinion="fine").status_code == 409  # ⑤ before ④
    r = step(
        client,
        agent,
        t["id"],
        4,
        plan="Replace 4 panels",
        departments=["quality", "technical"],
        compensation="20000.00",
    )
    assert r.status_code == 200 and r.json["compensation"] == "20000.00"
    assert step(client, agent, t["id"], 5, opinion="agreed").status_code == 403  # not the signer
    r = step(client, opsmgr, t["id"], 5, opinion="Talked to Mr Wang; replace and apologise")
    assert r.status_code == 200 and r.json["approvals_missing"] == ["sales_gm", "group_gm"]
    assert step(client, agent, t["id"], 6, satisfied=True).status_code == 409  # approvals missing
    assert (
        client.post(
            f"{URL}/{t['id']}/complaint/approvals", json={"approved": True}, headers=agent
        ).status_code
        == 403
    )
    r = client.post(f"{URL}/{t['id']}/complaint/approvals", json={"approved": True}, headers=gm)
    assert r.status_code == 200 and r.json["approvals_missing"] == ["group_gm"]
    assert (
        client.post(f"{URL}/{t['id']}/complaint/approvals", json={"approved": True}, headers=gm).status_code
        == 403
    )  # already approved by that role
    assert (
        client.post(f"{URL}/{t['id']}/complaint/approvals", json={"approved": True}, headers=ceo).json[
            "approvals_missing"
        ]
        == []
    )
    r = step(client, agent, t["id"], 6, satisfied=True)
    assert r.status_code == 200 and r.json["next_steps"] == [8]
    assert step(client, agent, t["id"], 7, note="sue").status_code == 409
    r = step(client, agent, t["id"], 8, note="Panels replaced on site")
    assert r.status_code == 200 and r.json["step"] == 9 and r.json["counted_month"] == "2026-03"
    assert r.json["next_steps"] == [] and [s["step"] for s in r.json["steps"]] == [1, 2, 3, 4, 5, 6, 8, 9]
    assert client.get(f"{URL}/{t['id']}", headers=agent).json["status"] == "resolved"
    events = outbox_events(support_ctx.bus, "support.complaint.step_completed.v1")
    assert [e["data"]["step"] for e in events] == [1, 2, 3, 4, 5, 6, 8, 9]
    assert events[1]["data"]["outcome"] == "problem_found" and events[7]["data"]["by"] == "system"
    assert len(outbox_events(support_ctx.bus, "support.return_visit.due.v1")) == 1


def test_no_problem_closes_with_the_explanation(client: FlaskClient, agent: H, acc: str) -> None:
    t = open_ticket(client, agent, acc, kind="complaint")
    step(client, agent, t["id"], 1, material="call notes")
    r = step(client, agent, t["id"], 2, problem_found=False)
    assert r.status_code == 422 and "note" in r.json["errors"]["json"]
    r = step(client, agent, t["id"], 2, problem_found=False, note="Within tolerance; explained.")
    assert r.status_code == 200 and r.json["step"] == 9 and r.json["next_steps"] == []
    ticket = client.get(f"{URL}/{t['id']}", headers=agent).json
    assert ticket["status"] == "closed"
    assert step(client, agent, t["id"], 3, category="quality").status_code == 409


def test_not_satisfied_goes_to_litigation(
    client: FlaskClient, supervisor: H, opsmgr: H, gm: H, acc: str
) -> None:
    t = open_ticket(client, supervisor, acc, kind="dispute")
    for n, data in [
        (1, {"material": "m"}),
        (2, {"problem_found": True}),
        (3, {"category": "non_quality"}),
        (4, {"plan": "refund half"}),
    ]:
        assert step(client, supervisor, t["id"], n, **data).status_code == 200
    step(client, opsmgr, t["id"], 5, opinion="ok")
    client.post(f"{URL}/{t['id']}/complaint/approvals", json={"approved": True}, headers=gm)
    assert step(client, supervisor, t["id"], 6, satisfied=False).json["next_steps"] == [7]
    assert step(client, supervisor, t["id"], 8, note="x").status_code == 409
    r = step(client, supervisor, t["id"], 7, note="Case filed at the district court")
    assert r.status_code == 200 and r.json["litigation"] is True and r.json["step"] == 9


def test_rejected_approval_returns_to_the_plan(
    client: FlaskClient, supervisor: H, opsmgr: H, gm: H, acc: str
) -> None:
    t = open_ticket(client, supervisor, acc, kind="complaint")
    for n, data in [
        (1, {"material": "m"}),
        (2, {"problem_found": True}),
        (3, {"category": "quality"}),
        (4, {"plan": "p"}),
    ]:
        step(client, supervisor, t["id"], n, **data)
    step(client, opsmgr, t["id"], 5, opinion="ok")
    r = client.post(
        f"{URL}/{t['id']}/complaint/approvals", json={"approved": False, "note": "too much"}, headers=gm
    )
    assert r.json["step"] == 3 and r.json["next_steps"] == [4]
    assert step(client, supervisor, t["id"], 4, plan="cheaper plan").status_code == 200
    step(client, opsmgr, t["id"], 5, opinion="ok again")
    assert client.get(f"{URL}/{t['id']}/complaint", headers=supervisor).json["approvals_missing"] == [
        "sales_gm"
    ]


def test_step_input_and_kind_errors(client: FlaskClient, agent: H, acc: str) -> None:
    t = open_ticket(client, agent, acc, kind="complaint")
    assert step(client, agent, t["id"], 1).status_code == 422  # no material
    assert step(client, agent, t["id"], 9).status_code == 422  # ⑨ is automatic
    assert step(client, agent, t["id"], 1, material="m", colour="red").status_code == 422
    assert step(client, agent, t["id"], 1, material="m", compensation="5.00").status_code == 422
    inquiry = open_ticket(client, agent, acc, kind="inquiry")
    assert step(client, agent, inquiry["id"], 1, material="m").status_code == 409


def test_grievance_transferred_after_three_days(
    client: FlaskClient,
    agent: H,
    supervisor: H,
    acc: str,
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    t = open_ticket(client, agent, acc, kind="complaint")
    clock.advance(days=2, hours=23)
    timers()
    assert outbox_events(support_ctx.bus, "support.grievance.transferred.v1") == []
    clock.advance(hours=1)
    timers()
    timers()
    [event] = outbox_events(support_ctx.bus, "support.grievance.transferred.v1")
    assert event["data"]["from_department"] == "complaint_desk"
    assert event["data"]["to_department"] != "complaint_desk" and event["data"]["role"] == "sales_manager"
    ticket = client.get(f"{URL}/{t['id']}", headers=supervisor).json
    assert ticket["queue"] == event["data"]["to_department"] and ticket["assignee_id"] is None
    entries = client.get(f"{URL}/{t['id']}/accountability", headers=supervisor).json["items"]
    assert [(e["person_id"], e["person_role"], e["amount"]) for e in entries] == [
        ("agent", "employee", "500.00"),
        (None, "manager", "500.00"),
    ]


def test_accountability_entries_use_policy_amounts(
    client: FlaskClient, agent: H, opsmgr: H, admin: H, acc: str
) -> None:
    t = open_ticket(client, agent, acc, kind="complaint")
    url = f"{URL}/{t['id']}/accountability"
    assert (
        client.post(url, json={"rule": "grievance_found", "employee_id": "agent"}, headers=agent).status_code
        == 403
    )
    r = client.post(url, json={"rule": "grievance_found", "employee_id": "agent"}, headers=opsmgr)
    assert r.status_code == 201 and [e["amount"] for e in r.json["items"]] == ["100.00"]
    client.put(
        "/api/v1/support/policy",
        headers=admin,
        json={"penalty_executive_complaint": "150.00", "reason": "2027 rules"},
    )
    r = client.post(
        url,
        json={"rule": "executive_complaint", "employee_id": "agent", "manager_id": "manager"},
        headers=opsmgr,
    )
    assert [(e["person_role"], e["amount"]) for e in r.json["items"]] == [
        ("employee", "150.00"),
        ("manager", "150.00"),
    ]
    assert (
        client.post(url, json={"rule": "fine_everyone", "employee_id": "x"}, headers=opsmgr).status_code
        == 422
    )
