"""Benchmark 3: gateway overhead. Requests/s of one authenticated GET (a lead by id) sent
through the gateway vs. straight to the leads service, under the same closed-loop load from
the same client processes. Target: ≤ 25 % loss through the gateway.

    python bench/gateway_overhead.py [--seconds 10] [--clients 4] [--connections 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

import httpx

from benchkit import DistributedSystem, median, percentile, print_table


def _load(url: str, headers: dict[str, str], seconds: float, connections: int,
          out: mp.Queue) -> None:  # type: ignore[type-arg]
    import threading

    counts: list[int] = []
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        n, lats, errs = 0, [], 0
        with httpx.Client(headers=headers, timeout=10) as client:
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                if client.get(url).status_code == 200:
                    n += 1
                    lats.append(time.perf_counter() - t)
                else:
                    errs += 1
        with lock:
            counts.append(n)
            latencies.extend(lats)
            errors[0] += errs

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(counts), latencies, errors[0]))


def measure(url: str, headers: dict[str, str], seconds: float, clients: int,
            connections: int) -> tuple[float, float, float, int]:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_load, args=(url, headers, seconds, connections, out))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    total = sum(r[0] for r in results)
    lats = [x for r in results for x in r[1]]
    errors = sum(r[2] for r in results)
    return total / seconds, median(lats) * 1000, percentile(lats, 99) * 1000, errors


def _tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn master + workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(pid, 0.0) for pid in tree)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    with DistributedSystem() as system:
        headers = {"Authorization": f"Bearer {system.token('rep1')}"}
        lead = httpx.post(f"{system.gateway}/api/v1/leads", headers=headers, timeout=10, json={
            "name": "Bench", "phone": "+8613800138000", "source": "walk_in"}).json()
        path = f"/api/v1/leads/{lead['id']}"
        targets = [("direct to leads", system.service_url(0) + path),
                   ("through gateway", system.gateway + path)]
        for _, url in targets:  # warm both paths (JWKS cache, connections)
            measure(url, headers, 2, 1, 2)
        pids = {name: int((Path(system.run_dir) / f"{name}.pid").read_text())
                for name in ("gateway", "leads-web")}
        rows = []
        for name, url in targets:
            before = {n: _tree_cpu_seconds(pid) for n, pid in pids.items()}
            rps, p50, p99, errors = measure(url, headers, args.seconds, args.clients, args.connections)
            requests = rps * args.seconds
            cpu = {n: (_tree_cpu_seconds(pid) - before[n]) * 1000 / requests for n, pid in pids.items()}
            rows.append([name, rps, p50, p99, errors, cpu["leads-web"], cpu["gateway"]])
    loss = 100 * (1 - rows[1][1] / rows[0][1])
    rows[0].append("")
    rows[1].append(f"{loss:.1f} %")
    print_table(
        f"Gateway overhead: GET one lead, {args.clients} client processes x "
        f"{args.connections} keep-alive connections, {args.seconds:.0f} s each",
        ("path", "req/s", "p50 ms", "p99 ms", "errors", "leads CPU ms/req", "gateway CPU ms/req",
         "loss"), rows)
    print("target: ≤ 25 % fewer req/s through the gateway")


if __name__ == "__main__":
    main()
