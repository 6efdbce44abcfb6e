"""The published event contracts: each producer registers the types it publishes with the
marshmallow schema of their ``data``, and from that one registry come

- the JSON Schema of each payload (``payload_schema``), which every CloudEvent names in its
  ``dataschema`` attribute (``schema_url``) and the gateway serves at that address;
- the AsyncAPI 3.0 document of a producer (``asyncapi_document``), which the gateway merges into
  one for the whole system (``GET /api/v1/asyncapi.json``).

A producer registers next to the code that builds the payload, in its ``events.py``::

    LEAD_REGISTERED = publishes(
        "leads.lead.registered.v1", LeadRegisteredData,
        summary="A lead was registered", subject="the lead id")

``publishes`` returns the type, so the constant keeps being what ``bus.emit`` is given. Fields
that are always present are ``required=True``; values that may be null are ``allow_none=True``.
The schemas describe what is sent, they are not consumers' schemas: consumers keep reading only
the fields they need and ignore the rest (``unknown = EXCLUDE``).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from .envelope import SPECVERSION, TYPE_PATTERN, schema_url
from .settings import DEFAULT_SCHEMA_BASE_URL

__all__ = ["DEFAULT_SCHEMA_BASE_URL", "JSON_SCHEMA_DIALECT", "EventContract", "asyncapi_document",
           "contract_for", "contracts", "merge_asyncapi", "payload_schema", "publishes", "schema_url",
           "standalone_schema"]

ASYNCAPI_VERSION = "3.0.0"
JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
CLOUDEVENTS_JSON = "application/cloudevents+json"
Doc = dict[str, Any]
SchemaClass = type[Schema]


@dataclass(frozen=True)
class EventContract:
    type: str
    schema: SchemaClass
    summary: str
    subject: str
    description: str = ""

    @property
    def producer(self) -> str:
        return self.type.split(".", 1)[0]


_REGISTRY: dict[str, EventContract] = {}
_LOCK = threading.Lock()


def publishes(type_: str, schema: SchemaClass, *, summary: str, subject: str,
              description: str = "") -> str:
    """Register ``type_`` as published with ``schema`` describing its ``data``; returns the type.
    Registering the same type twice with another schema is a programming error."""
    if not TYPE_PATTERN.match(type_):
        raise ValueError(f"event type {type_!r} must look like service.entity.fact.v1")
    contract = EventContract(type_, schema, summary, subject, description)
    with _LOCK:
        existing = _REGISTRY.get(type_)
        if existing is not None and existing.schema is not schema:
            raise ValueError(f"{type_} is already published with {existing.schema.__name__}")
        _REGISTRY[type_] = contract
    return type_


def contracts(producer: str | None = None) -> list[EventContract]:
    """Registered contracts (of one producer: the types starting with ``<producer>.``)."""
    with _LOCK:
        found = list(_REGISTRY.values())
    if producer is not None:
        found = [c for c in found if c.producer == producer]
    return sorted(found, key=lambda c: c.type)


def contract_for(type_: str) -> EventContract | None:
    with _LOCK:
        return _REGISTRY.get(type_)


def _inline(_schema: Any) -> Any:
    return None  # no component name: apispec inlines the nested schema


def _converter() -> Any:
    # OpenAPI 3.1 output is JSON Schema: a nullable field becomes "type": ["string", "null"].
    # Nested schemas are inlined (no resolver name), so every payload schema stands alone.
    plugin = MarshmallowPlugin(schema_name_resolver=_inline)
    APISpec("events", "v1", "3.1.0", plugins=[plugin])
    return plugin.converter


def payload_schema(contract: EventContract) -> Doc:
    """The JSON Schema (draft-07 vocabulary) of the contract's ``data``, without ``$id``."""
    instance: Schema = contract.schema()
    schema: Doc = _converter().schema2jsonschema(instance)
    schema = {"title": contract.type, "description": contract.summary, **schema}
    schema.setdefault("additionalProperties", True)  # payloads grow compatibly: ignore the unknown
    return schema


def standalone_schema(contract: EventContract, url: str) -> Doc:
    """``payload_schema`` as a document of its own, as served at its ``dataschema`` URL."""
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": url, **payload_schema(contract)}


def envelope_schema() -> Doc:
    """CloudEvents 1.0 structured-mode envelope with the CRM's extensions (docs/events.md)."""
    string = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "description": "CloudEvents 1.0 envelope (structured mode), with correlation and trace extensions",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"type": "string", "enum": [SPECVERSION]},
            "id": {"type": "string", "format": "uuid", "description": "Unique per event: dedupe on it"},
            "source": {**string, "description": "crm/<service>"},
            "type": {**string, "description": "The event type, also the routing key"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"type": "string", "enum": ["application/json"]},
            "dataschema": {"type": "string", "format": "uri",
                           "description": "Where the JSON Schema of data is served"},
            "subject": {**string, "description": "Id of the entity the event is about"},
            "correlationid": string,
            "causationid": {"type": "string", "description": "Id of the event that caused this one"},
            "traceparent": {"type": "string", "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},
            "data": {"type": "object"},
        },
        "additionalProperties": True,
    }


def asyncapi_document(items: list[EventContract], *, title: str, exchange: str = "crm.events",
                      description: str = "") -> Doc:
    """An AsyncAPI 3.0 document of ``items``: one channel per type (the routing key on the
    topic exchange), one ``send`` operation, one message whose payload is the CloudEvent with its
    ``data`` schema. Servers are left to whoever serves the document (the gateway)."""
    doc: Doc = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": "v1", "description": description},
        "defaultContentType": CLOUDEVENTS_JSON,
        "channels": {}, "operations": {},
        "components": {"schemas": {"CloudEvent": envelope_schema()}, "messages": {}},
    }
    for contract in items:
        name = contract.type
        doc["components"]["schemas"][name] = payload_schema(contract)
        doc["components"]["messages"][name] = {
            "name": name,
            "title": name,
            "summary": contract.summary,
            "description": (contract.description + "\n\n" if contract.description else "")
            + f"Subject: {contract.subject}.",
            "contentType": CLOUDEVENTS_JSON,
            "payload": {"allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {"type": "object", "properties": {
                    "type": {"type": "string", "enum": [name]},
                    "data": {"$ref": f"#/components/schemas/{name}"}}},
            ]},
            "bindings": {"amqp": {"messageType": name, "bindingVersion": "0.3.0"}},
        }
        doc["channels"][name] = {
            "address": name,
            "title": name,
            "description": f"Routing key {name} on the topic exchange {exchange}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True, "autoDelete": False,
                             "vhost": "/"},
                "bindingVersion": "0.3.0"}},
        }
        doc["operations"][f"publish.{name}"] = {
            "action": "send",
            "title": f"{contract.producer} publishes {name}",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
    return doc


def merge_asyncapi(docs: list[Doc], *, title: str, description: str = "") -> Doc:
    """One document from several producers' (channel, operation, message and schema names are
    event types, unique across producers; the envelope schema is the same in all)."""
    merged = asyncapi_document([], title=title, description=description)
    for doc in docs:
        for section in ("channels", "operations"):
            merged[section].update(copy.deepcopy(doc.get(section) or {}))
        for section in ("schemas", "messages"):
            entries = (doc.get("components") or {}).get(section) or {}
            merged["components"][section].update(copy.deepcopy(entries))
    for section in ("channels", "operations"):
        merged[section] = dict(sorted(merged[section].items()))
    return merged
