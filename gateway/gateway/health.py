"""Liveness (the process answers) and readiness (every upstream says it is ready), so a load
balancer stops sending traffic the gateway could only answer with 503."""

from __future__ import annotations

from concurrent.futures import Executor, Future, wait
from typing import Any

import httpx
from flask import Blueprint, Response, jsonify

from httpapi import problem_response


def probe(client: httpx.Client, base_url: str, timeout: float) -> dict[str, Any]:
    try:
        resp = client.get(f"{base_url}/readyz", timeout=httpx.Timeout(timeout))
    except httpx.TimeoutException:
        return {"status": "timeout"}
    except httpx.HTTPError as exc:
        return {"status": "unreachable", "detail": type(exc).__name__}
    if resp.status_code == 200:
        return {"status": "ready"}
    return {"status": "not_ready", "http_status": resp.status_code}


def check_upstreams(client: httpx.Client, upstreams: dict[str, str], timeout: float,
                    executor: Executor) -> dict[str, dict[str, Any]]:
    """All probes at once, so readiness costs one timeout, not one per service."""
    futures: dict[str, Future[dict[str, Any]]] = {
        name: executor.submit(probe, client, url, timeout) for name, url in upstreams.items()}
    wait(futures.values(), timeout=timeout + 0.5)
    return {name: fut.result() if fut.done() else {"status": "timeout"}
            for name, fut in futures.items()}


def health_blueprint(client: httpx.Client, upstreams: dict[str, str], timeout: float,
                     executor: Executor) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service="gateway")

    @bp.get("/readyz")
    def readyz() -> Response:
        services = check_upstreams(client, upstreams, timeout, executor)
        down = sorted(name for name, state in services.items() if state["status"] != "ready")
        if down:
            return problem_response(503, "Service Unavailable", f"not ready: {', '.join(down)}",
                                    headers={"Retry-After": "5"}, service="gateway", services=services)
        return jsonify(status="ok", service="gateway", services=services)

    return bp
