"""The AsyncAPI document of the running system: valid AsyncAPI 3.0 (checked against the official
JSON Schema, vendored), complete (every event type of the catalogue), and true — the events the
system really emits validate, with a generic JSON Schema validator, against the schemas their
``dataschema`` attribute points at, fetched from the gateway like any subscriber would."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from testkit.catalogue import DOCS
from testkit.embedded import SERVICES, Embedded
from testkit.jsonformats import FORMATS
from testkit.slice import run_slice

ASYNCAPI_SCHEMA = Path(__file__).with_name("asyncapi-3.0.0.schema.json")
SCHEMAS = "/api/v1/asyncapi/schemas/"


def catalogue_types() -> set[str]:
    """The event types of the index table in docs/events.md."""
    index = (DOCS / "events.md").read_text(encoding="utf-8").split("## Transport")[0]
    return set(re.findall(r"^\| \[`([a-z_.0-9]+\.v\d+)`\]", index, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def asyncapi(crm: Embedded) -> dict[str, Any]:
    resp = httpx.get(f"{crm.url}/api/v1/asyncapi.json", timeout=10)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    return dict(resp.json())


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8")))


def test_the_document_is_valid_asyncapi_3(asyncapi: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in _validator().iter_errors(asyncapi)]
    assert not errors, "\n".join(errors[:20])
    assert asyncapi["asyncapi"] == "3.0.0" and asyncapi["x-unavailable-services"] == []
    assert asyncapi["servers"]["broker"]["protocol"] == "amqp"


def test_the_validator_would_catch_a_broken_document(asyncapi: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(asyncapi))
    operation = next(iter(broken["operations"].values()))
    operation["action"] = "publish"  # AsyncAPI 2 wording, not valid in 3
    del broken["info"]["version"]
    assert len(list(_validator().iter_errors(broken))) >= 2


def test_every_catalogue_type_is_a_channel_with_a_payload_schema(asyncapi: dict[str, Any]) -> None:
    types = catalogue_types()
    assert len(types) >= 18
    assert types <= set(asyncapi["channels"]), types - set(asyncapi["channels"])
    for type_ in types:
        channel = asyncapi["channels"][type_]
        assert channel["address"] == type_  # the routing key on the topic exchange
        assert channel["bindings"]["amqp"]["exchange"] == {
            "name": "crm.events", "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
        message = asyncapi["components"]["messages"][type_]
        assert message["contentType"] == "application/cloudevents+json"
        assert asyncapi["components"]["schemas"][type_]["type"] == "object"
        assert asyncapi["operations"][f"publish.{type_}"]["action"] == "send"


def test_each_type_schema_is_served_on_its_own(crm: Embedded) -> None:
    resp = httpx.get(f"{crm.url}{SCHEMAS}accounts.account.opened.v1", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/schema+json")
    schema = resp.json()
    assert schema["$id"] == f"{crm.url}{SCHEMAS}accounts.account.opened.v1"
    assert "account_id" in schema["required"] and schema["properties"]["version"]["type"] == "integer"
    jsonschema.Draft7Validator.check_schema(schema)
    missing = httpx.get(f"{crm.url}{SCHEMAS}accounts.account.exploded.v1", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def _emitted(data_dir: Path) -> list[dict[str, Any]]:
    """Every envelope the services wrote to their outboxes, as they went to the broker."""
    envelopes = []
    for service in SERVICES:
        with sqlite3.connect(data_dir / f"{service}.db") as db:
            envelopes += [json.loads(row[0]) for row in db.execute("SELECT envelope FROM event_outbox")]
    return envelopes


def test_emitted_events_carry_dataschema_and_validate_against_it(crm: Embedded) -> None:
    with httpx.Client(base_url=crm.url, timeout=20) as client:
        run_slice(client)  # registered, assigned, converted, opened, notification, ticket ...
    seen = validate_emitted(crm)
    assert {"leads.lead.registered.v1", "leads.lead.converted.v1", "accounts.account.opened.v1",
            "notify.notification.created.v1", "support.ticket.opened.v1"} <= seen, seen


def validate_emitted(crm: Embedded) -> set[str]:
    """Validate every event in the outboxes against the schema its ``dataschema`` names, fetched
    over HTTP; the types seen."""
    envelopes = _emitted(crm.data_dir)
    schemas: dict[str, dict[str, Any]] = {}
    for env in envelopes:
        url = env["dataschema"]
        assert url == f"{crm.url}{SCHEMAS}{env['type']}"
        if url not in schemas:  # what an outside subscriber does: fetch the schema it names
            resp = httpx.get(url, timeout=10)
            assert resp.status_code == 200, url
            schemas[url] = resp.json()
        validator = jsonschema.Draft7Validator(schemas[url], format_checker=FORMATS)
        errors = [e.message for e in validator.iter_errors(env["data"])]
        assert not errors, (env["type"], errors)
        # Published schemas list every field a producer sends: nothing undocumented slips out.
        assert set(env["data"]) <= set(schemas[url]["properties"]), env["type"]
    return {env["type"] for env in envelopes}
