"""End to end in distributed mode: gunicorn web + worker per service and the gateway as
separate processes, on real PostgreSQL and RabbitMQ, started by the same tool as `make up`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.ports import free_port_block
from testkit.slice import run_slice

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
LOCALCTL = ROOT / "deploy" / "local" / "localctl.py"
sys.path.insert(0, str(LOCALCTL.parent))
from localctl import isolated_environment  # noqa: E402


@pytest.fixture
def system(pg_server: str, amqp_url: str, tmp_path: Path) -> Iterator[str]:
    base = free_port_block(9)
    env = {**os.environ, **isolated_environment(uuid.uuid4().hex[:8], base, pg_server, amqp_url,
                                                str(tmp_path / "run")), "CRM_WEB_WORKERS": "1"}
    up = subprocess.run([sys.executable, str(LOCALCTL), "up"], env=env, capture_output=True,
                        text=True, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr + _logs(tmp_path / "run" / "log")
        yield f"http://127.0.0.1:{base}"
    finally:
        subprocess.run([sys.executable, str(LOCALCTL), "purge"], env=env, timeout=120)


def _logs(log_dir: Path) -> str:
    return "".join(f"\n--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(log_dir.glob("*.log")))


def test_slice_through_gateway_with_separate_processes(system: str) -> None:
    with httpx.Client(base_url=system, timeout=10) as client:
        ids = run_slice(client, timeout=30)
        # The gateway merges every service's OpenAPI into one document.
        spec = client.get("/api/v1/openapi.json").json()
        for path in ("/api/v1/leads", "/api/v1/leads/{lead_id}/convert", "/api/v1/accounts",
                     "/api/v1/support/tickets", "/api/v1/notify/notifications"):
            assert path in spec["paths"], path
        assert client.get("/docs").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert ids["account_id"]
