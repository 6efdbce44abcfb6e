"""The thin slice driven through the gateway over HTTP, shared by the distributed and the
embedded end-to-end tests: lead → converted → account opened → lead linked, support ticket
for the account, notification for the owner; and the permission walls along the way."""

from __future__ import annotations

import httpx

from eventbus.testing import wait_for

PASSWORD = "crm-demo"


def login(client: httpx.Client, username: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def run_slice(client: httpx.Client, timeout: float = 20.0) -> dict[str, str]:
    rep1, rep2, agent = login(client, "rep1"), login(client, "rep2"), login(client, "agent")

    assert client.get("/api/v1/leads").status_code == 401
    resp = client.post("/api/v1/leads", headers=rep1, json={
        "name": "Wang Wu", "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+86 571 8888 6666",
        "email": "Wang.Wu@Bamboo.example", "source": "trade_show"})
    assert resp.status_code == 201, resp.text
    lead = resp.json()
    assert resp.headers.get("X-Request-ID")

    # Another rep can neither read nor convert it, nor find it in a list.
    assert client.get(f"/api/v1/leads/{lead['id']}", headers=rep2).status_code == 404
    assert client.post(f"/api/v1/leads/{lead['id']}/convert", headers=rep2).status_code == 404

    resp = client.post(f"/api/v1/leads/{lead['id']}/convert", headers=rep1)
    assert resp.status_code == 202, resp.text

    def linked() -> str | None:
        return client.get(f"/api/v1/leads/{lead['id']}", headers=rep1).json().get("account_id")

    account_id = wait_for(linked, timeout, message="lead linked to its account")
    account = client.get(f"/api/v1/accounts/{account_id}", headers=rep1)
    assert account.status_code == 200 and account.json()["owner_id"] == "rep1"
    assert client.get(f"/api/v1/accounts/{account_id}", headers=rep2).status_code == 404

    def notified() -> list[dict]:
        items = client.get("/api/v1/notify/notifications", headers=rep1).json()["items"]
        return [n for n in items if n.get("subject_id") == account_id]

    note = wait_for(notified, timeout, message="owner notified")[0]
    assert lead["code"] in note["body"] and account.json()["code"] in note["body"]
    assert not [n for n in client.get("/api/v1/notify/notifications", headers=rep2).json()["items"]
                if n.get("subject_id") == account_id]

    unknown = client.post("/api/v1/support/tickets", headers=agent, json={
        "account_id": "00000000-0000-0000-0000-000000000000", "kind": "inquiry",
        "subject": "Where is my order?"})
    assert unknown.status_code == 422  # support refuses an account it does not know (yet) as a field error
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "account_id" in unknown.json()["errors"]["json"]

    def ticket() -> dict | None:
        resp = client.post("/api/v1/support/tickets", headers=agent, json={
            "account_id": account_id, "kind": "installation", "subject": "Install the new line"})
        return resp.json() if resp.status_code == 201 else None

    opened = wait_for(ticket, timeout, interval=0.2, message="ticket opened for the new account")
    assert opened["account_id"] == account_id
    return {"lead_id": lead["id"], "account_id": account_id, "ticket_id": opened["id"]}
