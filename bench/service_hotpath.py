"""Benchmark: CPU per request of one service (leads), before and after the shared-library
changes of issue 12, side by side in one process and one run (docs/performance.md).

Both variants are the real leads app on the same PostgreSQL database, built by the same code;
"before" restores what the libraries did earlier: SQLAlchemy's ``pool_pre_ping`` (a ``SELECT 1``
round trip per checkout) instead of the socket check, plain ``Flask`` (stdlib JSON, async check
per hook), a second URL binding in the method check, marshmallow's generic dump path, and (in
process) the leads API's ORM reads in a transaction instead of one-round-trip Core reads.
Requests are WSGI calls with a rep's token (verified once, then cached, in both). Rounds
alternate the variants so that machine load hits both alike; CPU time (``time.process_time``)
is what is compared, not wall time.

With ``--http`` both variants also run under crm-web (2 workers x 4 threads, as `make up`)
and closed-loop clients measure req/s and the server's CPU per request.

    python bench/service_hotpath.py [--requests 500] [--rounds 5] [--http] [--seconds 8]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchkit import drop_database, machine_speed, median, print_table, scratch_database

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("before", "after")


@contextlib.contextmanager
def before_libraries() -> Iterator[None]:
    """Build apps and engines as the libraries did before issue 12."""
    import flask

    import httpapi.app
    import httpapi.hardening
    import httpapi.service
    from servicedb import create_service_engine

    saved = (httpapi.app.FastFlask, httpapi.hardening.request_ctx, httpapi.service.create_service_engine)
    httpapi.app.FastFlask = flask.Flask  # type: ignore[misc]
    httpapi.hardening.request_ctx = types.SimpleNamespace(url_adapter=None)  # type: ignore[assignment]
    httpapi.service.create_service_engine = functools.partial(create_service_engine, pool_pre_ping=True)
    try:
        yield
    finally:
        httpapi.app.FastFlask, httpapi.hardening.request_ctx, httpapi.service.create_service_engine = saved


def build_app(variant: str, db_url: str, verifier: Any) -> Any:
    import httpapi.fastdump
    from leads.app import create_app
    from leads.wiring import build

    with before_libraries() if variant == "before" else contextlib.nullcontext():
        ctx = build(db_url, "memory://", migrate=False)
        app = create_app(ctx, verifier=verifier)
    httpapi.fastdump.ENABLED = variant == "after"  # over HTTP: one variant per process
    return app


def _orm_reads() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The leads API's hot reads as they were before issue 12: ``Session.get`` / ORM selects in
    a transaction (BEGIN, SELECT, ROLLBACK), ORM instances read attribute by attribute."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from leads.intake.models import Lead

    names = list(Lead.__table__.c.keys())

    def one(engine: Any, stmt: Any, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        key = params["lead_id"] if params else stmt.whereclause.right.value
        with Session(engine) as session:
            lead = session.get(Lead, key)
            return None if lead is None else {n: getattr(lead, n) for n in names}

    def rows(engine: Any, stmt: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        orm = select(Lead).where(*stmt._where_criteria).order_by(*stmt._order_by_clauses)
        with Session(engine) as session:
            return [{n: getattr(lead, n) for n in names}
                    for lead in session.scalars(orm.limit(stmt._limit))]

    return one, rows


def _wsgi_caller(app: Any, path: str, headers: dict[str, str], variant: str) -> Callable[[], None]:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, headers=headers).get_environ()

    import httpapi.fastdump
    import leads.intake.leads_api as leads_api
    from servicedb import read_one, read_rows

    fast_dump = variant == "after"
    reads = (read_one, read_rows) if variant == "after" else _orm_reads()

    def call() -> None:
        httpapi.fastdump.ENABLED = fast_dump
        leads_api.read_one, leads_api.read_rows = reads  # type: ignore[attr-defined]
        status: list[str] = []
        body = app(dict(environ), lambda s, h, e=None: status.append(s))
        try:
            b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        if not status or not status[0].startswith("200"):
            raise RuntimeError(f"{path}: {status}")

    return call


def in_process(db_url: str, requests: int, rounds: int) -> list[list[object]]:
    sys.path.insert(0, str(ROOT / "tests"))
    from testkit.issuer import TestIssuer

    issuer = TestIssuer()
    headers = issuer.headers("rep1", "sales_rep", team="east")
    apps = {v: build_app(v, db_url, issuer.verifier()) for v in VARIANTS}
    client = apps["after"].test_client()
    ids = []
    for i in range(20):
        resp = client.post("/api/v1/leads", headers=headers, json={
            "name": f"Bench {i}", "phone": f"+86138001{i:05d}", "source": "walk_in"})
        assert resp.status_code == 201, resp.get_json()
        ids.append(resp.get_json()["id"])
    paths = {"GET /api/v1/leads/{id}": f"/api/v1/leads/{ids[0]}",
             "GET /api/v1/leads?limit=20": "/api/v1/leads?limit=20",
             "GET /healthz (no token, no db)": "/healthz"}
    rows: list[list[object]] = []
    for label, path in paths.items():
        calls = {v: _wsgi_caller(apps[v], path, headers, v) for v in VARIANTS}
        for call in calls.values():  # warm: prepared statements, caches, token verified once
            for _ in range(50):
                call()
        cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(rounds):
            for variant, call in calls.items():
                started = time.process_time()
                for _ in range(requests):
                    call()
                cpu[variant].append((time.process_time() - started) / requests)
        before, after = median(cpu["before"]), median(cpu["after"])
        rows.append([label, before * 1e6, after * 1e6, 1 / before, 1 / after, before / after])
    return rows


# --- under crm-web -------------------------------------------------------------------------

def http_app() -> Any:
    """``crm-web 'service_hotpath:http_app()'``: the variant, the database and the public key
    come from the environment the benchmark sets."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from authn import Verifier

    key = load_pem_public_key(os.environ["BENCH_PUBLIC_KEY"].encode())
    return build_app(os.environ["BENCH_VARIANT"], os.environ["BENCH_DB_URL"],
                     Verifier(public_keys=[key], issuer=os.environ["BENCH_ISSUER"]))


def over_http(db_url: str, seconds: float, clients: int, connections: int) -> list[list[object]]:
    import subprocess

    import httpx
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from gateway_overhead import _tree_cpu_seconds, measure  # same load generator
    sys.path.insert(0, str(ROOT / "tests"))
    from testkit.issuer import TestIssuer
    from testkit.ports import free_port_block

    issuer = TestIssuer()
    headers = issuer.headers("rep1", "sales_rep", team="east")
    pem = issuer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    base = free_port_block(2)
    env = {**os.environ, "BENCH_DB_URL": db_url, "BENCH_PUBLIC_KEY": pem, "BENCH_ISSUER": issuer.ISSUER,
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT / "bench")}
    procs = {}
    for i, variant in enumerate(VARIANTS):
        procs[variant] = subprocess.Popen(
            [str(Path(sys.executable).parent / "crm-web"), "--bind", f"127.0.0.1:{base + i}",
             "--workers", "2", "--threads", "4", "service_hotpath:http_app()"],
            env={**env, "PROMETHEUS_MULTIPROC_DIR": "", "BENCH_VARIANT": variant}, cwd=str(ROOT / "bench"))
    try:
        urls = {v: f"http://127.0.0.1:{base + i}" for i, v in enumerate(VARIANTS)}
        for url in urls.values():
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not start")
                time.sleep(0.2)
        lead = httpx.post(f"{urls['after']}/api/v1/leads", headers=headers, timeout=10, json={
            "name": "Bench HTTP", "phone": "+8613800199999", "source": "walk_in"}).json()
        path = f"/api/v1/leads/{lead['id']}"
        for url in urls.values():
            measure(url + path, headers, 2, 1, 2)  # warm
        rows: list[list[object]] = []
        results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in VARIANTS}
        for _ in range(2):  # before, after, before, after: load changes hit both
            for variant, url in urls.items():
                cpu0 = _tree_cpu_seconds(procs[variant].pid)
                rps, p50, _p99, errors = measure(url + path, headers, seconds, clients, connections)
                cpu = (_tree_cpu_seconds(procs[variant].pid) - cpu0) * 1000 / max(1.0, rps * seconds)
                results[variant].append((rps, p50, cpu))
                if errors:
                    print(f"{variant}: {errors} errors", file=sys.stderr)
        for variant in VARIANTS:
            rps = median(r[0] for r in results[variant])
            rows.append([variant, rps, median(r[1] for r in results[variant]),
                         median(r[2] for r in results[variant])])
        for row in rows:
            row.append(row[1] / rows[0][1])
            row.append(rows[0][3] / row[3])
        return rows
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500, help="WSGI calls per round and variant")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--http", action="store_true", help="also under crm-web, over HTTP")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    name, db_url = scratch_database("hotpath")
    try:
        from leads.wiring import build

        build(db_url, "memory://", migrate=True).bus.engine.dispose()
        rows = in_process(db_url, args.requests, args.rounds)
        print_table(f"Service hot path, leads app in-process: CPU per request, median of "
                    f"{args.rounds} alternating rounds x {args.requests} requests",
                    ("request", "before µs", "after µs", "before req/CPU-s", "after req/CPU-s",
                     "after/before"), rows)
        if args.http:
            http_rows = over_http(db_url, args.seconds, args.clients, args.connections)
            print_table(f"Same GET /api/v1/leads/{{id}} under crm-web (2 workers x 4 threads), "
                        f"{args.clients} client processes x {args.connections} connections, "
                        f"{args.seconds:.0f} s x 2 per variant",
                        ("libraries", "req/s", "p50 ms", "server CPU ms/req", "req/s ratio",
                         "req per CPU ratio"), http_rows)
        print(f"load while measuring (1-min load average, {os.cpu_count()} cores): "
              f"{os.getloadavg()[0]:.1f}")
        print(machine_speed())
        print("target: after/before ≥ 2 requests per CPU (issue 12); see docs/performance.md")
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
