"""``crm-backup`` / ``crm-restore`` on real data: a service with records, an outbox holding sent
and unsent events and an inbox of handled ones is backed up, restored into a scratch database,
and the copy has the same rows in every table and the same outbox/inbox state. PostgreSQL
(pg_dump custom format) and SQLite (the online backup API, embedded mode)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from accounts.app import create_app
from accounts.wiring import build
from crm_admin.backup import backup_main, restore_main, row_counts
from testkit.events import envelope, publish, running_worker, settled, wait_settled
from testkit.issuer import TestIssuer
from testkit.servers import create_database, drop_database


@pytest.fixture(params=["postgresql", "sqlite"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(source, scratch target)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/accounts.db", f"sqlite:///{tmp_path}/restored/accounts.db"
        return
    server = request.getfixturevalue("pg_server")
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    urls = [create_database(server, name) for name in names]
    yield urls[0], urls[1]
    for name in names:
        drop_database(server, name)


def state(url: str) -> dict[str, Any]:
    """Outbox and inbox as a relay and a consumer see them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            outbox = conn.execute(text("SELECT event_id, event_type, sent_at IS NULL AS unsent "
                                       "FROM event_outbox ORDER BY id")).all()
            inbox = conn.execute(text("SELECT consumer, event_id FROM event_inbox ORDER BY event_id")).all()
        return {"outbox": [tuple(r) for r in outbox], "inbox": [tuple(r) for r in inbox]}
    finally:
        engine.dispose()


def test_backup_and_restore_into_a_scratch_database(databases: tuple[str, str], tmp_path: Path,
                                                    issuer: TestIssuer) -> None:
    source, scratch = databases
    ctx = build(source, "memory://", migrate=True)
    client = create_app(ctx, verifier=issuer.verifier()).test_client()
    converted = envelope("leads.lead.converted.v1", {
        "lead_id": str(uuid.uuid4()), "code": "L-000042", "name": "Li Lei", "company": "Backup Co",
        "phone": "+8657188886666", "email": "li@backup.example", "source": "trade_show",
        "owner_id": "rep1", "owner_team": "east", "registered_at": "2026-11-20T08:00:00+00:00",
        "converted_at": "2026-11-23T09:30:00+00:00", "converted_by": "rep1", "contacts": []})
    with running_worker(ctx.bus):  # handled (inbox row) and its event published (sent outbox row)
        handled = settled(ctx.bus, "handled")  # the counters are per process, not per test
        publish(ctx.bus, converted)
        wait_settled(ctx.bus, "handled", handled + 1)
        ctx.bus.relay.drain()
    # An event committed while no worker runs: unsent, as a backup may well catch it.
    with ctx.bus.session_factory() as session, session.begin():
        ctx.bus.emit(session, "accounts.account.opened.v1", {"account_id": str(uuid.uuid4())})
    assert client.get("/readyz").status_code == 200
    before = state(source)
    assert any(unsent for *_, unsent in before["outbox"]) and not all(u for *_, u in before["outbox"])
    assert before["inbox"], "the handled event is in the inbox"
    counts = row_counts(source)

    out = tmp_path / "backups"
    assert backup_main(["--service", "accounts", "--source", f"accounts={source}", "--out", str(out)]) == 0
    [backup_dir] = list(out.iterdir())
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["services"][0]["rows"] == counts

    with pytest.raises(SystemExit):  # replacing a database's content needs --yes
        restore_main([str(backup_dir), "--target", f"accounts={scratch}"])
    assert restore_main([str(backup_dir), "--target", f"accounts={scratch}", "--yes"]) == 0
    assert row_counts(scratch) == counts
    assert state(scratch) == before
    # The copy is a working database for the service: its schema is current.
    restored = build(scratch, "memory://", migrate=False)
    assert restored.schema_problem() is None
    restored.bus.engine.dispose()
    ctx.bus.engine.dispose()

    # A corrupted backup is refused, not restored.
    dump = backup_dir / manifest["services"][0]["file"]
    dump.write_bytes(dump.read_bytes()[:-10] + b"0123456789")
    assert restore_main([str(backup_dir), "--target", f"accounts={scratch}", "--yes"]) == 1
