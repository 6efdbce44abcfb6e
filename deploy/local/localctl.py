"""Distributed mode on one machine: gunicorn web + worker per service and the gateway, as
separate processes against the local RabbitMQ and PostgreSQL.

    python deploy/local/localctl.py up|down|status|purge

Processes are tracked by PID files under ``CRM_RUN_DIR`` (default ``var/local``) and logs go
to ``<run dir>/log``. ``down`` stops only the processes ``up`` started (TERM, then KILL).
Everything is set through the environment, so tests can start an isolated copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVICES = ("leads", "accounts", "support", "notify")
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def settings() -> dict[str, str]:
    env = os.environ
    return {
        "amqp": env.get("EVENTS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        "pg": env.get("CRM_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        "db_prefix": env.get("CRM_DB_PREFIX", "crm_"),
        "gateway_port": env.get("CRM_PORT", "8080"),
        "service_port_base": env.get("CRM_SERVICE_PORT_BASE", "8081"),
        "worker_port_base": env.get("CRM_WORKER_PORT_BASE", "9081"),
        "run_dir": env.get("CRM_RUN_DIR", str(ROOT / "var" / "local")),
        "web_workers": env.get("CRM_WEB_WORKERS", "2"),
        # The gateway's rate-limit and sign-in counters, shared by its gunicorn workers.
        "redis": env.get("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "redis_prefix": env.get("GATEWAY_REDIS_PREFIX", "crm-gateway"),
    }


def database_url(s: dict[str, str], service: str) -> str:
    return make_url(s["pg"]).set(database=f"{s['db_prefix']}{service}").render_as_string(
        hide_password=False)


def ensure_databases(s: dict[str, str]) -> None:
    engine = create_engine(s["pg"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        existing = set(conn.scalars(text("SELECT datname FROM pg_database")))
        for service in SERVICES:
            name = f"{s['db_prefix']}{service}"
            if name not in existing:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def process_table(s: dict[str, str]) -> list[tuple[str, list[str], dict[str, str]]]:
    run = Path(s["run_dir"])
    gw = int(s["gateway_port"])
    common = {
        "EVENTS_BROKER_URL": s["amqp"],
        "AUTH_JWKS_URL": f"http://127.0.0.1:{gw}/.well-known/jwks.json",
        # The built-in issuer writes this "iss"; the gateway and every service pin it.
        "AUTH_ISSUER": "crm-embedded",
        # Every event names the JSON Schema of its data, served by the gateway.
        "EVENTS_DATASCHEMA_BASE_URL": f"http://127.0.0.1:{gw}/api/v1/asyncapi/schemas",
        "PYTHONUNBUFFERED": "1",
    }
    table = []
    upstreams = []
    for i, service in enumerate(SERVICES):
        port = int(s["service_port_base"]) + i
        upstreams.append(f"{service}=http://127.0.0.1:{port}")
        env = {**common, f"{service.upper()}_DATABASE_URL": database_url(s, service)}
        table.append((f"{service}-web", [
            str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", s["web_workers"],
            "--threads", "4", "--worker-class", "gthread", "--graceful-timeout", "20",
            "--timeout", "30", f"{service}.app:create_app()",
        ], env))
        table.append((f"{service}-worker", [str(BIN / f"{service}-worker"), "run"],
                      {**env, "WORKER_HEALTH_PORT": str(int(s["worker_port_base"]) + i)}))
    table.append(("gateway", [
        str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{gw}", "--workers", s["web_workers"],
        "--threads", "8", "--worker-class", "gthread", "--graceful-timeout", "20",
        "gateway.app:create_app()",
    ], {**common, "GATEWAY_UPSTREAMS": ",".join(upstreams), "AUTH_DEV_ISSUER": "1",
        "AUTH_DEMO_USERS": "1", "AUTH_ISSUER_KEY_FILE": str(run / "issuer-key.pem"),
        "GATEWAY_REDIS_URL": s["redis"], "GATEWAY_REDIS_PREFIX": s["redis_prefix"]}))
    return table


def _pidfile(s: dict[str, str], name: str) -> Path:
    return Path(s["run_dir"]) / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def up(s: dict[str, str]) -> int:
    run = Path(s["run_dir"])
    (run / "log").mkdir(parents=True, exist_ok=True)
    ensure_databases(s)
    for service in SERVICES:  # migrate once up front, instead of racing in every process
        subprocess.run([sys.executable, "-c", (
            f"from {service}.wiring import build; build()")], check=True, cwd=ROOT,
            env={**os.environ, f"{service.upper()}_DATABASE_URL": database_url(s, service),
                 "EVENTS_BROKER_URL": s["amqp"]})
    for name, argv, env in process_table(s):
        pid = _read_pid(_pidfile(s, name))
        if pid and _alive(pid):
            print(f"{name} already running (pid {pid})")
            continue
        with open(run / "log" / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, **env, "MIGRATE_ON_START": "0"},
                                    start_new_session=True)
        _pidfile(s, name).write_text(str(proc.pid))
    gateway = f"http://127.0.0.1:{s['gateway_port']}"
    if not _wait_ready(gateway, timeout=float(os.environ.get("CRM_UP_TIMEOUT", "60"))):
        print(f"gateway not ready in time; see {run / 'log'}", file=sys.stderr)
        return 1
    token = httpx.post(f"{gateway}/api/v1/auth/token",
                       json={"username": "admin", "password": "crm-demo"}, timeout=10).json()
    print(f"CRM is up (distributed mode)\n  gateway  {gateway}\n  docs     {gateway}/docs\n"
          f"  logs     {run / 'log'}\n  admin token:\n{token.get('access_token')}")
    return 0


def _wait_ready(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def down(s: dict[str, str]) -> int:
    pids = {}
    for name, _, _ in process_table(s):
        pid = _read_pid(_pidfile(s, name))
        if pid and _alive(pid):
            os.killpg(pid, signal.SIGTERM)  # each was started in its own session/group
            pids[name] = pid
        _pidfile(s, name).unlink(missing_ok=True)
    deadline = time.monotonic() + 25
    while pids and time.monotonic() < deadline:
        pids = {n: p for n, p in pids.items() if _alive(p)}
        time.sleep(0.1)
    for name, pid in pids.items():
        print(f"{name} did not stop in time; killing", file=sys.stderr)
        os.killpg(pid, signal.SIGKILL)
    print("CRM stopped")
    return 0


def isolated_environment(tag: str, port_base: int, pg_url: str, amqp_url: str,
                         run_dir: str) -> dict[str, str]:
    """Settings for a private copy of the system (tests, benchmarks): own databases, exchange,
    queues, ports (``port_base`` .. ``port_base + 8``) and run directory."""
    return {
        "CRM_PG_URL": pg_url,
        "EVENTS_BROKER_URL": amqp_url,
        "CRM_DB_PREFIX": f"iso_{tag}_",
        "EVENTS_EXCHANGE": f"iso.{tag}.events",
        "EVENTS_QUEUE_PREFIX": f"iso.{tag}",
        "CRM_PORT": str(port_base),
        "CRM_SERVICE_PORT_BASE": str(port_base + 1),
        "CRM_WORKER_PORT_BASE": str(port_base + 5),
        "CRM_RUN_DIR": run_dir,
        "CRM_UP_TIMEOUT": "90",
        "GATEWAY_REDIS_PREFIX": f"iso-{tag}",
    }


def purge(s: dict[str, str]) -> None:
    """Drop this copy's databases, broker objects and gateway counters (after ``down``)."""
    import kombu
    import redis

    if s["redis_prefix"] != "crm-gateway":  # never the default deployment's counters
        try:
            client = redis.Redis.from_url(s["redis"], socket_connect_timeout=2)
            keys = list(client.scan_iter(f"{s['redis_prefix']}*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.RedisError as exc:
            print(f"redis counters not purged: {exc}", file=sys.stderr)

    engine = create_engine(s["pg"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for service in SERVICES:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{s["db_prefix"]}{service}" WITH (FORCE)'))
    engine.dispose()
    exchange = os.environ.get("EVENTS_EXCHANGE", "crm.events")
    prefix = os.environ.get("EVENTS_QUEUE_PREFIX", "crm")
    delays = os.environ.get("EVENTS_RETRY_DELAYS", "1,5,30").split(",")
    with kombu.Connection(s["amqp"], connect_timeout=5) as conn:
        channel = conn.channel()
        for service in SERVICES:
            base = f"{prefix}.{service}"
            retries = [f"{base}.retry.{round(float(d) * 1000)}ms" for d in delays if d.strip()]
            for name in (base, f"{base}.parked", *retries):
                channel.queue_delete(queue=name)
        for name in (exchange, f"{exchange}.dlx"):
            channel.exchange_delete(exchange=name)


def status(s: dict[str, str]) -> int:
    for name, _, _ in process_table(s):
        pid = _read_pid(_pidfile(s, name))
        print(f"{name:18} {'running' if pid and _alive(pid) else 'stopped'}"
              f"{f' (pid {pid})' if pid else ''}")
    return 0


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    s = settings()
    if command == "up":
        return up(s)
    if command == "down":
        return down(s)
    if command == "status":
        return status(s)
    if command == "purge":  # stop, then drop this copy's databases, queues and run dir
        down(s)
        purge(s)
        shutil.rmtree(s["run_dir"], ignore_errors=True)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
