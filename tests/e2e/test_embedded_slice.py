"""End to end in embedded mode, as `make run` starts it: one process, SQLite per service, the
in-process broker; and it stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from eventbus.testing import wait_for
from testkit.ports import free_port_block
from testkit.slice import run_slice

pytestmark = pytest.mark.e2e


def test_embedded_system_runs_the_slice_and_stops_cleanly(tmp_path: Path) -> None:
    base = free_port_block(5)
    env = {**os.environ, "CRM_PORT": str(base), "CRM_SERVICE_PORT_BASE": str(base + 1),
           "CRM_DATA_DIR": str(tmp_path / "data")}
    for key in ("EVENTS_BROKER_URL", "EVENTS_EXCHANGE", "EVENTS_QUEUE_PREFIX", "AUTH_JWKS_URL",
                "DATABASE_URL", "GATEWAY_UPSTREAMS"):
        env.pop(key, None)
    proc = subprocess.Popen([sys.executable, "-m", "crm_embedded"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{base}"

        def ready() -> bool:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 60, interval=0.2, message="embedded system ready")
        with httpx.Client(base_url=url, timeout=10) as client:
            run_slice(client)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "stopping" in out and "Traceback" not in out
        for service in ("leads", "accounts", "support", "notify"):
            assert (tmp_path / "data" / f"{service}.db").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
