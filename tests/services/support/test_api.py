"""Support tickets API against a real PostgreSQL database."""

from __future__ import annotations

import uuid

import pytest

from testkit.events import outbox_events

pytestmark = pytest.mark.integration
URL = "/api/v1/support/tickets"
UNKNOWN = {"json": {"account_id": ["Unknown account."]}}


def _ticket(account_id: str, **overrides):  # type: ignore[no-untyped-def]
    return {"account_id": account_id, "kind": "repair", "subject": "Line 3 compressor is noisy",
            **overrides}


@pytest.fixture
def acc1(known_account) -> str:  # type: ignore[no-untyped-def]
    return known_account(str(uuid.uuid4()), owner_id="rep1", owner_team="east", code="C-000001")


@pytest.fixture
def acc_west(known_account) -> str:  # type: ignore[no-untyped-def]
    return known_account(str(uuid.uuid4()), owner_id="rep9", owner_team="west", code="C-000002")


def test_agent_opens_ticket_and_event_is_recorded(client, agent, acc1, support_ctx):  # type: ignore[no-untyped-def]
    resp = client.post(URL, json=_ticket(acc1, description="Since Monday."), headers=agent)
    assert resp.status_code == 201, resp.json
    ticket = resp.json
    assert ticket["code"] == "T-000001" and ticket["status"] == "open"
    assert ticket["priority"] == "normal" and ticket["created_by"] == "agent"
    [event] = outbox_events(support_ctx.bus, "support.ticket.opened.v1")
    assert event["subject"] == ticket["id"] and event["source"] == "crm/support"
    assert event["data"] == {
        "ticket_id": ticket["id"], "code": "T-000001", "account_id": acc1, "kind": "repair",
        "subject": "Line 3 compressor is noisy", "priority": "normal", "created_by": "agent",
        "opened_at": event["data"]["opened_at"],
    }


def test_unknown_account_is_409_problem(client, agent, support_ctx):  # type: ignore[no-untyped-def]
    """A well-formed body naming an account support does not know (yet) conflicts with support's
    state (409, retry later), it is not invalid input (422): the schema cannot tell."""
    resp = client.post(URL, json=_ticket(str(uuid.uuid4())), headers=agent)
    assert resp.status_code == 409
    assert resp.content_type == "application/problem+json"
    assert resp.json["errors"] == UNKNOWN
    assert outbox_events(support_ctx.bus) == []


def test_rep_may_only_open_for_own_accounts_and_learns_nothing(client, rep1, rep2, acc1):  # type: ignore[no-untyped-def]
    assert client.post(URL, json=_ticket(acc1), headers=rep1).status_code == 201
    other = client.post(URL, json=_ticket(acc1), headers=rep2)
    unknown = client.post(URL, json=_ticket(str(uuid.uuid4())), headers=rep2)
    assert other.status_code == unknown.status_code == 409
    assert other.json["errors"] == unknown.json["errors"] == UNKNOWN


def test_manager_opens_for_team_accounts_only(client, manager, acc1, acc_west):  # type: ignore[no-untyped-def]
    assert client.post(URL, json=_ticket(acc1), headers=manager).status_code == 201
    resp = client.post(URL, json=_ticket(acc_west), headers=manager)
    assert resp.status_code == 409 and resp.json["errors"] == UNKNOWN


def test_validation_is_problem_json_with_fields(client, agent, acc1):  # type: ignore[no-untyped-def]
    resp = client.post(URL, json={"account_id": acc1, "kind": "refund", "subject": "",
                                  "priority": "asap", "extra": 1}, headers=agent)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert set(resp.json["errors"]["json"]) == {"kind", "subject", "priority", "extra"}
    resp = client.post(URL, json={}, headers=agent)
    assert set(resp.json["errors"]["json"]) == {"account_id", "kind", "subject"}
    assert client.get(f"{URL}?colour=red", headers=agent).status_code == 422
    assert client.get(f"{URL}?cursor=garbage", headers=agent).status_code == 422


def test_unauthenticated_is_401(client, acc1):  # type: ignore[no-untyped-def]
    resp = client.get(URL)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    assert client.post(URL, json=_ticket(acc1)).status_code == 401


def test_no_crm_role_is_403(client, nobody, acc1):  # type: ignore[no-untyped-def]
    assert client.post(URL, json=_ticket(acc1), headers=nobody).status_code == 403
    assert client.get(URL, headers=nobody).status_code == 403


def test_ticket_visibility_follows_the_account(client, agent, admin, integration, rep1, rep2,  # type: ignore[no-untyped-def]
                                               manager, west_manager, acc1, acc_west):
    east = client.post(URL, json=_ticket(acc1), headers=agent).json
    west = client.post(URL, json=_ticket(acc_west), headers=agent).json

    def ids(headers):  # type: ignore[no-untyped-def]
        return {t["id"] for t in client.get(URL, headers=headers).json["items"]}

    assert ids(rep1) == ids(manager) == {east["id"]}
    assert ids(rep2) == set()
    assert ids(west_manager) == {west["id"]}
    assert ids(agent) == ids(admin) == ids(integration) == {east["id"], west["id"]}
    assert client.get(f"{URL}/{east['id']}", headers=rep1).status_code == 200
    for headers in (rep2, west_manager):
        resp = client.get(f"{URL}/{east['id']}", headers=headers)
        assert resp.status_code == 404 and "compressor" not in resp.get_data(as_text=True)
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=agent).status_code == 404


def test_keyset_pagination_walks_every_ticket_once(client, agent, acc1):  # type: ignore[no-untyped-def]
    for i in range(7):
        client.post(URL, json=_ticket(acc1, subject=f"Visit {i}", kind="installation"), headers=agent)
    seen, cursor = [], None
    while True:
        body = client.get(f"{URL}?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=agent).json
        seen += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert len(client.get(f"{URL}?account_id={acc1}&kind=installation", headers=agent).json["items"]) == 7
