"""One OpenAPI document from the services' documents, and the offline docs page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from gateway_fakes import FakeService

from gateway.config import GatewayConfig
from gateway.openapi import merge_documents, rewrite_refs


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.fixture
def two_up_one_down(base_config: GatewayConfig, closed_url: str,
                    make_service: Callable[[str], FakeService],
                    make_gateway: Callable[..., FlaskClient]) -> tuple[FlaskClient, dict[str, FakeService]]:
    services = {"leads": make_service("leads"), "accounts": make_service("accounts")}
    upstreams = {"leads": services["leads"].url, "accounts": services["accounts"].url, "support": closed_url}
    return make_gateway(base_config, upstreams=upstreams), services


def test_merged_document_has_every_reachable_service(
        two_up_one_down: tuple[FlaskClient, dict[str, FakeService]]) -> None:
    client, _ = two_up_one_down
    resp = client.get("/api/v1/openapi.json")  # public: no credentials
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ("/api/v1/leads", "/api/v1/leads/{item_id}", "/api/v1/accounts",
                 "/api/v1/accounts/{item_id}", "/api/v1/ops/leads/outbox", "/api/v1/ops/accounts/outbox"):
        assert path in paths, path
    assert not any(p.startswith("/ops/") for p in paths)
    assert "/api/v1/elsewhere" not in paths  # the gateway would not route it to that service
    assert doc["x-unavailable-services"] == ["support"]
    # The gateway's own paths.
    for path in ("/api/v1/auth/token", "/healthz", "/readyz", "/.well-known/jwks.json"):
        assert path in paths, path
    assert paths["/api/v1/auth/token"]["post"]["security"] == []
    assert paths["/api/v1/ops/leads/outbox"]["get"]["tags"] == ["leads-ops"]
    assert paths["/api/v1/leads"]["get"]["operationId"] == "leads.list"


def test_component_names_are_prefixed_and_every_ref_resolves(
        two_up_one_down: tuple[FlaskClient, dict[str, FakeService]]) -> None:
    client, _ = two_up_one_down
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert {"leads.Item", "accounts.Item", "leads.Page", "accounts.Page"} <= set(schemas)
    assert "Item" not in schemas
    assert "leads.DEFAULT_ERROR" in doc["components"]["responses"]
    assert schemas["accounts.Page"]["properties"]["items"]["items"]["$ref"] == \
        "#/components/schemas/accounts.Item"
    leads_get = doc["paths"]["/api/v1/leads"]["get"]["responses"]
    assert leads_get["200"]["content"]["application/json"]["schema"]["$ref"] == \
        "#/components/schemas/leads.Page"
    refs = list(_refs(doc))
    assert refs
    for ref in refs:
        _resolve(doc, ref)  # KeyError if a ref points nowhere
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "apiKey"}
    assert {"bearerAuth": []} in doc["security"] and {"apiKey": []} in doc["security"]


def test_document_is_cached(two_up_one_down: tuple[FlaskClient, dict[str, FakeService]]) -> None:
    client, services = two_up_one_down
    client.get("/api/v1/openapi.json")
    client.get("/api/v1/openapi.json")
    assert services["leads"].openapi_fetches == 1


def test_merge_rewrites_discriminator_mappings_and_escaped_names() -> None:
    node = {"oneOf": [{"$ref": "#/components/schemas/A~1B"}],
            "discriminator": {"mapping": {"a": "#/components/schemas/A~1B"}},
            "external": {"$ref": "other.yaml#/Thing"}}
    out = rewrite_refs(node, "leads")
    assert out["oneOf"][0]["$ref"] == "#/components/schemas/leads.A~1B"
    assert out["discriminator"]["mapping"]["a"] == "#/components/schemas/leads.A~1B"
    assert out["external"]["$ref"] == "other.yaml#/Thing"
    merged = merge_documents({}, ["leads"], {"leads": "http://l"})
    assert merged["x-unavailable-services"] == ["leads"]


def test_docs_page_and_assets_are_served_locally(base_config: GatewayConfig,
                                                 make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config)
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/v1/openapi.json" in html
    assert "/docs/static/swagger-ui-bundle.js" in html and "/docs/static/swagger-ui.css" in html
    assert "https://" not in html and "http://" not in html  # nothing from the internet
    assert "validatorUrl: null" in html
    js = client.get("/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and "javascript" in js.mimetype
    assert b"SwaggerUIBundle" in js.get_data()
    assert client.get("/docs/static/swagger-ui.css").status_code == 200
    assert client.get("/docs/static/../../__init__.py").status_code == 404
    assert client.get("/").headers["Location"].endswith("/docs")
