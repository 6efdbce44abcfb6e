"""Accounts API against a real PostgreSQL database."""

from __future__ import annotations

import pytest

from testkit.events import outbox_events

pytestmark = pytest.mark.integration
URL = "/api/v1/accounts"
ACCOUNT = {"name": "Li Si", "company": "Ningbo Harbour Trading", "phone": "0574 8765 4321",
           "email": "Li.Si@Harbour.Example", "owner_id": "rep1", "owner_team": "east"}


def _open(client, headers, **overrides):  # type: ignore[no-untyped-def]
    resp = client.post(URL, json={**ACCOUNT, **overrides}, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_open_directly_normalizes_audits_and_emits(client, admin, accounts_ctx):  # type: ignore[no-untyped-def]
    account = _open(client, admin, reason="signed at the trade fair")
    assert account["code"] == "C-000001" and account["status"] == "active"
    assert account["phone"] == "+8657487654321" and account["email"] == "Li.Si@harbour.example"
    assert account["source_lead_id"] is None and account["version"] == 1

    audit = client.get(f"{URL}/{account['id']}/audit", headers=admin).json["items"]
    assert [(a["action"], a["actor"], a["reason"]) for a in audit] == [
        ("opened", "admin", "signed at the trade fair")]
    assert audit[0]["changes"]["name"] == {"before": None, "after": "Li Si"}

    [event] = outbox_events(accounts_ctx.bus, "accounts.account.opened.v1")
    assert event["subject"] == account["id"] and event["source"] == "crm/accounts"
    data = event["data"]
    assert data["account_id"] == account["id"] and data["code"] == "C-000001"
    assert data["source_lead_id"] is None and data["source_lead_code"] is None
    assert data["opened_by"] == "admin" and data["version"] == 1 and data["owner_id"] == "rep1"


def test_reason_defaults_when_not_given(client, admin):  # type: ignore[no-untyped-def]
    account = _open(client, admin)
    audit = client.get(f"{URL}/{account['id']}/audit", headers=admin).json["items"]
    assert audit[0]["reason"] == "opened directly"


def test_validation_is_problem_json_with_fields(client, admin):  # type: ignore[no-untyped-def]
    resp = client.post(URL, json={"name": "", "email": "nope", "phone": "12", "extra": 1}, headers=admin)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    errors = resp.json["errors"]["json"]
    assert set(errors) >= {"name", "owner_id", "email", "extra"}
    resp = client.post(URL, json={**ACCOUNT, "phone": "not a phone"}, headers=admin)
    assert resp.status_code == 422 and "phone" in resp.json["errors"]["json"]


def test_unknown_query_fields_and_bad_cursor_are_refused(client, admin):  # type: ignore[no-untyped-def]
    assert client.get(f"{URL}?colour=red", headers=admin).status_code == 422
    assert client.get(f"{URL}?cursor=garbage", headers=admin).status_code == 422


def test_unauthenticated_is_401(client):  # type: ignore[no-untyped-def]
    resp = client.get(URL)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    assert client.post(URL, json=ACCOUNT).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401


def test_wrong_roles_are_403(client, rep1, agent, nobody):  # type: ignore[no-untyped-def]
    assert client.post(URL, json=ACCOUNT, headers=rep1).status_code == 403
    assert client.post(URL, json=ACCOUNT, headers=agent).status_code == 403
    assert client.get(URL, headers=nobody).status_code == 403


def test_manager_opens_within_team_only(client, manager):  # type: ignore[no-untyped-def]
    account = _open(client, manager, owner_team=None)
    assert account["owner_team"] == "east"
    assert client.post(URL, json={**ACCOUNT, "owner_team": "west"}, headers=manager).status_code == 403


def test_integration_may_open_for_anyone(client, integration):  # type: ignore[no-untyped-def]
    assert _open(client, integration, owner_team="west")["owner_team"] == "west"


def test_rep_never_sees_another_reps_account(client, admin, rep1, rep2):  # type: ignore[no-untyped-def]
    account = _open(client, admin)
    assert client.get(f"{URL}/{account['id']}", headers=rep1).status_code == 200
    for path in (f"{URL}/{account['id']}", f"{URL}/{account['id']}/audit"):
        resp = client.get(path, headers=rep2)
        assert resp.status_code == 404 and "Li Si" not in resp.get_data(as_text=True)
    assert client.get(URL, headers=rep2).json["items"] == []
    assert [a["id"] for a in client.get(URL, headers=rep1).json["items"]] == [account["id"]]


def test_unknown_id_is_404(client, admin):  # type: ignore[no-untyped-def]
    assert client.get(f"{URL}/00000000-0000-0000-0000-000000000000", headers=admin).status_code == 404


def test_visibility_by_role(client, admin, manager, west_manager, agent, integration):  # type: ignore[no-untyped-def]
    east = _open(client, admin)
    west = _open(client, admin, owner_id="rep9", owner_team="west", phone="13900139000")

    def ids(headers):  # type: ignore[no-untyped-def]
        return {a["id"] for a in client.get(URL, headers=headers).json["items"]}

    assert ids(manager) == {east["id"]}
    assert ids(west_manager) == {west["id"]}
    assert client.get(f"{URL}/{west['id']}", headers=manager).status_code == 404
    assert ids(agent) == ids(admin) == ids(integration) == {east["id"], west["id"]}
    assert client.get(f"{URL}/{west['id']}/audit", headers=agent).status_code == 200


def test_keyset_pagination_walks_every_account_once(client, admin, rep1):  # type: ignore[no-untyped-def]
    for i in range(7):
        _open(client, admin, phone=f"1380013800{i}")
    seen, cursor = [], None
    while True:
        body = client.get(f"{URL}?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=rep1).json
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    codes = [a["code"] for a in client.get(URL, headers=rep1).json["items"]]
    assert codes == sorted(codes, reverse=True)  # newest first
