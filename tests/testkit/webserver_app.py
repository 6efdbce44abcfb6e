"""A tiny WSGI app for ``crm-web``'s own tests: answers its worker's pid, counts requests in
a multiprocess-aware counter and can be slow on demand (``/slow?SECONDS``)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("crm.webserver_app")


def create_app() -> Callable[..., Iterable[bytes]]:
    from prometheus_client import Counter

    from telemetry.http import metrics_payload

    hits = Counter("crm_webserver_test_hits", "Requests the test app answered (not /metrics)")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/metrics":
            body, content_type = metrics_payload()
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if path == "/slow":
            log.info("started %s", path)
            time.sleep(float(environ.get("QUERY_STRING") or "1"))
        hits.inc()
        log.info("served %s", path)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]

    return app


def broken_app() -> Callable[..., Iterable[bytes]]:
    """A factory that cannot build its app (a setting missing, say)."""
    raise RuntimeError("TEST_DATABASE_URL is not set")
