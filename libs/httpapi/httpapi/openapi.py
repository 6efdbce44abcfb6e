"""The OpenAPI document says what the API really answers: every error is an RFC 9457 problem
document (``application/problem+json``), on every operation of every service.

flask-smorest documents errors as ``application/json`` and leaves ``alt_response`` errors without
any content; ``finalize_openapi`` fixes both on a finished document, so services need not repeat
it on each route. The gateway runs the same function over the merged document.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from .problems import PROBLEM_JSON

Doc = dict[str, Any]
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_SCHEMA: Doc = {
    "type": "object",
    "description": "RFC 9457 problem details; more members may be present (e.g. `errors`, `service`)",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "object",
                   "description": "Validation errors by location (json, query, path) and field"},
    },
}
_NO_BODY = frozenset({"204", "304"})


def _is_error(status: str) -> bool:
    return status == "default" or (status[:1] in {"4", "5"})


def _problem_content(schema_ref: str, existing: Doc | None) -> Doc:
    """``content`` of an error response: its schema kept, under the problem media type."""
    schema: Doc = {"$ref": schema_ref}
    if existing:
        for media in existing.values():
            if isinstance(media, dict) and media.get("schema"):
                schema = media["schema"]
                break
    return {PROBLEM_JSON: {"schema": schema}}


def _fix_response(response: Doc, schema_ref: str) -> None:
    if "$ref" in response:
        return  # a component response, fixed where it is defined
    content = response.get("content")
    if content and set(content) == {PROBLEM_JSON}:
        return
    response["content"] = _problem_content(schema_ref, content)


def finalize_openapi(doc: Doc, problem_schema: str = PROBLEM_SCHEMA_NAME) -> Doc:
    """A copy of ``doc`` whose error responses (4xx, 5xx, ``default``), inline or components,
    are documented as ``application/problem+json`` with the problem schema."""
    doc = copy.deepcopy(doc)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(problem_schema, copy.deepcopy(PROBLEM_SCHEMA))
    ref = f"#/components/schemas/{problem_schema.replace('~', '~0').replace('/', '~1')}"
    for item in (doc.get("paths") or {}).values():
        for method, op in item.items():
            if method not in HTTP_METHODS or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            responses.setdefault("default", {"description": "An error: a problem document"})
            for status, response in responses.items():
                if _is_error(str(status)) and isinstance(response, dict):
                    _fix_response(response, ref)
    for name, response in (doc["components"].get("responses") or {}).items():
        if isinstance(response, dict) and name not in _NO_BODY and _is_component_error(name):
            _fix_response(response, ref)
    _tighten_nullable_refs(doc)
    return doc


_LOOSE_NULL = {"type": "object", "nullable": True}


def _tighten_nullable_refs(node: Any) -> None:
    """apispec writes a nullable nested schema as ``anyOf: [{$ref}, {type: object, nullable}]``,
    whose second branch admits *any* object (``{}`` without the nested required fields); state
    "this schema or null" instead, which is what the validator accepts."""
    if isinstance(node, dict):
        any_of = node.get("anyOf")
        if (isinstance(any_of, list) and len(any_of) == 2 and any_of[1] == _LOOSE_NULL
                and isinstance(any_of[0], dict) and "$ref" in any_of[0]):
            del node["anyOf"]
            node["allOf"] = [any_of[0]]
            node["nullable"] = True
        for value in node.values():
            _tighten_nullable_refs(value)
    elif isinstance(node, list):
        for value in node:
            _tighten_nullable_refs(value)


def _is_component_error(name: str) -> bool:
    """flask-smorest names component responses after the status (``NOT_FOUND``, ``DEFAULT_ERROR``)."""
    name = name.rsplit(".", 1)[-1]  # the gateway prefixes each service's components
    if name == "DEFAULT_ERROR":
        return True
    try:
        return HTTPStatus[name].value >= 400
    except KeyError:
        return False
