"""Each archive role can do exactly its part (README demo users), and every event the archive
publishes validates against its published schema (as an outside subscriber would check it)."""

from __future__ import annotations

import pytest

from testkit.events import outbox_events

pytestmark = pytest.mark.integration
URL = "/api/v1/accounts"
SCORES = {"financial_strength": 8, "credit_record": 8, "sales_volume": 7, "cooperation": 7,
          "growth_potential": 7}  # 75.00 → C


def test_each_role_does_exactly_its_part(client, issuer, admin):  # type: ignore[no-untyped-def]
    h = {
        "clerk": issuer.headers("clerk", "archive_clerk"),
        "svcclerk": issuer.headers("svcclerk", "service_clerk"),
        "rep": issuer.headers("rep1", "sales_rep", team="east"),
        "other_rep": issuer.headers("rep2", "sales_rep", team="east"),
        "reviewer": issuer.headers("reviewer", "review_group"),
        "ceo": issuer.headers("ceo", "group_gm"),
        "brand": issuer.headers("brand", "brand_dept"),
    }
    account = client.post(URL, json={"name": "Acme", "owner_id": "rep1", "owner_team": "east"},
                          headers=h["clerk"]).json
    url = f"{URL}/{account['id']}"
    edit = {"region": "east", "reason": "r"}

    def status(method: str, path: str, who: str, body: dict | None = None) -> int:  # type: ignore[type-arg]
        return getattr(client, method)(path, json=body, headers=h[who]).status_code

    # Direct edits: the archive clerk alone.
    assert status("patch", url, "clerk", edit) == 200
    for who in ("svcclerk", "rep", "reviewer", "ceo", "brand"):
        assert status("patch", url, who, edit) == 403, who
    # Change requests: anyone else with access; a rep only on their own accounts.
    for who in ("svcclerk", "rep", "ceo"):
        assert status("post", f"{url}/change-requests", who, edit) == 201, who
    assert status("post", f"{url}/change-requests", "other_rep", edit) == 404
    assert status("get", f"{URL}/change-requests", "svcclerk") == 403
    # The flow: clerk submits, review group grades, group GM decides.
    for who in ("rep", "reviewer", "ceo"):
        assert status("post", f"{url}/archive/submit", who, {}) == 403, who
    assert status("post", f"{url}/archive/submit", "clerk", {}) == 200
    for who in ("clerk", "ceo", "brand", "rep"):
        assert status("post", f"{url}/grades", who, {"scores": SCORES, "reason": "r"}) == 403, who
    assert status("post", f"{url}/grades", "reviewer", {"scores": SCORES, "reason": "r"}) == 201
    for who in ("clerk", "reviewer", "brand"):
        assert status("post", f"{url}/archive/approve", who, {}) == 403, who
    assert status("post", f"{url}/archive/approve", "ceo", {}) == 200
    # Reading: service roles, the review group, the GM and the brand department see every
    # account (the brand department lists C customers for its monthly upgrade plan).
    for who in ("svcclerk", "reviewer", "ceo", "brand"):
        assert status("get", url, who) == 200, who
    c_list = client.get(f"{URL}?grade=C", headers=h["brand"]).json["items"]
    assert [a["id"] for a in c_list] == [account["id"]]
    # Exports: managers (the GM, admins) only.
    assert status("get", f"{URL}/grade-summary", "ceo") == 200
    for who in ("clerk", "svcclerk", "rep", "reviewer", "brand"):
        assert status("get", f"{URL}/grade-summary", who) == 403, who


def test_every_archive_event_validates_against_its_published_schema(client, issuer, accounts_ctx):  # type: ignore[no-untyped-def]
    import jsonschema

    from eventbus.contracts import contract_for, payload_schema

    clerk, ceo = issuer.headers("clerk", "archive_clerk"), issuer.headers("ceo", "group_gm")
    reviewer = issuer.headers("reviewer", "review_group")
    a = client.post(URL, json={"name": "Acme", "owner_id": "rep1"}, headers=clerk).json
    b = client.post(URL, json={"name": "Beta", "owner_id": "rep1"}, headers=clerk).json
    client.patch(f"{URL}/{a['id']}", json={"annual_sales": "100.5", "valid_until": "2027-01-01",
                                           "contacts": [{"category": "primary", "name": "Li"}],
                                           "reason": "r"}, headers=clerk)
    for acc, approve in ((a, True), (b, False)):
        client.post(f"{URL}/{acc['id']}/archive/submit", json={}, headers=clerk)
        client.post(f"{URL}/{acc['id']}/grades", json={"scores": SCORES, "reason": "r"}, headers=reviewer)
        client.post(f"{URL}/{acc['id']}/archive/{'approve' if approve else 'reject'}",
                    json={"reason": "because"}, headers=ceo)
    client.post(f"{URL}/{a['id']}/status", json={"status": "lost", "reason": "r"}, headers=clerk)
    from accounts.points.service import award

    with accounts_ctx.bus.session_factory() as s, s.begin():
        from accounts.models import Account

        award(s, accounts_ctx.bus.emit, s.get(Account, a["id"]), 100, reason="manual",
              source_key="k", at=accounts_ctx.clock(), actor="clerk")
    types = ("accounts.account.updated.v1", "accounts.account.status_changed.v1",
             "accounts.account.graded.v1", "accounts.archive.approved.v1",
             "accounts.archive.rejected.v1", "accounts.points.awarded.v1",
             "accounts.account.opened.v1")
    for type_ in types:
        events = outbox_events(accounts_ctx.bus, type_)
        assert events, type_
        schema = payload_schema(contract_for(type_))  # type: ignore[arg-type]
        validator = jsonschema.Draft7Validator(schema)
        for event in events:
            errors = [e.message for e in validator.iter_errors(event["data"])]
            assert not errors, (type_, errors)
            assert set(event["data"]) <= set(schema["properties"]), type_
            if type_ != "accounts.account.opened.v1":
                assert {"account_id", "account_code", "account_name", "owner_id",
                        "owner_team"} <= set(event["data"]), type_


def test_support_read_model_takes_grade_and_status_from_archive_events(client, issuer,
                                                                        accounts_ctx):  # type: ignore[no-untyped-def]
    """Support keeps grade and status from the ``account`` snapshot these events carry (its
    AccountEventIn schema, as its consumer loads them)."""
    from support.readmodel.events import AccountEventIn

    clerk, reviewer = issuer.headers("clerk", "archive_clerk"), issuer.headers("reviewer", "review_group")
    a = client.post(URL, json={"name": "Acme", "owner_id": "rep1", "owner_team": "east"},
                    headers=clerk).json
    client.patch(f"{URL}/{a['id']}", json={"region": "Hangzhou", "contacts": [
        {"category": "primary", "name": "Li", "mobile": "13812345678"}], "reason": "r"}, headers=clerk)
    client.post(f"{URL}/{a['id']}/grades", json={"scores": SCORES, "reason": "r"}, headers=reviewer)
    client.post(f"{URL}/{a['id']}/status", json={"status": "inactive", "reason": "r"}, headers=clerk)
    [graded] = outbox_events(accounts_ctx.bus, "accounts.account.graded.v1")
    [changed] = outbox_events(accounts_ctx.bus, "accounts.account.status_changed.v1")
    g = AccountEventIn().load(graded["data"])["account"]
    assert (g["grade"], g["status"], g["city"], g["contact"]["mobile"]) == (
        "C", "active", "Hangzhou", "+8613812345678")
    s = AccountEventIn().load(changed["data"])["account"]
    assert (s["grade"], s["status"]) == ("C", "inactive") and s["version"] > g["version"]
