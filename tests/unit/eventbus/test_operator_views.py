"""What operators see of parked messages, and the generic ``crm-events`` tool."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from eventbus import new_event
from eventbus.broker import describe_parked, strip_failure_headers
from eventbus.cli import main as cli_main

EVENT = "leads.lead.converted.v1"


def test_parked_by_the_consumer() -> None:
    env = new_event(source="crm/leads", type=EVENT, data={})
    p = describe_parked(env.to_bytes(), {
        "x-retry-count": 3, "x-parked-reason": "retries-exhausted", "x-parked-error": "boom",
        "x-parked-at": "2024-01-01T00:00:00Z", "x-original-routing-key": EVENT,
    }, None, "crm.leads.parked")
    assert (p.message_id, p.event_type, p.routing_key) == (env.id, EVENT, EVENT)
    assert (p.reason, p.error, p.retries) == ("retries-exhausted", "boom", 3)
    assert p.parked_at == "2024-01-01T00:00:00Z"


def test_dead_lettered_by_the_delivery_limit() -> None:
    """The broker writes only x-death: key, time and reason must come from there."""
    env = new_event(source="crm/leads", type=EVENT, data={})
    headers = {
        "x-death": [{"count": 1, "reason": "delivery_limit", "queue": "crm.accounts",
                     "time": datetime(2024, 5, 1, 10, 0, 0), "exchange": "crm.events",
                     "routing-keys": [EVENT]}],
        "x-delivery-count": 3, "x-first-death-reason": "delivery_limit",
    }
    p = describe_parked(env.to_bytes(), headers, env.id, "crm.accounts.parked")
    assert p.reason == "delivery-limit"
    assert p.routing_key == EVENT  # not the parking queue's name
    assert p.parked_at == "2024-05-01T10:00:00Z"
    assert "crm.accounts" in (p.error or "")


def test_after_a_retry_the_first_death_has_the_published_key() -> None:
    env = new_event(source="crm/leads", type=EVENT, data={})
    headers = {"x-death": [
        {"reason": "delivery_limit", "queue": "crm.accounts", "routing-keys": ["crm.accounts"]},
        {"reason": "expired", "queue": "crm.accounts.retry.1000ms", "routing-keys": [EVENT]},
    ]}
    assert describe_parked(env.to_bytes(), headers, None, "x").routing_key == EVENT


def test_undecodable_parked_body() -> None:
    p = describe_parked(b"\xff\xfe not json", {"x-parked-reason": "malformed"}, "", "k")
    assert (p.message_id, p.event_type, p.reason, p.routing_key) == (None, None, "malformed", "k")
    assert p.body.endswith("not json")


def test_replay_strips_every_failure_mark_but_keeps_the_rest() -> None:
    headers = {
        "x-retry-count": 2, "x-parked-reason": "r", "x-parked-error": "e", "x-parked-at": "t",
        "x-death": [], "x-delivery-count": 4, "x-first-death-exchange": "x", "x-first-death-queue": "q",
        "x-first-death-reason": "r", "x-last-death-exchange": "x", "x-last-death-queue": "q",
        "x-last-death-reason": "r", "x-original-routing-key": EVENT, "tenant": "acme",
    }
    assert strip_failure_headers(headers) == {"x-original-routing-key": EVENT, "tenant": "acme"}


def test_crm_events_cli_reads_an_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The console script declared by the library used to point at a missing module."""
    monkeypatch.setenv("EVENTS_BROKER_URL", "memory://")
    monkeypatch.setenv("UNITSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    from sqlalchemy import MetaData, create_engine

    from eventbus.store import define_tables

    metadata = MetaData()
    define_tables(metadata)
    metadata.create_all(create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    assert cli_main(["--service", "unitsvc", "outbox"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unsent"] == 0
    assert cli_main(["--service", "unitsvc", "parked"]) == 0
    assert json.loads(capsys.readouterr().out) == []
