"""The shared HTTP layer (libs/httpapi) on a small app of its own: what every service inherits
for its contract — problem documents documented and answered, strict JSON types, the cursor
format, 405 for literal paths, and values that overflow the calendar."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.views import MethodView
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import fields
from sqlalchemy.exc import StatementError

from httpapi import Blueprint, PageQuerySchema, StrictSchema, install_problem_handlers
from httpapi.app import ProblemApi
from httpapi.hardening import is_calendar_overflow
from httpapi.openapi import finalize_openapi
from httpapi.paging import CURSOR_MAX, CURSOR_PATTERN, decode_cursor, encode_cursor

PROBLEM = "application/problem+json"


class ItemIn(StrictSchema):
    name = fields.String(required=True)
    active = fields.Boolean(load_default=True)
    count = fields.Integer(load_default=0)
    ratio = fields.Float(load_default=0.0)
    tags = fields.List(fields.String(), load_default=list)


class CursorOut(StrictSchema):
    cursor = fields.String(allow_none=True)


class StampOut(StrictSchema):
    at = fields.DateTime()
    later = fields.List(fields.DateTime())
    nested = fields.Nested(CursorOut)


class StampsOut(StrictSchema):
    items = fields.List(fields.Nested(StampOut))


class DayQuery(StrictSchema):
    day = fields.Date(required=True)


@pytest.fixture
def client() -> FlaskClient:
    app = Flask("sample")
    app.config.update(API_TITLE="Sample", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json")
    install_problem_handlers(app)
    api = ProblemApi(app)
    blp = Blueprint("items", __name__, url_prefix="/items")

    @blp.route("")
    class Items(MethodView):
        @blp.arguments(ItemIn)
        @blp.response(201)
        @blp.alt_response(409, description="A conflict")
        def post(self, body: dict[str, Any]) -> Any:
            return body

        @blp.arguments(PageQuerySchema, location="query")
        @blp.response(200, CursorOut)
        @blp.alt_response(200, description="As CSV", content_type="text/csv")
        def get(self, query: dict[str, Any]) -> Any:
            return {"cursor": query["cursor"]}

    @blp.route("/next-day")
    @blp.arguments(DayQuery, location="query")
    @blp.response(200)
    def next_day(query: dict[str, Any]) -> Any:
        return {"next": (query["day"] + timedelta(days=1)).isoformat()}

    @blp.route("/<item_id>")
    @blp.response(200)
    def one(item_id: str) -> Any:
        return {"id": item_id}

    @blp.route("/export", methods=["POST"])
    @blp.response(200)
    def export() -> Any:
        return {"year": date(10000, 1, 1).year}  # raises ValueError("year 10000 is out of range")

    @blp.route("/stamps")
    @blp.response(200, StampsOut)
    def stamps() -> Any:
        naive = datetime(2026, 11, 23, 9, 30)  # as SQLite returns a plain DateTime column
        aware = datetime(2026, 11, 23, 17, 30, tzinfo=timezone(timedelta(hours=8)))
        return {"items": [{"at": naive, "later": [naive, aware], "nested": {"cursor": "x"}},
                          {"at": aware, "later": []}]}

    @blp.route("/boom")
    @blp.response(200)
    def boom() -> Any:
        raise ValueError("an ordinary bug")

    api.register_blueprint(blp)
    return app.test_client()


def test_error_responses_are_documented_as_problem_documents(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    post = doc["paths"]["/items"]["post"]["responses"]
    assert list(post["409"]["content"]) == [PROBLEM]
    assert list(post["default"]["content"] if "content" in post["default"] else
                doc["components"]["responses"]["DEFAULT_ERROR"]["content"]) == [PROBLEM]
    for name, response in doc["components"]["responses"].items():
        if "content" in response:
            assert list(response["content"]) == [PROBLEM], name
    get = doc["paths"]["/items"]["get"]["responses"]["200"]["content"]
    assert set(get) == {"application/json", "text/csv"}  # the export is documented too
    cursor = next(p for p in doc["paths"]["/items"]["get"]["parameters"] if p["name"] == "cursor")
    assert cursor["schema"]["pattern"] == CURSOR_PATTERN and cursor["schema"]["maxLength"] == CURSOR_MAX


def test_finalize_adds_problem_content_and_default_everywhere() -> None:
    doc = {"paths": {"/x": {"get": {"responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
        "404": {"description": "missing"},
        "422": {"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/x"}}}}}}}}}
    out = finalize_openapi(doc)
    responses = out["paths"]["/x"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["application/json"]
    assert responses["404"]["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert responses["422"]["content"] == {PROBLEM: {"schema": {"$ref": "#/x"}}}
    assert PROBLEM in responses["default"]["content"]
    assert "Problem" in out["components"]["schemas"]
    assert "content" not in doc["paths"]["/x"]["get"]["responses"]["404"]  # the input is untouched


@pytest.mark.parametrize(("value", "field"), [
    ({"name": "x", "active": 0}, "active"), ({"name": "x", "active": "yes"}, "active"),
    ({"name": "x", "count": "5"}, "count"), ({"name": "x", "count": True}, "count"),
    ({"name": "x", "count": 1.5}, "count"), ({"name": "x", "ratio": "0.5"}, "ratio"),
    ({"name": 5}, "name"), ({"name": "x", "tags": ["a", 1]}, "tags"),
])
def test_json_values_of_the_wrong_type_are_422(client: FlaskClient, value: dict[str, Any],
                                               field: str) -> None:
    resp = client.post("/items", json=value)
    assert resp.status_code == 422 and resp.content_type == PROBLEM
    assert field in resp.get_json()["errors"]["json"]


def test_json_values_of_the_declared_type_pass(client: FlaskClient) -> None:
    resp = client.post("/items", json={"name": "x", "active": False, "count": 3.0, "ratio": 1, "tags": ["a"]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["count"] == 3


def test_deep_json_malformed_json_surrogates_and_other_media_types(client: FlaskClient) -> None:
    deep = client.post("/items", data="[" * 50_000 + "]" * 50_000, content_type="application/json")
    assert deep.status_code == 400 and deep.content_type == PROBLEM
    broken = client.post("/items", data='{"name": ', content_type="application/json")
    assert broken.status_code == 400 and broken.content_type == PROBLEM
    surrogate = client.post("/items", data='{"name": "a\\ud800"}', content_type="application/json")
    assert surrogate.status_code == 422
    assert surrogate.get_json()["errors"] == {"json": {"name": ["Not valid Unicode text (lone surrogate)."]}}
    in_list = client.post("/items", data='{"name": "a", "tags": ["ok", "\\udc00"]}',
                          content_type="application/json")
    assert in_list.get_json()["errors"] == {"json": {"tags.1": ["Not valid Unicode text (lone surrogate)."]}}
    form = client.post("/items", data="name=x", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.content_type == PROBLEM
    assert client.post("/items", data="name=x", content_type="text/plain").status_code == 415
    vendor_json = client.post("/items", data='{"name": "x"}', content_type="application/merge-patch+json")
    assert vendor_json.status_code == 201


def test_calendar_overflow_is_422_and_other_errors_stay_500(client: FlaskClient) -> None:
    edge = client.get("/items/next-day?day=9999-12-31")
    assert edge.status_code == 422 and edge.content_type == PROBLEM
    assert client.get("/items/next-day?day=2026-02-28").get_json() == {"next": "2026-03-01"}
    assert client.post("/items/export").status_code == 422
    bug = client.get("/items/boom")
    assert bug.status_code == 500 and bug.content_type == PROBLEM
    assert "ordinary bug" not in bug.get_data(as_text=True)


def test_calendar_overflow_is_recognised_through_database_errors() -> None:
    try:
        datetime(1, 1, 1, tzinfo=UTC) - timedelta(days=1)
    except OverflowError as exc:
        wrapped = StatementError("bind failed", "SELECT 1", {}, exc)
    assert is_calendar_overflow(wrapped)
    assert is_calendar_overflow(ValueError("year 10000 is out of range"))
    assert not is_calendar_overflow(ValueError("invalid literal for int()"))
    assert not is_calendar_overflow(StatementError("other", "SELECT 1", {}, KeyError("x")))


def test_literal_paths_answer_405_with_allow_not_the_variable_route(client: FlaskClient) -> None:
    resp = client.delete("/items/next-day")  # "/items/<item_id>" must not take it
    assert resp.status_code == 405 and resp.content_type == PROBLEM
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    get_literal_post = client.get("/items/export")  # only POST exists there
    assert get_literal_post.status_code == 405 and get_literal_post.headers["Allow"] == "OPTIONS, POST"
    options = client.options("/items/export")
    assert options.status_code == 200 and options.headers["Allow"] == "OPTIONS, POST"
    assert client.get("/items/42").get_json() == {"id": "42"}  # a real id still reaches its route
    assert client.put("/items").headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_cursor_round_trip_and_garbage(client: FlaskClient) -> None:
    at = datetime(2026, 11, 23, 9, 30, 1, 123456, tzinfo=UTC)
    cursor = encode_cursor(at, "0b6f7c1e-6f55-4f0e-9d1b-2a4f6d3c9e10")
    assert decode_cursor(cursor) == (at, "0b6f7c1e-6f55-4f0e-9d1b-2a4f6d3c9e10")
    assert client.get(f"/items?cursor={cursor}").status_code == 200
    for bad in ("garbage", "not a cursor!", "x" * (CURSOR_MAX + 1), "é" * 20):
        resp = client.get("/items", query_string={"cursor": bad})
        assert resp.status_code == 422, bad
        assert "cursor" in resp.get_json()["errors"]["query"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=11, max_size=CURSOR_MAX))
def test_every_cursor_of_the_declared_format_is_a_position(cursor: str) -> None:
    at, item_id = decode_cursor(cursor)
    assert at.tzinfo is not None and "\0" not in item_id
    item_id.encode("utf-8")  # storable text, whatever the bytes were


def test_server_settings_bound_every_request_by_default() -> None:
    from httpapi.serving import ServerSettings

    default = ServerSettings()
    assert default.request_timeout <= 30 and default.idle_timeout <= 30
    env = ServerSettings.from_env({"CRM_HTTP_REQUEST_TIMEOUT": "5", "CRM_HTTP_THREADS": "4"})
    assert (env.request_timeout, env.threads, env.idle_timeout) == (5.0, 4, default.idle_timeout)
    with pytest.raises(ValueError, match="CRM_HTTP_IDLE_TIMEOUT"):
        ServerSettings.from_env({"CRM_HTTP_IDLE_TIMEOUT": "0"})


def test_every_timestamp_is_written_with_an_offset(client: FlaskClient) -> None:
    items = client.get("/items/stamps").get_json()["items"]
    assert items[0]["at"] == "2026-11-23T09:30:00+00:00"  # naive: UTC by the project's rule
    assert items[0]["later"] == ["2026-11-23T09:30:00+00:00", "2026-11-23T17:30:00+08:00"]
    assert items[1]["at"] == "2026-11-23T17:30:00+08:00"  # aware: unchanged


def test_a_nullable_nested_schema_is_that_schema_or_null_not_any_object() -> None:
    from httpapi.openapi import finalize_openapi

    loose = {"anyOf": [{"$ref": "#/components/schemas/Consent"}, {"type": "object", "nullable": True}],
             "default": None}
    doc = finalize_openapi({"paths": {}, "components": {"schemas": {"R": {
        "type": "object", "properties": {"consent": loose, "other": {"anyOf": [{"type": "string"}]}}}}}})
    consent = doc["components"]["schemas"]["R"]["properties"]["consent"]
    assert consent == {"allOf": [{"$ref": "#/components/schemas/Consent"}], "nullable": True, "default": None}
    assert doc["components"]["schemas"]["R"]["properties"]["other"] == {"anyOf": [{"type": "string"}]}
