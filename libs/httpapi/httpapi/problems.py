"""RFC 9457 problem details for every error a client can see, and nothing else.

Validation failures carry ``errors`` keyed by location and field (webargs' shape); an
unexpected exception is logged with its trace and answered with a bare 500.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

log = logging.getLogger("httpapi.problems")
PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 1 << 20  # 1 MiB: no endpoint takes more; larger bodies get 413
# The ``type`` of a 422 from the request parser (the operation's schema and its validators, with
# ``errors`` per location and field). A 422 of another type was raised by a service's own rules
# (an account the service does not know, a step out of order…), after the request parsed.
VALIDATION_PROBLEM = "urn:crm:problem:validation"


class Problem(HTTPException):
    """Raise to answer with a problem document: ``raise Problem(409, "Lead already converted")``;
    ``headers`` go on the response (``Allow``, ``Retry-After``), other keywords into the body."""

    def __init__(self, status: int, title: str, detail: str | None = None,
                 type_: str | None = None, *, headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(description=detail)
        self.code = status
        self.title = title
        self.detail = detail
        self.type_ = type_
        self.headers = dict(headers or {})
        self.extensions = extensions


def problem_document(status: int, title: str, detail: str | None = None, type_: str | None = None,
                     instance: str | None = None, request_id: str | None = None,
                     **extensions: Any) -> dict[str, Any]:
    """The RFC 9457 body, for callers outside a Flask request (the gateway's WSGI fast path)."""
    body: dict[str, Any] = {"type": type_ or "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    return body


def problem_response(status: int, title: str, detail: str | None = None,
                     type_: str | None = None, headers: dict[str, str] | None = None,
                     **extensions: Any) -> Response:
    instance: str | None
    request_id: str | None
    try:
        instance, request_id = request.path, getattr(g, "request_id", None)
    except RuntimeError:  # outside a request
        instance = request_id = None
    body = problem_document(status, title, detail, type_, instance, request_id, **extensions)
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _from_http_exception(error: HTTPException) -> Response:
    if isinstance(error, Problem):
        return problem_response(error.code or 500, error.title, error.detail, error.type_,
                                headers=error.headers, **error.extensions)
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    extensions: dict[str, Any] = {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        extensions["errors"] = errors
    detail = data.get("message") or (error.description if status < 500 else None)
    type_ = None
    if status == 422 and errors:
        detail = "The request did not validate; see errors for each field."
        type_ = VALIDATION_PROBLEM
    headers = dict(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="crm"')
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem_response(status, error.name, detail, type_, headers=headers, **extensions)


def install_error_handlers(app: Flask) -> None:
    """Problem documents for every error, a body-size cap; ``install_problem_handlers`` (in
    ``hardening``) adds the checks for hostile input on top."""
    if not app.config.get("MAX_CONTENT_LENGTH"):
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.register_error_handler(HTTPException, _from_http_exception)

    @app.before_request
    def _limit_body() -> None:
        # Refuse by the declared length before any parser reads (and misreports) the body.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None:
            if request.content_length > limit:
                raise RequestEntityTooLarge(f"the body may be at most {limit} bytes")
        elif "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            # werkzeug would silently cut a chunked body at the limit; read it ourselves.
            data = request.environ["wsgi.input"].read(limit + 1)
            if len(data) > limit:
                raise RequestEntityTooLarge(f"the body may be at most {limit} bytes")
            # From here on it is an ordinary body of known length.
            request.environ["wsgi.input"] = io.BytesIO(data)
            request.environ["CONTENT_LENGTH"] = str(len(data))
            request.environ.pop("HTTP_TRANSFER_ENCODING", None)
            request.environ.pop("wsgi.input_terminated", None)
            request.__dict__.pop("content_length", None)  # drop werkzeug's cached value
            request.__dict__.pop("stream", None)

    app.register_error_handler(Exception, unexpected_error)


def unexpected_error(error: Exception) -> Response:
    """A bare 500 problem, the trace logged and never sent to the client."""
    if isinstance(error, HTTPException):
        return _from_http_exception(error)
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return _from_http_exception(InternalServerError())
