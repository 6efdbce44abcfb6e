"""The whole system as ``make run`` starts it (one ``crm-embedded`` process, SQLite per service,
in-process broker), on free ports with its own data directory, for tests that drive it from
outside over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from eventbus.testing import wait_for
from testkit.ports import free_port_block

# Settings of other test tiers that must not leak into a system started for this one.
_FOREIGN = ("EVENTS_BROKER_URL", "EVENTS_EXCHANGE", "EVENTS_QUEUE_PREFIX", "AUTH_JWKS_URL",
            "AUTH_ISSUER", "DATABASE_URL", "GATEWAY_UPSTREAMS", "GATEWAY_REDIS_URL",
            "EVENTS_DATASCHEMA_BASE_URL")


SERVICES = ("leads", "accounts", "support", "notify")  # on ports base+1 .. base+4, as make run


@dataclass(frozen=True)
class Embedded:
    url: str  # the gateway
    data_dir: Path
    process: subprocess.Popen[str]
    service_urls: dict[str, str]

    def token(self, username: str, password: str = "crm-demo") -> str:  # noqa: S107 - demo password
        resp = httpx.post(f"{self.url}/api/v1/auth/token",
                          json={"username": username, "password": password}, timeout=10)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])


class _PortTaken(Exception):
    """Another process took one of the probed ports before the system bound it."""


def _start(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int, Any]:
    base = free_port_block(5)
    environ = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    environ.update({"CRM_PORT": str(base), "CRM_SERVICE_PORT_BASE": str(base + 1),
                    "CRM_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", **env})
    log = (data_dir.parent / f"{data_dir.name}.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "crm_embedded"], env=environ, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{base}"

    def ready() -> bool:
        if proc.poll() is not None:
            log.seek(0)
            output = log.read()
            if "Address already in use" in output:
                raise _PortTaken(output[-500:])
            raise AssertionError(f"crm-embedded exited: {output[-4000:]}")
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 90, interval=0.2, message="embedded system ready")
    except BaseException:
        _stop(proc)
        log.close()
        raise
    return proc, base, log


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def embedded_system(data_dir: Path, **env: str) -> Iterator[Embedded]:
    """Start ``crm-embedded``, wait until the gateway says every service is ready, stop it
    with SIGTERM afterwards (killing it if it does not stop). Free ports are probed, then bound
    by the child: when another process takes one in between, start again on other ports."""
    for attempt in range(3):
        try:
            proc, base, log = _start(data_dir, env)
            break
        except _PortTaken:
            if attempt == 2:
                raise
    try:
        yield Embedded(f"http://127.0.0.1:{base}", data_dir, proc,
                       {name: f"http://127.0.0.1:{base + 1 + i}" for i, name in enumerate(SERVICES)})
    finally:
        _stop(proc)
        log.close()
