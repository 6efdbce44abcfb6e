"""The thin slice with real events between the four services, in one process: each service on
its own PostgreSQL database, joined by the in-process broker, driven through their APIs.

lead registered → converted → accounts opens the account → leads links it, notify tells the
owner, support learns the account → a ticket can be opened for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from eventbus.testing import wait_for
from testkit.events import running_worker
from testkit.servers import create_database, drop_database

pytestmark = pytest.mark.integration
SERVICES = ("leads", "accounts", "support", "notify")


@pytest.fixture
def system(pg_server: str, isolated_bus: str, issuer) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    import importlib

    tag = uuid.uuid4().hex[:8]
    names = {s: f"t_{tag}_{s}" for s in SERVICES}
    clients = {}
    with ExitStack() as stack:
        for service, name in names.items():
            stack.callback(drop_database, pg_server, name)
            ctx = importlib.import_module(f"{service}.wiring").build(
                create_database(pg_server, name), "memory://")
            stack.enter_context(running_worker(ctx.bus))
            app = importlib.import_module(f"{service}.app").create_app(ctx, verifier=issuer.verifier())
            clients[service] = app.test_client()
        yield clients


def test_conversion_flows_through_every_service(system, issuer) -> None:  # type: ignore[no-untyped-def]
    leads, accounts, support, notify = (system[s] for s in SERVICES)
    rep1 = issuer.headers("rep1", "sales_rep", team="east")
    rep2 = issuer.headers("rep2", "sales_rep", team="east")
    agent = issuer.headers("agent", "support_agent")

    lead = leads.post("/api/v1/leads", headers=rep1, json={
        "name": "Wang Wu", "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+86 571 8888 6666",
        "source": "trade_show"}).json
    assert leads.post(f"/api/v1/leads/{lead['id']}/convert", headers=rep1).status_code == 202

    account_id = wait_for(lambda: leads.get(f"/api/v1/leads/{lead['id']}", headers=rep1).json["account_id"],
                          message="lead linked to its account")
    account = accounts.get(f"/api/v1/accounts/{account_id}", headers=rep1).json
    assert account["source_lead_id"] == lead["id"] and account["owner_id"] == "rep1"
    assert account["name"] == "Hangzhou Bamboo Co., Ltd."
    assert accounts.get(f"/api/v1/accounts/{account_id}", headers=rep2).status_code == 404
    audit = accounts.get(f"/api/v1/accounts/{account_id}/audit", headers=rep1).json["items"]
    assert [(a["actor"], a["reason"]) for a in audit] == [("rep1", f"converted from lead {lead['code']}")]

    def notified() -> list[dict]:
        items = notify.get("/api/v1/notify/notifications", headers=rep1).json["items"]
        return [n for n in items if n["subject_id"] == account_id]

    [note] = wait_for(notified, message="owner notified")
    assert note["body"] == (f"Lead Wang Wu ({lead['code']}) became account "
                            f"Hangzhou Bamboo Co., Ltd. ({account['code']})")
    assert notify.get("/api/v1/notify/notifications", headers=rep2).json["items"] == []

    def ticket() -> dict | None:
        resp = support.post("/api/v1/support/tickets", headers=agent, json={
            "account_id": account_id, "kind": "installation", "subject": "Install the new line"})
        return resp.json if resp.status_code == 201 else None

    opened = wait_for(ticket, message="support knows the account")
    assert opened["account_id"] == account_id
    # The owner sees the ticket on their account; another rep does not.
    assert support.get(f"/api/v1/support/tickets/{opened['id']}", headers=rep1).status_code == 200
    assert support.get(f"/api/v1/support/tickets/{opened['id']}", headers=rep2).status_code == 404
