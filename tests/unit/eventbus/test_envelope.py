"""The envelope is the contract with every consumer: what it accepts, rejects and inherits."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventbus import Envelope, MalformedEvent, TraceContext, new_event
from eventbus.envelope import (
    TRACEPARENT_PATTERN,
    TYPE_PATTERN,
    child_traceparent,
    context_from_event,
    current_context,
    event_lag,
    reset_context,
    set_context,
)

PARENT_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def valid_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "crm/leads",
        "type": "leads.lead.converted.v1",
        "time": "2024-05-01T10:00:00.000000Z",
        "data": {"lead_id": "L1"},
    }
    raw.update(overrides)
    return raw


def encode(raw: Any) -> bytes:
    return json.dumps(raw).encode()


# --- round trip ------------------------------------------------------------------------------

def test_round_trip_keeps_every_attribute_and_extension() -> None:
    env = Envelope(
        id=str(uuid.uuid4()), source="crm/leads", type="leads.lead.converted.v2",
        time="2024-05-01T10:00:00.000000Z", data={"lead_id": "L1", "nested": {"a": [1, 2]}, "name": "Zoë"},
        subject="L1", correlationid="corr", causationid="cause", traceparent=PARENT_TRACE,
        extensions={"tenant": "acme"},
    )
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env
    assert back.version == 2
    assert json.loads(env.to_json())["tenant"] == "acme"  # extensions are top-level attributes


def test_optional_attributes_are_omitted_not_null() -> None:
    env = Envelope(id=str(uuid.uuid4()), source="s", type="a.b.c.v1", time="t", data={})
    raw = json.loads(env.to_bytes())
    assert set(raw) == {"specversion", "id", "source", "type", "time", "datacontenttype", "data"}
    assert Envelope.from_dict(raw) == env


def test_decodes_str_and_defaults_content_type() -> None:
    raw = valid_raw()
    env = Envelope.from_bytes(json.dumps(raw))
    assert env.datacontenttype == "application/json"
    assert env.extensions == {}


# --- every way to be malformed ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json at all", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (encode([1, 2, 3]), "not a JSON object"),
        (encode("a string"), "not a JSON object"),
        (encode(None), "not a JSON object"),
    ],
    ids=["text", "invalid-utf8", "empty", "deeply-nested", "array", "string", "null"],
)
def test_undecodable_bodies(body: bytes, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        Envelope.from_bytes(body)


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time", "data"])
def test_each_required_attribute_is_required(attribute: str) -> None:
    raw = valid_raw()
    del raw[attribute]
    with pytest.raises(MalformedEvent, match=f"missing attributes: {attribute}"):
        Envelope.from_bytes(encode(raw))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"specversion": "0.3"}, "unsupported specversion"),
        ({"specversion": 1.0}, "unsupported specversion"),
        ({"type": "LeadConverted"}, "bad event type"),
        ({"type": "leads.lead.converted"}, "bad event type"),
        ({"type": "leads.lead.converted.v0"}, "bad event type"),
        ({"type": 42}, "bad event type"),
        ({"data": [1]}, "data is not a JSON object"),
        ({"data": None}, "data is not a JSON object"),
        ({"data": "x"}, "data is not a JSON object"),
        ({"id": "not-a-uuid"}, "id is not a UUID"),
        ({"id": 12345}, "id is not a UUID"),
        ({"id": None}, "id is not a UUID"),
        ({"source": None}, "source is not a non-empty string"),
        ({"source": ""}, "source is not a non-empty string"),
        ({"time": 1714557600}, "time is not a non-empty string"),
        ({"subject": 7}, "subject is not a string"),
        ({"correlationid": ["x"]}, "correlationid is not a string"),
        ({"traceparent": {}}, "traceparent is not a string"),
    ],
)
def test_invalid_attributes(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        Envelope.from_bytes(encode(valid_raw(**overrides)))


def test_malformed_is_a_value_error() -> None:
    """Callers that already catch ValueError keep working."""
    assert issubclass(MalformedEvent, ValueError)


# --- type pattern ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "event_type",
    ["leads.lead.converted.v1", "accounts.credit_limit.changed.v12", "a.b.c.v1", "s1.e_2.f3.v9"],
)
def test_type_pattern_accepts(event_type: str) -> None:
    assert TYPE_PATTERN.match(event_type)
    new_event(source="s", type=event_type, data={})


@pytest.mark.parametrize(
    "event_type",
    ["leads.lead.converted", "leads.lead.converted.v0", "leads.lead.converted.V1", "Leads.lead.converted.v1",
     "leads.lead.v1", "leads.lead.converted.extra.v1", "leads..converted.v1", "1leads.lead.converted.v1",
     "leads.lead.converted.v1 ", "leads.lead-x.converted.v1", ""],
)
def test_type_pattern_rejects(event_type: str) -> None:
    assert not TYPE_PATTERN.match(event_type)
    with pytest.raises(ValueError, match="must look like"):
        new_event(source="s", type=event_type, data={})


# --- trace context ---------------------------------------------------------------------------

def test_new_event_without_context_starts_a_correlation_and_a_trace() -> None:
    assert current_context() == TraceContext()
    env = new_event(source="crm/leads", type="leads.lead.created.v1", data={"x": 1}, subject="L1")
    uuid.UUID(env.id)
    assert env.correlationid == env.id
    assert env.causationid is None
    assert env.subject == "L1"
    assert env.source == "crm/leads"
    assert TRACEPARENT_PATTERN.match(env.traceparent or "")
    assert env.time.endswith("Z")


def test_event_emitted_while_handling_another_inherits_from_it() -> None:
    parent = new_event(source="crm/accounts", type="accounts.account.opened.v1", data={})
    parent = Envelope(**{**parent.__dict__, "correlationid": "corr-1", "traceparent": PARENT_TRACE})
    token = set_context(context_from_event(parent))
    try:
        child = new_event(source="crm/leads", type="leads.lead.linked.v1", data={})
    finally:
        reset_context(token)
    assert child.correlationid == "corr-1"  # the whole conversation shares one correlation id
    assert child.causationid == parent.id  # ...and names its direct cause
    parent_match = TRACEPARENT_PATTERN.match(PARENT_TRACE)
    child_match = TRACEPARENT_PATTERN.match(child.traceparent or "")
    assert parent_match and child_match
    assert child_match.group(1) == parent_match.group(1)  # same trace id
    assert child_match.group(2) != parent_match.group(2)  # a new span
    assert child_match.group(3) == parent_match.group(3)  # same flags
    assert current_context() == TraceContext()  # reset afterwards


def test_parent_without_correlation_id_becomes_the_correlation() -> None:
    parent = Envelope(id=str(uuid.uuid4()), source="s", type="a.b.c.v1", time="t", data={})
    ctx = context_from_event(parent)
    assert ctx == TraceContext(correlation_id=parent.id, causation_id=parent.id, traceparent=None)


def test_context_from_an_http_request() -> None:
    token = set_context(TraceContext(correlation_id="req-42", traceparent=PARENT_TRACE))
    try:
        env = new_event(source="crm/leads", type="leads.lead.created.v1", data={})
    finally:
        reset_context(token)
    assert env.correlationid == "req-42"
    assert env.causationid is None
    assert (env.traceparent or "").split("-")[1] == PARENT_TRACE.split("-")[1]


@pytest.mark.parametrize(
    "parent", [None, "", "garbage", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
def test_child_of_invalid_parent_starts_a_new_trace(parent: str | None) -> None:
    child = child_traceparent(parent)
    match = TRACEPARENT_PATTERN.match(child)
    assert match and match.group(3) == "01"
    assert child_traceparent(parent).split("-")[1] != child.split("-")[1]


def test_dataschema_is_kept_checked_and_omitted_when_absent() -> None:
    url = "http://gateway:8080/api/v1/asyncapi/schemas/leads.lead.converted.v1"
    env = Envelope.from_bytes(encode(valid_raw(dataschema=url)))
    assert env.dataschema == url and "dataschema" not in env.extensions
    assert Envelope.from_bytes(env.to_bytes()).to_dict()["dataschema"] == url
    assert "dataschema" not in Envelope.from_bytes(encode(valid_raw())).to_dict()
    with pytest.raises(MalformedEvent, match="dataschema"):
        Envelope.from_bytes(encode(valid_raw(dataschema=42)))


def test_a_service_bus_names_the_schema_of_every_event_it_emits() -> None:
    import dataclasses

    from sqlalchemy import MetaData, create_engine
    from sqlalchemy.pool import StaticPool

    from eventbus import BusSettings, ServiceBus

    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    settings = dataclasses.replace(BusSettings(), broker_url="memory://",
                                   dataschema_base_url="https://crm.example/api/v1/asyncapi/schemas/")
    metadata = MetaData()
    bus = ServiceBus(service="leads", engine=engine, metadata=metadata, settings=settings)
    metadata.create_all(engine)
    with bus.session_factory() as session:
        env = bus.emit(session, "leads.lead.converted.v1", {"lead_id": "L1"}, subject="L1")
    assert env.dataschema == "https://crm.example/api/v1/asyncapi/schemas/leads.lead.converted.v1"
    from_env = BusSettings.from_env({"EVENTS_DATASCHEMA_BASE_URL": "https://x/s"})
    assert from_env.dataschema_base_url == "https://x/s"
    assert BusSettings().dataschema_base_url.startswith("http://127.0.0.1:8080/")


def test_event_lag_is_seconds_since_the_events_time() -> None:
    env = new_event(source="crm/leads", type="leads.lead.converted.v1", data={})
    now = datetime.fromisoformat(env.time) + timedelta(seconds=2.5)
    assert event_lag(env, now) == pytest.approx(2.5)
    # a producer whose clock is ahead: no negative lag
    assert event_lag(env, now - timedelta(seconds=10)) == 0.0
    # a time another producer wrote without an offset, or not a time at all: unknown
    for odd in ("2026-12-01T08:00:00", "yesterday", ""):
        assert event_lag(dataclasses.replace(env, time=odd), now) is None
    offset = dataclasses.replace(env, time="2026-12-01T16:00:00+08:00")
    assert event_lag(offset, datetime(2026, 12, 1, 8, 0, 1, tzinfo=UTC)) == pytest.approx(1.0)
