"""Major faults through the API: the report tells everyone at once, tracking, the analysis report."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from support.wiring import SupportContext
from testkit.events import outbox_events

from .helpers import URL, open_ticket

pytestmark = pytest.mark.integration
H = dict[str, str]
REPORT = {
    "occurred_at": "2026-03-02T01:30:00+00:00",
    "place": "Plant 2, line 3",
    "symptoms": "Main drive stopped, smoke from the cabinet",
    "plan": "Isolate power; send 2 technicians",
}
ANALYSIS = {
    "impact": "Line 3 down 6 h",
    "handling": "Replaced the inverter",
    "cause": "Cooling fan failed",
    "corrective_action": "New fan",
    "preventive_action": "Quarterly fan inspection",
}


@pytest.fixture
def acc(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()), contact={"name": "Sun", "mobile": "+8613600136000"})


def test_report_track_and_analyse(
    client: FlaskClient, agent: H, tech: H, supervisor: H, rep1: H, acc: str, support_ctx: SupportContext
) -> None:
    t = open_ticket(client, agent, acc, kind="repair", subject="Line 3 stopped")
    r = client.post(f"{URL}/{t['id']}/major-fault", json=REPORT, headers=agent)
    assert r.status_code == 201 and r.json["status"] == "open"
    fault = r.json
    [reported] = outbox_events(support_ctx.bus, "support.major_fault.reported.v1")
    data = reported["data"]
    assert data["account_owner_id"] == "rep1" and data["critical"] is True
    assert {"group_gm", "support_supervisor", "sales_manager"} <= set(data["roles"])
    assert data["place"] == "Plant 2, line 3" and data["occurred_at"] == "2026-03-02T01:30:00+00:00"
    assert client.get(f"{URL}/{t['id']}", headers=agent).json["major"] is True
    assert [e["data"]["role"] for e in outbox_events(support_ctx.bus, "support.ticket.escalated.v1")] == [
        "group_gm"
    ]
    assert client.post(f"{URL}/{t['id']}/major-fault", json=REPORT, headers=agent).status_code == 409
    u = client.post(
        f"/api/v1/support/major-faults/{fault['id']}/updates", json={"note": "power isolated"}, headers=agent
    )
    assert u.status_code == 201 and [x["note"] for x in u.json["updates"]] == ["power isolated"]
    assert (
        client.post(
            f"/api/v1/support/major-faults/{fault['id']}/analysis", json=ANALYSIS, headers=agent
        ).status_code
        == 403
    )
    a = client.post(f"/api/v1/support/major-faults/{fault['id']}/analysis", json=ANALYSIS, headers=supervisor)
    assert a.status_code == 200 and a.json["status"] == "analysed" and a.json["cause"] == "Cooling fan failed"
    [issued] = outbox_events(support_ctx.bus, "support.major_fault.analysis_issued.v1")
    assert issued["data"]["customer"]["mobile"] == "+8613600136000"
    assert issued["data"]["preventive_action"] == "Quarterly fan inspection"
    assert (
        client.post(
            f"/api/v1/support/major-faults/{fault['id']}/analysis", json=ANALYSIS, headers=supervisor
        ).status_code
        == 409
    )
    assert (
        client.post(
            f"/api/v1/support/major-faults/{fault['id']}/updates", json={"note": "late"}, headers=agent
        ).status_code
        == 409
    )
    # the rep of the account reads it; someone else's ticket stays hidden
    assert client.get(f"/api/v1/support/major-faults/{fault['id']}", headers=rep1).status_code == 200
    assert client.get(f"/api/v1/support/major-faults/{fault['id']}", headers=tech).status_code == 404
    listed = client.get("/api/v1/support/major-faults?status=analysed", headers=supervisor).json["items"]
    assert [f["id"] for f in listed] == [fault["id"]]


def test_report_validation(client: FlaskClient, agent: H, acc: str) -> None:
    t = open_ticket(client, agent, acc, kind="major_fault")
    bad = client.post(
        f"{URL}/{t['id']}/major-fault", json={**REPORT, "occurred_at": "2026-03-02T01:30:00"}, headers=agent
    )
    assert bad.status_code == 422
    future = client.post(
        f"{URL}/{t['id']}/major-fault", json={**REPORT, "occurred_at": "2026-04-01T00:00:00Z"}, headers=agent
    )
    assert future.status_code == 422 and "occurred_at" in future.json["errors"]["json"]
    assert (
        client.post(f"{URL}/{t['id']}/major-fault", json={**REPORT, "place": ""}, headers=agent).status_code
        == 422
    )
