"""``crm-web`` (telemetry.webserver), the server of every web process outside the embedded mode:
metrics of all its workers in one scrape, a worker that dies comes back, SIGTERM lets in-flight
requests finish, and every line it writes is the CRM's JSON."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eventbus.testing import wait_for
from testkit.ports import free_port_block

ROOT = Path(__file__).resolve().parents[2]
CRM_WEB = Path(sys.executable).parent / "crm-web"


class Web:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def hits(self) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith("crm_webserver_test_hits_total"))


def _serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/pid", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _env() -> dict[str, str]:
    return {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture()
def web(tmp_path: Path) -> Iterator[Web]:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"left by an earlier run")
    port = free_port_block(1)
    log = tmp_path / "web.log"
    env = {**_env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(CRM_WEB), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                 "--threads", "2", "--graceful-timeout", "10",
                                 "testkit.webserver_app:create_app()"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _serving(url), timeout=30, message="crm-web did not start")
        assert not (metrics / "counter_999999.db").exists(), "samples of an earlier run were kept"
        yield Web(proc, url, log)
    finally:
        # The whole group: a master killed on its own would leave its workers running.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_counts_of_every_worker_add_up_and_survive_a_dead_worker(web: Web) -> None:
    pids: set[str] = set()
    for _ in range(40):  # new connections: the kernel spreads them over both workers
        pids.add(httpx.get(f"{web.url}/pid", timeout=5).text)
    assert web.hits() == 41  # 40 + the readiness probe of the fixture
    victim = int(sorted(pids)[0])
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        if not _serving(web.url):
            return False
        seen = {httpx.get(f"{web.url}/pid", timeout=5).text for _ in range(20)}
        return str(victim) not in seen

    wait_for(replaced, timeout=30, message="the killed worker was not replaced")
    assert web.proc.poll() is None
    assert web.hits() >= 41, "a dead worker's counts must stay in the totals"


def test_sigterm_lets_the_request_in_flight_finish(web: Web) -> None:
    answer: dict[str, object] = {}

    def slow() -> None:
        try:
            answer["status"] = httpx.get(f"{web.url}/slow?2", timeout=20).status_code
        except httpx.HTTPError as exc:
            answer["error"] = repr(exc)

    client = threading.Thread(target=slow)
    client.start()
    wait_for(lambda: '"started /slow"' in web.log.read_text(), timeout=10,
             message="the slow request never reached the app")
    web.proc.send_signal(signal.SIGTERM)
    client.join(20)
    assert answer == {"status": 200}
    assert web.proc.wait(20) == 0
    assert not _serving(web.url), "still accepting after SIGTERM"


def test_every_line_is_json_with_the_servers_own_lines_included(web: Web) -> None:
    httpx.get(f"{web.url}/pid", timeout=5)
    web.proc.send_signal(signal.SIGTERM)
    web.proc.wait(20)
    lines = [json.loads(line) for line in web.log.read_text().splitlines() if line.strip()]
    loggers = {line["logger"] for line in lines}
    assert "_granian" in loggers and "crm.webserver_app" in loggers
    assert any(line["message"] == "served /pid" for line in lines)
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)


def test_an_app_that_cannot_start_stops_the_server_with_one_json_error(tmp_path: Path) -> None:
    """What an orchestrator and an operator need: a non-zero exit (the container restarts, the
    rollout halts) and the reason in the log, in the same JSON as every other line."""
    done = subprocess.run([str(CRM_WEB), "--bind", f"127.0.0.1:{free_port_block(1)}", "--workers", "2",
                           "testkit.webserver_app:broken_app()"],
                          env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    [error] = [line for line in lines if line["logger"] == "crm.web"][:1]
    assert error["level"] == "ERROR" and "testkit.webserver_app:broken_app()" in error["message"]
    assert "TEST_DATABASE_URL is not set" in error["exception"]
