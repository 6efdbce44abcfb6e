"""Bad input made by hand, sent to the real embedded system over real sockets: each used to be a
500, an HTML page or a connection held open; each is now a 4xx problem document (or a closed
connection), through the gateway and straight at a service alike."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from contract.conftest import REQUEST_TIMEOUT
from testkit.embedded import Embedded

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def admin(crm: Embedded) -> dict[str, str]:
    return {"Authorization": f"Bearer {crm.token('admin')}"}


@pytest.fixture(scope="module")
def http(crm: Embedded) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=crm.url, timeout=20) as client:
        yield client


def _targets(crm: Embedded) -> list[str]:
    """The gateway, and the accounts service behind it (the same shared layer answers)."""
    return [crm.url, crm.service_urls["accounts"]]


def _problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers
    body = resp.json()
    assert body["status"] == status
    return body


def test_json_nested_100000_deep_is_400(crm: Embedded, admin: dict[str, str]) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for base in _targets(crm):
        resp = httpx.post(f"{base}/api/v1/accounts", content=deep, timeout=20,
                          headers={**admin, "Content-Type": "application/json"})
        assert "nested too deeply" in _problem(resp, 400)["detail"]


def test_lone_surrogate_in_a_string_is_422_naming_the_field(crm: Embedded, admin: dict[str, str]) -> None:
    body = '{"name": "Bamboo \\ud800 Co.", "owner_id": "rep1"}'  # valid JSON, not valid text
    for base in _targets(crm):
        resp = httpx.post(f"{base}/api/v1/accounts", content=body, timeout=20,
                          headers={**admin, "Content-Type": "application/json"})
        errors = _problem(resp, 422)["errors"]
        assert errors == {"json": {"name": ["Not valid Unicode text (lone surrogate)."]}}
    nested = '{"name": "x", "owner_id": "rep1", "reason": "ok", "\\udfff": 1}'
    resp = httpx.post(f"{crm.url}/api/v1/accounts", content=nested, timeout=20,
                      headers={**admin, "Content-Type": "application/json"})
    _problem(resp, 422)


@pytest.mark.parametrize("query", [
    "period=week&date=9999-12-31", "period=month&date=9999-12-31", "period=week&date=0001-01-01",
])
def test_dates_at_the_edge_of_the_calendar_in_a_query_are_422(
        http: httpx.Client, admin: dict[str, str], query: str) -> None:
    resp = http.get(f"/api/v1/leads/stats/funnel?{query}", headers=admin)
    assert resp.status_code in {200, 422}, resp.text  # never a 500
    if resp.status_code == 422:
        _problem(resp, 422)


@pytest.mark.parametrize("next_date", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_datetimes_that_overflow_utc_in_a_body_are_422(
        http: httpx.Client, admin: dict[str, str], next_date: str) -> None:
    lead = http.post("/api/v1/leads", headers=admin, json={
        "name": "Edge Case", "phone": "13800138123", "source": "walk_in", "owner_id": "rep1"})
    assert lead.status_code in {201, 200}, lead.text
    lead_id = lead.json().get("id") or lead.json()["lead"]["id"]
    resp = http.post(f"/api/v1/leads/{lead_id}/follow-ups", headers=admin, json={
        "channel": "phone", "summary": "called", "next_date": next_date})
    _problem(resp, 422)


def test_a_body_in_another_content_type_is_415(crm: Embedded, admin: dict[str, str]) -> None:
    for base in _targets(crm):
        resp = httpx.post(f"{base}/api/v1/accounts", content="name=x&owner_id=rep1", timeout=20,
                          headers={**admin, "Content-Type": "application/x-www-form-urlencoded"})
        _problem(resp, 415)
    resp = httpx.post(f"{crm.url}/api/v1/auth/token", content="username=admin", timeout=20,
                      headers={"Content-Type": "text/plain"})
    _problem(resp, 415)


def test_no_server_version_is_revealed(crm: Embedded, http: httpx.Client, admin: dict[str, str]) -> None:
    for resp in (http.get("/healthz"), http.get("/api/v1/leads", headers=admin),
                 http.get("/api/v1/nothing-here", headers=admin),
                 httpx.get(f"{crm.service_urls['leads']}/healthz", timeout=10)):
        assert "server" not in resp.headers, resp.headers
        assert "werkzeug" not in resp.text.lower() and "waitress" not in resp.text.lower()


def test_overlong_uri_is_414_problem(crm: Embedded) -> None:
    for base in _targets(crm):
        resp = httpx.get(f"{base}/api/v1/accounts?q={'a' * 9000}", timeout=10)
        assert "8192" in _problem(resp, 414)["detail"]


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes, read the whole answer (the server closes after an error)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(body) >= length:
                    break
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_too_many_or_too_large_headers_are_431_problem(crm: Embedded) -> None:
    gateway_port = int(crm.url.rsplit(":", 1)[1])
    many = b"".join(b"X-Extra-%d: v\r\n" % i for i in range(95))  # past the app's 90 headers
    huge = b"".join(b"X-Big-%d: %s\r\n" % (i, b"v" * 1000) for i in range(80))  # past 64 KiB
    for extra in (many, huge):
        status, headers, body = _raw(gateway_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
        assert status == 431
        assert headers["content-type"].startswith(PROBLEM)
        assert json.loads(body)["status"] == 431
        assert "server" not in headers


def test_routing_redirect_is_308_problem_with_location(http: httpx.Client) -> None:
    resp = http.get("/api//v1/leads")
    body = _problem(resp, 308)
    assert resp.headers["location"].endswith("/api/v1/leads")
    assert body["detail"].endswith("/api/v1/leads")


@pytest.mark.parametrize("target", ["gateway", "leads"])
def test_a_client_trickling_a_short_body_is_cut_off_at_the_request_deadline(
        crm: Embedded, target: str) -> None:
    """Headers announce 64 bytes, then one byte every half second: the idle timeout alone never
    fires. The server closes the connection once the request deadline has passed."""
    url = crm.url if target == "gateway" else crm.service_urls[target]
    port = int(url.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=2 * REQUEST_TIMEOUT + 10) as sock:
        sock.sendall(b"POST /api/v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 64\r\n\r\n")
        closed = False
        for _ in range(int(4 * REQUEST_TIMEOUT) + 20):  # bounded: at most ~2x the deadline + 10 s
            try:
                sock.sendall(b" ")
                sock.settimeout(0.5)
                if sock.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:  # reset by the server
                closed = True
                break
    elapsed = time.monotonic() - started
    assert closed, "the server kept the trickling connection open"
    assert REQUEST_TIMEOUT - 0.5 <= elapsed <= 2 * REQUEST_TIMEOUT + 6, elapsed
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200  # others are still served
