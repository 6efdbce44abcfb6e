"""Distributed mode on one machine: web (crm-web: granian) + worker(s) per service and the gateway, as
separate processes against the local RabbitMQ and PostgreSQL, kept running by a supervisor.

    python deploy/local/localctl.py up|down|status|migrate|purge

``up`` creates the databases, the per-service broker users (``crm-broker-users``, when
``rabbitmqctl`` can reach the local broker), migrates every schema (``crm-migrate``; skipped
with ``MIGRATE_ON_START=0``, then ``migrate`` does it later) and starts a supervisor process
that starts every web, worker and gateway process and restarts any that exits, with backoff
(0.5 s doubling to 30 s; reset after a minute of running). ``down`` stops the supervisor,
which stops its children (TERM, then KILL after 25 s); everything is found by the PIDs in
``CRM_RUN_DIR`` (default ``var/local``), never by name. Logs go to ``<run dir>/log``.

Scale: ``CRM_WORKERS=leads=2,notify=3`` worker processes per service (default 1 each) and
``CRM_WEB=leads=4`` web processes per service's web (default ``CRM_WEB_WORKERS``, 2);
``make up WORKERS=… WEB=…`` sets them. Everything is set through the environment, so tests
can start an isolated copy.

Front door (``CRM_PROXY``): ``nginx`` puts nginx on the gateway's port, proxying the API
straight to the services with a configuration rendered from the gateway's route table
(``gateway.nginx``), and the Python gateway behind it on ``CRM_GATEWAY_APP_PORT`` (issuer,
documents, docs, probes); ``python`` serves everything from the Python gateway; ``auto`` (the
default) takes nginx when it is installed (``make proxy`` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVICES = ("leads", "accounts", "support", "notify")
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXIT_NOT_READY = 3
STOP_GRACE = 25.0  # seconds between TERM and KILL for a child (> crm-web's graceful 20 s)


def parse_scale(spec: str, default: int) -> dict[str, int]:
    """``leads=2,notify=3`` → a count per service (others: ``default``)."""
    counts = dict.fromkeys(SERVICES, default)
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, sep, value = entry.partition("=")
        if not sep or name.strip() not in SERVICES or not value.strip().isdigit() or int(value) < 1:
            raise SystemExit(f"scale entries look like leads=2 (services: {', '.join(SERVICES)}; "
                             f"at least 1), not {entry!r}")
        counts[name.strip()] = int(value)
    return counts


def settings() -> dict[str, Any]:
    env = os.environ
    web_default = int(env.get("CRM_WEB_WORKERS", "2"))
    return {
        "amqp": env.get("EVENTS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        "pg": env.get("CRM_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        "db_prefix": env.get("CRM_DB_PREFIX", "crm_"),
        "gateway_port": env.get("CRM_PORT", "8080"),
        "service_port_base": env.get("CRM_SERVICE_PORT_BASE", "8081"),
        "worker_port_base": env.get("CRM_WORKER_PORT_BASE", "9081"),
        "run_dir": env.get("CRM_RUN_DIR", str(ROOT / "var" / "local")),
        "workers": parse_scale(env.get("CRM_WORKERS", ""), 1),
        "web": parse_scale(env.get("CRM_WEB", ""), web_default),
        "migrate": env.get("MIGRATE_ON_START", "1").strip().lower() not in {"0", "false", "no", "off"},
        "broker_users": env.get("CRM_BROKER_USERS", "auto").strip().lower(),
        "exchange": env.get("EVENTS_EXCHANGE") or "crm.events",
        "queue_prefix": env.get("EVENTS_QUEUE_PREFIX") or "crm",
        # The gateway's rate-limit and sign-in counters, shared by its web processes.
        "redis": env.get("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "redis_prefix": env.get("GATEWAY_REDIS_PREFIX", "crm-gateway"),
        "proxy": proxy_mode(env.get("CRM_PROXY", "auto")),
        "gateway_app_port": env.get("CRM_GATEWAY_APP_PORT")
        or str(int(env.get("CRM_PORT", "8080")) + 10),
    }


def nginx_binary() -> str | None:
    """nginx on PATH or where Debian puts it (``/usr/sbin`` is not on every user's PATH)."""
    return shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def proxy_mode(value: str) -> str:
    mode = value.strip().lower() or "auto"
    if mode not in {"auto", "nginx", "python"}:
        raise SystemExit(f"CRM_PROXY must be auto, nginx or python, not {value!r}")
    if mode == "auto":
        return "nginx" if nginx_binary() else "python"
    if mode == "nginx" and not nginx_binary():
        raise SystemExit("CRM_PROXY=nginx but nginx is not installed (`make proxy` installs it)")
    return mode


def database_url(s: dict[str, Any], service: str) -> str:
    return make_url(s["pg"]).set(database=f"{s['db_prefix']}{service}").render_as_string(
        hide_password=False)


def ensure_databases(s: dict[str, Any]) -> None:
    engine = create_engine(s["pg"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        existing = set(conn.scalars(text("SELECT datname FROM pg_database")))
        for service in SERVICES:
            name = f"{s['db_prefix']}{service}"
            if name not in existing:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


# --- broker users ---------------------------------------------------------------------------

def _users_file(s: dict[str, Any]) -> Path:
    return Path(s["run_dir"]) / "broker-users.json"


def _broker_user(s: dict[str, Any], service: str) -> str:
    return f"{s['db_prefix']}{service}"


def _vhost(amqp: str) -> str:
    path = urlsplit(amqp).path[1:]
    return "/" if path in ("", "/") else path.replace("%2F", "/").replace("%2f", "/")


def service_broker_url(s: dict[str, Any], service: str) -> str:
    """The service's own broker user when ``up`` created one, else the shared URL."""
    users_file = _users_file(s)
    if not users_file.exists():
        return s["amqp"]
    password = json.loads(users_file.read_text()).get(_broker_user(s, service))
    if password is None:
        return s["amqp"]
    parts = urlsplit(s["amqp"])
    netloc = f"{quote(_broker_user(s, service), safe='')}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _broker_users_args(s: dict[str, Any]) -> list[str]:
    return ["--vhost", _vhost(s["amqp"]), "--exchange", s["exchange"], "--prefix", s["queue_prefix"],
            "--user-prefix", s["db_prefix"], "--passwords", str(_users_file(s))]


def ensure_broker_users(s: dict[str, Any]) -> None:
    """A RabbitMQ user per service (``crm-broker-users apply``). ``CRM_BROKER_USERS``: ``1``
    requires it, ``0`` skips it (every service uses EVENTS_BROKER_URL's user), ``auto`` (the
    default) does it when ``rabbitmqctl`` is here and the broker is on this machine."""
    mode = s["broker_users"]
    if mode in {"0", "off", "no", "false"}:
        return
    local = urlsplit(s["amqp"]).hostname in {"127.0.0.1", "localhost", "::1"}
    if mode == "auto" and (shutil.which("rabbitmqctl") is None or not local):
        print("note: no per-service broker users (needs rabbitmqctl and a local broker); "
              "every service uses EVENTS_BROKER_URL's user", file=sys.stderr)
        return
    done = subprocess.run([str(BIN / "crm-broker-users"), "apply", "--generate", *_broker_users_args(s)],
                          capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        if mode == "auto":
            print(f"note: could not create broker users ({done.stderr.strip()}); every service "
                  "uses EVENTS_BROKER_URL's user", file=sys.stderr)
            _users_file(s).unlink(missing_ok=True)
            return
        raise SystemExit(f"crm-broker-users failed: {done.stderr.strip()}")


# --- processes ------------------------------------------------------------------------------

def process_table(s: dict[str, Any]) -> list[tuple[str, list[str], dict[str, str]]]:
    run = Path(s["run_dir"])
    gw = int(s["gateway_port"])
    common = {
        "AUTH_JWKS_URL": f"http://127.0.0.1:{gw}/.well-known/jwks.json",
        # The built-in issuer writes this "iss"; the gateway and every service pin it.
        "AUTH_ISSUER": "crm-embedded",
        # Every event names the JSON Schema of its data, served by the gateway.
        "EVENTS_DATASCHEMA_BASE_URL": f"http://127.0.0.1:{gw}/api/v1/asyncapi/schemas",
        "PYTHONUNBUFFERED": "1",
        "MIGRATE_ON_START": "0",  # ``up``/``migrate`` migrate once, instead of every process racing
    }
    web = [str(BIN / "crm-web"), "--graceful-timeout", "20"]
    table = []
    upstreams = []
    worker_port = int(s["worker_port_base"])
    for i, service in enumerate(SERVICES):
        port = int(s["service_port_base"]) + i
        upstreams.append(f"{service}=http://127.0.0.1:{port}")
        env = {**common, f"{service.upper()}_DATABASE_URL": database_url(s, service),
               "EVENTS_BROKER_URL": service_broker_url(s, service),
               # The directory of people a lead may be given to: the same demo users the
               # local gateway signs in (leads refuses an owner it does not know).
               "AUTH_DEMO_USERS": "1"}
        table.append((f"{service}-web", [
            *web, "--bind", f"127.0.0.1:{port}", "--workers", str(s["web"][service]),
            "--threads", "4", f"{service}.app:create_app()",
        ], {**env, "PROMETHEUS_MULTIPROC_DIR": str(run / "metrics" / f"{service}-web")}))
        for n in range(1, s["workers"][service] + 1):
            # Health and metrics on loopback only (WORKER_HEALTH_HOST's default).
            table.append((f"{service}-worker-{n}", [str(BIN / f"{service}-worker"), "run"],
                          {**env, "WORKER_HEALTH_PORT": str(worker_port)}))
            worker_port += 1
    gateway_env = {**common, "GATEWAY_UPSTREAMS": ",".join(upstreams), "AUTH_DEV_ISSUER": "1",
                   "AUTH_DEMO_USERS": "1", "AUTH_ISSUER_KEY_FILE": str(run / "issuer-key.pem"),
                   "PROMETHEUS_MULTIPROC_DIR": str(run / "metrics" / "gateway"),
                   "GATEWAY_REDIS_URL": s["redis"], "GATEWAY_REDIS_PREFIX": s["redis_prefix"]}
    app_bind = f"127.0.0.1:{gw}"
    if s["proxy"] == "nginx":
        # nginx takes the gateway's port; the Python gateway serves what nginx hands it.
        app_bind = f"127.0.0.1:{s['gateway_app_port']}"
        gateway_env["GATEWAY_PROXY_HOPS"] = "1"
        table.append(("gateway", [str(nginx_binary()), "-p", str(run / "nginx"), "-e", "stderr",
                                  "-c", str(run / "nginx" / "nginx.conf")], {}))
    table.append(("gateway-app" if s["proxy"] == "nginx" else "gateway", [
        *web, "--bind", app_bind, "--workers", os.environ.get("CRM_WEB_WORKERS", "2"),
        "--threads", "8", "gateway.app:create_app()",
    ], gateway_env))
    return table


def render_nginx(s: dict[str, Any]) -> Path:
    """nginx's configuration from the gateway's settings and this copy's route table."""
    from gateway.config import GatewayConfig
    from gateway.nginx import render, write

    env = {**os.environ, **next(e for name, _, e in process_table(s) if name == "gateway-app")}
    run = Path(s["run_dir"]) / "nginx"
    files = render(GatewayConfig.from_env(env), listen=f"127.0.0.1:{s['gateway_port']}",
                   app=f"127.0.0.1:{s['gateway_app_port']}", run_dir=run,
                   worker_processes=os.environ.get("CRM_NGINX_WORKERS", "auto"))
    conf = write(files, run)
    check = subprocess.run([str(nginx_binary()), "-t", "-q", "-p", str(run), "-e", "stderr",
                            "-c", str(conf)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"the rendered nginx configuration is invalid:\n{check.stderr}")
    return conf


def _pidfile(s: dict[str, Any], name: str) -> Path:
    return Path(s["run_dir"]) / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is not alive
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _write_pid(path: Path, pid: int) -> None:
    """Atomically (write, then rename), so a reader never sees a half-written file."""
    tmp = path.with_suffix(".pid.tmp")
    tmp.write_text(str(pid))
    tmp.replace(path)


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # each child was started in its own session: group id == its pid
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    next_start: float = 0.0
    restarts: int = field(default=0)


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} supervisor: {message}", flush=True)


def supervise(s: dict[str, Any]) -> int:
    """Start every process and keep it running until SIGTERM; then stop them all."""
    run = Path(s["run_dir"])
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if s["proxy"] == "nginx":
        render_nginx(s)
    children = [Child(name, argv, env) for name, argv, env in process_table(s)]
    _log(f"supervising {len(children)} processes")
    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.proc is not None and child.proc.poll() is None:
                continue
            if child.proc is not None:  # it exited: schedule a restart with backoff
                # What it left behind in its process group (web workers of a killed
                # master) would hold its port: they go first.
                _killpg(child.proc.pid, signal.SIGKILL)
                ran = now - child.started_at
                child.failures = 1 if ran > 60 else child.failures + 1
                delay = min(30.0, 0.5 * 2 ** (child.failures - 1))
                _log(f"{child.name} (pid {child.proc.pid}) exited with {child.proc.returncode} "
                     f"after {ran:.1f} s; restarting in {delay:.1f} s")
                child.proc, child.next_start = None, now + delay
            if now >= child.next_start:
                # Metrics directories are per web server (set in its env); never inherited.
                env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
                with open(run / "log" / f"{child.name}.log", "ab") as out:
                    child.proc = subprocess.Popen(child.argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                                  env={**env, **child.env}, start_new_session=True)
                child.started_at = time.monotonic()
                _write_pid(_pidfile(s, child.name), child.proc.pid)
                if child.restarts:
                    _log(f"{child.name} restarted (pid {child.proc.pid})")
                child.restarts += 1
        time.sleep(0.25)
    _log("stopping")
    for child in children:
        if child.proc is not None and child.proc.poll() is None:
            _killpg(child.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline and any(c.proc and c.proc.poll() is None for c in children):
        time.sleep(0.1)
    for child in children:
        if child.proc is not None and child.proc.poll() is None:
            _log(f"{child.name} did not stop in time; killing")
            _killpg(child.proc.pid, signal.SIGKILL)
            child.proc.wait(timeout=10)
        _pidfile(s, child.name).unlink(missing_ok=True)
    _log("stopped")
    return 0


def migrate(s: dict[str, Any]) -> int:
    """Every service's schema to this code's heads (``crm-migrate``); fails loudly."""
    env = {**os.environ, **{f"{svc.upper()}_DATABASE_URL": database_url(s, svc) for svc in SERVICES}}
    done = subprocess.run([str(BIN / "crm-migrate")], env=env, cwd=ROOT, check=False)
    if done.returncode != 0:
        print("migration failed (see above)", file=sys.stderr)
    return done.returncode


def up(s: dict[str, Any]) -> int:
    run = Path(s["run_dir"])
    (run / "log").mkdir(parents=True, exist_ok=True)
    sup = _read_pid(run / "supervisor.pid")
    if sup and _alive(sup):
        print(f"already running (supervisor pid {sup}); `make down` first to change settings")
        return 0
    ensure_databases(s)
    ensure_broker_users(s)
    if s["migrate"] and migrate(s) != 0:
        return 1
    with open(run / "log" / "supervisor.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "supervise"], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy(),
                                start_new_session=True)
    _write_pid(run / "supervisor.pid", proc.pid)
    gateway = f"http://127.0.0.1:{s['gateway_port']}"
    timeout = float(os.environ.get("CRM_UP_TIMEOUT", "60"))
    if not s["migrate"]:
        if not _wait(f"{gateway}/healthz", timeout):
            print(f"gateway did not start in time; see {run / 'log'}", file=sys.stderr)
            return 1
        ready = _wait(f"{gateway}/readyz", 3)
        print(f"CRM started without migrating (MIGRATE_ON_START=0): {'ready' if ready else 'NOT READY'}"
              f"\n  gateway  {gateway}\n  logs     {run / 'log'}")
        if not ready:
            print("  the schemas are behind the code: run `make migrate` (localctl.py migrate)")
            return EXIT_NOT_READY
        return 0
    if not _wait(f"{gateway}/readyz", timeout):
        print(f"gateway not ready in time; see {run / 'log'}", file=sys.stderr)
        return 1
    token = httpx.post(f"{gateway}/api/v1/auth/token",
                       json={"username": "admin", "password": "crm-demo"}, timeout=10).json()
    print(f"CRM is up (distributed mode)\n  gateway  {gateway}\n  docs     {gateway}/docs\n"
          f"  logs     {run / 'log'}\n  admin token:\n{token.get('access_token')}")
    return 0


def _wait(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def down(s: dict[str, Any]) -> int:
    run = Path(s["run_dir"])
    sup = _read_pid(run / "supervisor.pid")
    if sup and _alive(sup):
        os.kill(sup, signal.SIGTERM)  # it stops its children, then itself
        deadline = time.monotonic() + STOP_GRACE + 10
        while _alive(sup) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(sup):
            print("supervisor did not stop in time; killing it", file=sys.stderr)
            os.kill(sup, signal.SIGKILL)
    (run / "supervisor.pid").unlink(missing_ok=True)
    # Anything left by a supervisor that was killed: by its recorded PID (and process group).
    leftovers = {}
    for name, _, _ in process_table(s):
        pid = _read_pid(_pidfile(s, name))
        if pid and _alive(pid):
            _killpg(pid, signal.SIGTERM)
            leftovers[name] = pid
        _pidfile(s, name).unlink(missing_ok=True)
    deadline = time.monotonic() + STOP_GRACE
    while leftovers and time.monotonic() < deadline:
        leftovers = {n: p for n, p in leftovers.items() if _alive(p)}
        time.sleep(0.1)
    for name, pid in leftovers.items():
        print(f"{name} did not stop in time; killing", file=sys.stderr)
        _killpg(pid, signal.SIGKILL)
    print("CRM stopped")
    return 0


def isolated_environment(tag: str, port_base: int, pg_url: str, amqp_url: str,
                         run_dir: str) -> dict[str, str]:
    """Settings for a private copy of the system (tests, benchmarks): own databases, exchange,
    queues, broker users, ports (``port_base`` .. ``port_base + 4`` for the gateway and the
    services, ``port_base + 5`` for the Python gateway behind nginx, from ``port_base + 6`` one
    per worker process) and run directory."""
    return {
        "CRM_PG_URL": pg_url,
        "EVENTS_BROKER_URL": amqp_url,
        "CRM_DB_PREFIX": f"iso_{tag}_",
        "EVENTS_EXCHANGE": f"iso.{tag}.events",
        "EVENTS_QUEUE_PREFIX": f"iso.{tag}",
        "CRM_PORT": str(port_base),
        "CRM_SERVICE_PORT_BASE": str(port_base + 1),
        "CRM_GATEWAY_APP_PORT": str(port_base + 5),
        "CRM_WORKER_PORT_BASE": str(port_base + 6),
        "CRM_RUN_DIR": run_dir,
        "CRM_UP_TIMEOUT": "90",
        "GATEWAY_REDIS_PREFIX": f"iso-{tag}",
    }


def purge(s: dict[str, Any]) -> None:
    """Drop this copy's databases, broker objects, broker users and gateway counters (after ``down``)."""
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
    exchange, prefix = s["exchange"], s["queue_prefix"]
    delays = os.environ.get("EVENTS_RETRY_DELAYS", "1,5,30").split(",")
    with kombu.Connection(s["amqp"], connect_timeout=5) as conn:
        channel = conn.channel()
        for service in SERVICES:
            base = f"{prefix}.{service}"
            retries = [f"{base}.{kind}.{round(float(d) * 1000)}ms" for d in delays if d.strip()
                       for kind in ("delay", "retry")]
            for name in (base, f"{base}.parked", *retries):
                channel.queue_delete(queue=name)
            channel.exchange_delete(exchange=f"{base}.forward")
        for name in (exchange, f"{exchange}.dlx"):
            channel.exchange_delete(exchange=name)
    if _users_file(s).exists():
        users = list(json.loads(_users_file(s).read_text()))
        subprocess.run([str(BIN / "crm-broker-users"), "delete", *_broker_users_args(s),
                        *[arg for user in users for arg in ("--user", user)]],
                       capture_output=True, timeout=120, check=False)


def status(s: dict[str, Any]) -> int:
    sup = _read_pid(Path(s["run_dir"]) / "supervisor.pid")
    print(f"{'supervisor':18} {'running' if sup and _alive(sup) else 'stopped'}"
          f"{f' (pid {sup})' if sup else ''}")
    for name, _, env in process_table(s):
        pid = _read_pid(_pidfile(s, name))
        port = env.get("WORKER_HEALTH_PORT", "")
        print(f"{name:18} {'running' if pid and _alive(pid) else 'stopped'}"
              f"{f' (pid {pid})' if pid else ''}{f' health :{port}' if port else ''}")
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
    if command == "migrate":
        return migrate(s)
    if command == "supervise":  # started by ``up``, detached; not for people
        return supervise(s)
    if command == "purge":  # stop, then drop this copy's databases, queues, users and run dir
        down(s)
        purge(s)
        shutil.rmtree(s["run_dir"], ignore_errors=True)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
