"""Hostile input answered with a 4xx problem, never a 500: the checks every app (the services and
the gateway) gets from ``install_problem_handlers``.

- JSON nested deeper than the parser can follow is a 400 (``RecursionError`` used to escape);
- a string holding a lone UTF-16 surrogate (``"\\ud800"``, valid JSON, not valid Unicode text) is
  a 422, before it reaches a database that cannot store it;
- a value the code cannot compute with (a date at the edge of the calendar, ``9999-12-31`` plus a
  day, ``0001-01-01T00:00:00+14:00`` in UTC) raises ``OverflowError``, answered 422;
- a body that is not JSON where JSON is expected is a 415;
- an over-long URI is a 414 and over-large headers a 431, as problem documents, below the WSGI
  server's own limits (whose refusals ``httpapi.serving`` also writes as problem documents);
- a routing redirect (a doubled slash, a missing trailing slash) is a 308 problem document with
  ``Location``, not werkzeug's HTML page.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask
from flask import Flask, Response, request
from flask.globals import request_ctx
from sqlalchemy.exc import StatementError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from .problems import PROBLEM_JSON, Problem, install_error_handlers, problem_response, unexpected_error

MAX_URI_BYTES = 8 * 1024  # below the servers' own request-line caps, so the app answers first
MAX_HEADER_BYTES = 32 * 1024  # all header names and values together
MAX_HEADER_COUNT = 90  # below granian's and waitress' own header limits (100)
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_json_mimetype(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def _surrogate_field(value: Any) -> str | None:
    """The path (``a.b.0``) of the first string or key holding a lone surrogate, if any.
    Iterative: the document may be as deep as the JSON parser allowed."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return path or "_schema"
        elif isinstance(node, dict):
            for key, item in node.items():
                sub = f"{path}.{key}" if path else str(key)
                if _SURROGATE.search(key):
                    return path or "_schema"
                stack.append((sub, item))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(node))
    return None


def parse_json_body(data: bytes | str) -> Any:
    """Parse a request body as JSON the way every endpoint must: 400 for something that is not
    JSON (or nested too deeply to parse), 422 for text that is not valid Unicode."""
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        parsed = json.loads(data)
    except RecursionError as exc:
        raise Problem(400, "Bad Request", "the JSON body is nested too deeply",
                      errors={"json": {"_schema": ["Nested too deeply."]}}) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "Bad Request", "the body is not valid JSON",
                      errors={"json": {"_schema": ["Invalid JSON body."]}}) from exc
    check_text(parsed)
    return parsed


def check_text(parsed: Any) -> None:
    field = _surrogate_field(parsed)
    if field is not None:
        raise Problem(422, "Unprocessable Content", "a string holds a lone surrogate, which is not text",
                      errors={"json": {field: ["Not valid Unicode text (lone surrogate)."]}})


class ApiRequest(flask.Request):
    """``request.get_json()`` with the same answers as the argument parser: 400 for a body that is
    not JSON or nested too deeply, 422 for a lone surrogate, and 415 for another content type."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            if silent:
                return None
            if self.content_length or self.headers.get("Transfer-Encoding"):
                raise Problem(415, "Unsupported Media Type", "send the body as application/json")
            raise Problem(422, "Unprocessable Content", "a JSON body is required",
                          errors={"json": {"_schema": ["Missing JSON body."]}})
        try:
            return parse_json_body(self.get_data(cache=cache))
        except Problem as exc:
            if silent and exc.code == 400:
                return None
            raise


def _header_bytes(environ: dict[str, Any]) -> tuple[int, int]:
    count = size = 0
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            count += 1
            size += len(key) + len(str(value))
    return count, size


def _uri_bytes(environ: dict[str, Any]) -> int:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return len(raw)
    return len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) + 1


_YEAR_OUT_OF_RANGE = re.compile(r"^year -?\d+ is out of range$")


def is_calendar_overflow(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it, e.g. inside a SQLAlchemy bind) is arithmetic that left
    the calendar: ``OverflowError``, or the ``ValueError`` datetime raises for year 10000."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OverflowError):
            return True
        if isinstance(current, ValueError) and _YEAR_OUT_OF_RANGE.match(str(current)):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def _resource_methods(app: Flask) -> frozenset[str] | None:
    """The methods of the most specific route for this path: the one werkzeug picks for OPTIONS,
    which every route answers. None when no route matches the path at all (a 404)."""
    try:
        # The adapter Flask already bound to this request (binding is a third of the cost).
        adapter = getattr(request_ctx, "url_adapter", None) or app.url_map.bind_to_environ(request.environ)
        rule, _ = adapter.match(method="OPTIONS", return_rule=True)
    except HTTPException:  # no route, or a redirect: answered elsewhere
        return None
    return frozenset(rule.methods or ())


def install_problem_handlers(app: Flask, *, check_methods: bool = True) -> None:
    """Problem documents for every error (``problems``) and the checks above, for any Flask app
    of the system (the services through ``create_service_app``, and the gateway). An app that
    authenticates every route passes ``check_methods=False`` and calls ``install_method_check``
    after its authentication, so a caller without credentials learns nothing about routes."""
    _install_hardening(app)
    install_error_handlers(app)
    if check_methods:
        install_method_check(app)


def _install_hardening(app: Flask) -> None:
    app.request_class = ApiRequest

    @app.before_request
    def _limits() -> Response | None:
        env = request.environ
        if _uri_bytes(env) > MAX_URI_BYTES:
            return problem_response(414, "URI Too Long",
                                    f"the request target may be at most {MAX_URI_BYTES} bytes")
        count, size = _header_bytes(env)
        if count > MAX_HEADER_COUNT or size > MAX_HEADER_BYTES:
            return problem_response(431, "Request Header Fields Too Large",
                                    f"at most {MAX_HEADER_COUNT} headers of {MAX_HEADER_BYTES} bytes in all")
        return None

    @app.errorhandler(OverflowError)
    @app.errorhandler(ValueError)
    @app.errorhandler(StatementError)
    def _overflow(error: Exception) -> Response:
        if not is_calendar_overflow(error):
            return unexpected_error(error)
        return problem_response(422, "Unprocessable Content",
                                "a value is out of the range this API can compute with "
                                "(e.g. a date at the very edge of the calendar)")

    @app.errorhandler(RecursionError)
    def _recursion(_error: RecursionError) -> Response:
        return problem_response(400, "Bad Request", "the input is nested too deeply")


def install_method_check(app: Flask) -> None:
    """405 with ``Allow`` from the most specific route, ``OPTIONS`` answered with the same, and
    routing redirects (308) as problem documents."""

    @app.before_request
    def _methods() -> Response | None:
        allowed = _resource_methods(app)
        if allowed is not None:
            rule = request.url_rule
            automatic = rule is None or getattr(rule, "provide_automatic_options", False)
            if request.method == "OPTIONS" and automatic:
                return Response(status=200, headers={"Allow": ", ".join(sorted(allowed))})
            if request.method not in allowed:
                # The most specific route names the resource: ``/leads/dedupe-check`` is not the
                # lead with id "dedupe-check", nor a path for the gateway's catch-all proxy, so
                # another method is a 405 with what it allows, not a 404 from a broader route.
                return problem_response(405, "Method Not Allowed",
                                        f"{request.path} allows {', '.join(sorted(allowed))}",
                                        headers={"Allow": ", ".join(sorted(allowed))})
        redirect = request.routing_exception
        if isinstance(redirect, RequestRedirect):
            # Flask hands routing redirects out as werkzeug's HTML page; answer them like any
            # other status, with the Location a client follows.
            return problem_response(redirect.code, "Permanent Redirect",
                                    f"this resource lives at {redirect.new_url}",
                                    headers={"Location": redirect.new_url})
        return None


__all__ = ["PROBLEM_JSON", "ApiRequest", "check_text", "install_method_check", "install_problem_handlers",
           "is_json_mimetype", "parse_json_body"]
