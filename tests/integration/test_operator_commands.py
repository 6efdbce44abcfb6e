"""The operator commands as an operator runs them (the installed ``leads-worker`` entrypoint)
and their HTTP twins: ``migrate`` migrates or fails loudly, the read-only tools never migrate,
parked messages are discarded one by one or by a confirmed filter, and an unknown id is an
error (exit 3 / 404), never a quiet success."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect

from eventbus import OutgoingMessage, ServiceBus, new_event
from eventbus.broker import PARK_REASON_HEADER, PARKED_AT_HEADER
from leads.app import create_app
from leads.wiring import build
from testkit.issuer import TestIssuer

BIN = Path(sys.executable).parent


def leads_worker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "leads-worker"), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import os

    monkeypatch.delenv("DATABASE_URL", raising=False)
    return {**os.environ, "LEADS_DATABASE_URL": f"sqlite:///{tmp_path}/leads.db",
            "EVENTS_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_read_only_tools_never_migrate_and_migrate_fails_loudly(env: dict[str, str]) -> None:
    url = env["LEADS_DATABASE_URL"]
    done = leads_worker("outbox", env=env)
    assert done.returncode == 1 and done.stderr.startswith("error: outbox failed")
    assert "alembic_version" not in _tables(url)  # the read-only tool created nothing

    done = leads_worker("migrate", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["migrated"] is True and result["behind"] is False and result["from"] == []
    assert {"event_outbox", "event_inbox", "alembic_version"} <= _tables(url)
    again = json.loads(leads_worker("migrate", env=env).stdout)
    assert again["migrated"] is False and again["database"] == result["database"]
    assert json.loads(leads_worker("outbox", env=env).stdout)["unsent"] == 0


def test_migrate_without_a_database_setting_exits_non_zero(env: dict[str, str]) -> None:
    del env["LEADS_DATABASE_URL"]
    env.pop("CRM_DATA_DIR", None)
    done = leads_worker("migrate", env=env)
    assert done.returncode == 1
    assert "no database configured" in done.stderr and "LEADS_DATABASE_URL" in done.stderr


def test_migrate_of_an_unreachable_database_exits_non_zero(env: dict[str, str]) -> None:
    env["LEADS_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    done = leads_worker("migrate", env=env)
    assert done.returncode == 1 and "error:" in done.stderr and "Traceback" not in done.stderr


# --- parked messages ------------------------------------------------------------------------

@pytest.fixture
def amqp_env(env: dict[str, str], amqp_url: str, isolated_bus: str) -> dict[str, str]:
    import os

    return {**env, "EVENTS_BROKER_URL": amqp_url, "EVENTS_EXCHANGE": os.environ["EVENTS_EXCHANGE"],
            "EVENTS_QUEUE_PREFIX": os.environ["EVENTS_QUEUE_PREFIX"]}


@pytest.fixture
def bus(amqp_env: dict[str, str]) -> Iterator[ServiceBus]:
    ctx = build(amqp_env["LEADS_DATABASE_URL"], amqp_env["EVENTS_BROKER_URL"], migrate=True)
    ctx.bus.broker.declare(ctx.bus.topology)
    yield ctx.bus
    ctx.bus.broker.close()


def park(bus: ServiceBus, type_: str, parked_ago: timedelta = timedelta(0)) -> str:
    """A message in the parking queue exactly as the consumer leaves one there."""
    env = new_event(source="crm/test", type=type_, data={"n": 1})
    at = (datetime.now(UTC) - parked_ago).isoformat().replace("+00:00", "Z")
    headers = {PARK_REASON_HEADER: "rejected", PARKED_AT_HEADER: at}
    msg = OutgoingMessage(type_, env.to_bytes(), env.id, headers)
    bus.broker._publisher().publish(  # type: ignore[attr-defined]
        [(bus.topology.forward_exchange, bus.topology.parking_queue, msg)])
    return env.id


def parked_ids(bus: ServiceBus) -> set[str | None]:
    return {p.message_id for p in bus.list_parked()}


@pytest.mark.integration
def test_discard_one_parked_message_or_a_confirmed_filter(bus: ServiceBus, amqp_env: dict[str, str]) -> None:
    keep = park(bus, "accounts.account.opened.v1")
    gone = park(bus, "accounts.account.opened.v1")
    old = [park(bus, "support.ticket.opened.v1", parked_ago=timedelta(hours=3)) for _ in range(2)]
    recent = park(bus, "support.ticket.opened.v1")

    unknown = str(uuid.uuid4())
    for command in ("discard", "replay"):
        done = leads_worker(command, "--id", unknown, env=amqp_env)
        assert done.returncode == 3, (command, done.stdout, done.stderr)
        assert f"no parked message has the id {unknown}" in done.stderr

    done = leads_worker("discard", "--id", gone, env=amqp_env)
    assert done.returncode == 0 and json.loads(done.stdout) == {"discarded": 1}
    assert parked_ids(bus) == {keep, *old, recent}

    refused = leads_worker("discard", "--type", "support.ticket.opened.v1", env=amqp_env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert len(parked_ids(bus)) == 4  # nothing happened without the confirmation

    done = leads_worker("discard", "--type", "support.ticket.opened.v1", "--older-than", "1h", "--yes",
                        env=amqp_env)
    assert json.loads(done.stdout) == {"discarded": 2}
    assert parked_ids(bus) == {keep, recent}


@pytest.mark.integration
def test_discard_and_replay_through_the_operator_api(bus: ServiceBus, amqp_env: dict[str, str],
                                                     issuer: TestIssuer) -> None:
    ctx = build(amqp_env["LEADS_DATABASE_URL"], amqp_env["EVENTS_BROKER_URL"])
    client: FlaskClient = create_app(ctx, verifier=issuer.verifier()).test_client()
    admin = issuer.headers("ops", "admin")
    first, second = park(bus, "accounts.account.opened.v1"), park(bus, "accounts.account.opened.v1")

    def post(path: str, body: dict[str, Any], headers: dict[str, str] = admin) -> Any:
        return client.post(f"/ops/parked/{path}", json=body, headers=headers)

    assert post("discard", {"id": first}, issuer.headers("rep1", "sales_rep")).status_code == 403
    unknown = post("discard", {"id": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith("application/problem+json")
    assert post("replay", {"id": str(uuid.uuid4())}).status_code == 404
    assert post("discard", {"type": "accounts.account.opened.v1"}).status_code == 422  # not confirmed
    assert post("discard", {"id": first, "all": True}).status_code == 422
    assert post("discard", {"id": first, "bogus": 1}).status_code == 422

    assert post("discard", {"id": first}).get_json() == {"discarded": 1}
    assert parked_ids(bus) == {second}
    assert post("discard", {"all": True, "confirm": True}).get_json() == {"discarded": 1}
    assert parked_ids(bus) == set()
