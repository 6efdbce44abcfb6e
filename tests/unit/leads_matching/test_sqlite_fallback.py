"""The embedded mode (SQLite) runs the same dedupe: migrations apply without pg_trgm, and
the sorted-neighbourhood candidates find exact and near company keys."""

from __future__ import annotations

from pathlib import Path

from leads.app import create_app
from leads.wiring import build
from testkit.issuer import TestIssuer


def test_dedupe_and_authorized_list_on_sqlite(tmp_path: Path) -> None:
    issuer = TestIssuer()
    ctx = build(f"sqlite:///{tmp_path}/leads.db", "memory://")
    client = create_app(ctx, verifier=issuer.verifier()).test_client()
    rep1 = issuer.headers("rep1", "sales_rep", team="east")
    rep2 = issuer.headers("rep2", "sales_rep", team="east")
    first = client.post("/api/v1/leads", headers=rep1, json={
        "name": "Zhang San", "company": "ACME Tech 有限公司", "phone": "13800138000",
        "source": "web_form"})
    assert first.status_code == 201
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep2, json={
        "name": "San Zhang", "company": "Acme Tech Co., Ltd.", "phone": "13900139000"})
    assert [(m["id"], m["rule"]) for m in resp.json["matches"]] == [
        (first.json["id"], "company_person_fuzzy")]
    visit = client.post("/api/v1/leads", headers=rep2, json={
        "name": "Zhang", "phone": "+86 138 0013 8000", "source": "walk_in"})
    assert visit.status_code == 200 and visit.json["visit_recorded"] is True
    items = client.get("/api/v1/leads/authorized?company=acme tech", headers=rep2).json["items"]
    assert [(i["owner_id"], i["kind"]) for i in items] == [("rep1", "lead")]
    ctx.bus.engine.dispose()
