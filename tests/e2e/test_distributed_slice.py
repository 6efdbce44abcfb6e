"""End to end in distributed mode: web (crm-web) + workers per service and the gateway as
separate processes, on real PostgreSQL and RabbitMQ, started by the same tool as `make up`
(with its supervisor, per-service broker users and a scaled leads worker) — first without
migrating (MIGRATE_ON_START=0), as an operator who forgot the migration would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import promql_parser
import pytest
import yaml

from eventbus.testing import wait_for
from testkit.ports import free_port_block
from testkit.slice import login, run_slice

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
LOCALCTL = ROOT / "deploy" / "local" / "localctl.py"
sys.path.insert(0, str(LOCALCTL.parent))
from localctl import isolated_environment  # noqa: E402

SERVICES = ("leads", "accounts", "support", "notify")


@dataclass
class System:
    base: int
    env: dict[str, str]
    run: Path
    up: subprocess.CompletedProcess[str]

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.base}"

    def web(self, service: str) -> str:
        return f"http://127.0.0.1:{self.base + 1 + SERVICES.index(service)}"

    @property
    def worker_ports(self) -> list[int]:  # leads-worker-1, leads-worker-2, accounts, support, notify
        return [self.base + 6 + i for i in range(5)]

    def ctl(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(LOCALCTL), command], env=self.env, capture_output=True,
                              text=True, timeout=180)

    def log(self, name: str) -> str:
        return (self.run / "log" / f"{name}.log").read_text()

    def pid(self, name: str) -> int:
        return int((self.run / f"{name}.pid").read_text())

    def migrated(self) -> None:
        done = self.ctl("migrate")
        assert done.returncode == 0, done.stdout + done.stderr
        wait_for(lambda: httpx.get(f"{self.gateway}/readyz", timeout=5).status_code == 200, 60,
                 interval=0.5, message="the system ready after migrating")


@pytest.fixture(scope="module")
def system(pg_server: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    base = free_port_block(11)
    run = tmp_path_factory.mktemp("local") / "run"
    env = {**os.environ, **isolated_environment(uuid.uuid4().hex[:8], base, pg_server, amqp_url, str(run)),
           "CRM_WEB_WORKERS": "2", "CRM_WORKERS": "leads=2", "MIGRATE_ON_START": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    up = subprocess.run([sys.executable, str(LOCALCTL), "up"], env=env, capture_output=True, text=True,
                        timeout=240)
    system = System(base, env, run, up)
    try:
        yield system
    finally:
        subprocess.run([sys.executable, str(LOCALCTL), "purge"], env=env, timeout=180)


def _logs(system: System) -> str:
    logs = sorted((system.run / "log").glob("*.log"))
    return "".join(f"\n--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)


def test_unmigrated_system_is_not_ready_until_migrated(system: System) -> None:
    """MIGRATE_ON_START=0 without the migration: nothing claims to be up, nothing answers 500."""
    assert system.up.returncode == 3, system.up.stdout + system.up.stderr + _logs(system)
    assert "NOT READY" in system.up.stdout and "make migrate" in system.up.stdout
    ready = httpx.get(f"{system.gateway}/readyz", timeout=10)
    assert ready.status_code == 503
    assert {s["status"] for s in ready.json()["services"].values()} == {"not_ready"}
    leads = httpx.get(f"{system.web('leads')}/readyz", timeout=5)
    assert leads.status_code == 503 and "behind the code" in leads.json()["reason"]
    for port in system.worker_ports:
        # `up` waits for the gateway only: a worker may still be importing when it returns.
        wait_for(lambda p=port: _answers(f"http://127.0.0.1:{p}/healthz"), 60,
                 message=f"worker on {port} listening")
        worker = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert worker.status_code == 503 and "schema" in worker.json()["reason"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    with httpx.Client(base_url=system.gateway, timeout=10) as client:
        api = client.get("/api/v1/leads", headers=login(client, "rep1"))
        assert api.status_code == 503 and api.headers["content-type"].startswith("application/problem+json")
        assert "leads-worker migrate" in api.json()["detail"]

    system.migrated()  # `make migrate`: ready without restarting anything
    for port in system.worker_ports:
        wait_for(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/readyz", timeout=5).status_code == 200,
                 30, message=f"worker on {port} ready")


def test_slice_through_gateway_with_separate_processes(system: System) -> None:
    system.migrated()
    with httpx.Client(base_url=system.gateway, timeout=10) as client:
        ids = run_slice(client, timeout=30)
        spec = client.get("/api/v1/openapi.json").json()
        for path in ("/api/v1/leads", "/api/v1/leads/{lead_id}/convert", "/api/v1/accounts",
                     "/api/v1/support/tickets", "/api/v1/notify/notifications"):
            assert path in spec["paths"], path
        assert client.get("/docs").status_code == 200
        assert ids["account_id"]


def test_each_request_is_a_json_log_line_with_its_request_id(system: System) -> None:
    system.migrated()
    rid = f"e2e-{uuid.uuid4().hex}"
    with httpx.Client(base_url=system.gateway, timeout=10) as client:
        headers = {**login(client, "rep1"), "X-Request-ID": rid}
        missing = client.get("/api/v1/leads/00000000-0000-0000-0000-000000000000", headers=headers)
        assert missing.status_code == 404

    def lines(name: str) -> list[dict[str, object]]:
        found = []
        for line in system.log(name).splitlines():
            if rid in line:
                try:
                    found.append(json.loads(line))
                except ValueError:  # the line is still being written
                    pass
        # Other lines logged meanwhile carry the request id too (e.g. a JWKS fetch).
        return [line for line in found if line["logger"] == "crm.access"]

    gateway = wait_for(lambda: lines("gateway"), 10, message="the gateway's access line")
    service = wait_for(lambda: lines("leads-web"), 10, message="the service's access line")
    for line, who in ((gateway[0], "gateway"), (service[0], "leads")):
        assert line["logger"] == "crm.access" and line["service"] == who
        assert line["status"] == 404 and line["principal"] == "rep1" and line["request_id"] == rid
        assert line["method"] == "GET" and isinstance(line["duration_ms"], float)
    assert gateway[0]["trace_id"] == service[0]["trace_id"]  # one trace across the hop


def _scrape(url: str) -> str:
    resp = httpx.get(url, timeout=5)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
    return resp.text


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_add_up_across_web_worker_processes_and_cover_the_alert_rules(system: System) -> None:
    system.migrated()
    web = system.web("notify")
    before = _sample(_scrape(f"{web}/metrics"), "crm_http_requests_total", route="/healthz", status="200")
    for _ in range(30):  # spread over both crm-web worker processes by the kernel
        assert httpx.get(f"{web}/healthz", timeout=5).status_code == 200
    # Whichever process answers the scrape, it reports all 30.
    for _ in range(6):
        got = _sample(_scrape(f"{web}/metrics"), "crm_http_requests_total", route="/healthz", status="200")
        assert got == before + 30
    gateway = _scrape(f"{system.gateway}/metrics")
    assert 'crm_http_request_duration_seconds_bucket{le="0.05",method="POST",route="/api/v1/auth/token"' \
           in gateway.replace(',service="gateway"', "")

    scraped = "\n".join([gateway, *(_scrape(f"{system.web(s)}/metrics") for s in SERVICES),
                         *(_scrape(f"http://127.0.0.1:{p}/metrics") for p in system.worker_ports)])
    names = {line.split("{")[0].split(" ")[0] for line in scraped.splitlines() if line and line[0] != "#"}
    rules = yaml.safe_load((ROOT / "deploy/monitoring/prometheus-rules.yaml").read_text())
    used = {m for g in rules["groups"] for r in g["rules"]
            for m in re.findall(r"\bcrm_[a-z_]+\b", r["expr"])}
    for g in rules["groups"]:
        for r in g["rules"]:
            promql_parser.parse(r["expr"])
    assert used and not used - names, f"alert rules use series the running system lacks: {used - names}"


def test_workers_scale_and_listen_on_loopback_only(system: System) -> None:
    status = system.ctl("status").stdout
    for name in ("supervisor", "leads-worker-1", "leads-worker-2", "notify-worker-1", "gateway"):
        assert any(line.startswith(name) and "running" in line for line in status.splitlines()), status
    listening = _listening()
    for port in system.worker_ports:
        assert listening.get(port) == {"127.0.0.1"}, (port, listening.get(port))


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
        return True
    except httpx.HTTPError:  # not listening yet
        return False


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:  # refused while the new process binds
        return False


def _listening() -> dict[int, set[str]]:
    """Listening TCP sockets of this machine by port: which addresses they are bound to."""
    out: dict[int, set[str]] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A":
            addr, port = local.split(":")
            ip = ".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0))
            out.setdefault(int(port, 16), set()).add(ip)
    return out


def test_a_killed_web_process_is_restarted_by_the_supervisor(system: System) -> None:
    system.migrated()
    old = system.pid("leads-web")
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: system.pid("leads-web") != old and system.pid("leads-web"), 30,
                   message="a new leads-web process")
    wait_for(lambda: _ready(f"{system.web('leads')}/readyz"), 30, interval=0.3,
             message="leads web serving again")
    assert new != old
    assert f"leads-web (pid {old}) exited with -9" in system.log("supervisor")
    with httpx.Client(base_url=system.gateway, timeout=10) as client:
        assert client.get("/api/v1/leads", headers=login(client, "rep1")).status_code == 200
