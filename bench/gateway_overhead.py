"""Benchmark 3: gateway overhead. Requests/s of one authenticated GET (a lead by id) sent
straight to the leads service, through the Python gateway and through the nginx front door
(`gateway.nginx`, what `make up` puts on the gateway's port when nginx is installed), under the
same closed-loop load, in alternating rounds of one run. Every duty stays on: request ids,
per-caller rate limits (raised out of the way, not off: nginx's zones and the Python gateway's
Redis counters are still consulted), timeouts, body limits.

Load: wrk (2 threads x 16 connections, as in issue 12) when installed, else Python clients.
Targets (issue 12): the front door keeps >= 0.85 of direct req/s; direct >= 2,500 req/s.

    python bench/gateway_overhead.py [--seconds 10] [--rounds 2] [--python-clients]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from benchkit import DistributedSystem, machine_speed, median, percentile, print_table


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
    """CPU seconds used so far by a process and its children (web server + its workers)."""
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


def measure_wrk(url: str, headers: dict[str, str], seconds: float, threads: int,
                connections: int) -> tuple[float, float, float, int]:
    """req/s, p50 ms, p99 ms and non-2xx answers, from wrk's own report."""
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(bad[1]) if bad else 0
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rps, ms("50"), ms("99"), errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--python-clients", action="store_true", help="Python load even with wrk")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.python_clients
    with DistributedSystem(proxy="nginx", rate_limit="1000000/second") as system:
        headers = {"Authorization": f"Bearer {system.token('rep1')}"}
        lead = httpx.post(f"{system.gateway}/api/v1/leads", headers=headers, timeout=10, json={
            "name": "Bench", "phone": "+8613800138000", "source": "walk_in"}).json()
        path = f"/api/v1/leads/{lead['id']}"
        targets = [("direct to leads", system.service_url(0) + path, None),
                   ("through the Python gateway", system.gateway_app + path, "gateway-app"),
                   ("through nginx (make up)", system.gateway + path, "gateway")]

        def load(url: str, seconds: float) -> tuple[float, float, float, int]:
            if use_wrk:
                return measure_wrk(url, headers, seconds, args.threads, args.wrk_connections)
            return measure(url, headers, seconds, args.clients, args.connections)

        for _, url, _ in targets:  # warm every path (JWKS cache, connections)
            assert httpx.get(url, headers=headers, timeout=10).status_code == 200, url
            load(url, 2)
        pids = {name: int((Path(system.run_dir) / f"{name}.pid").read_text())
                for name in ("gateway", "gateway-app", "leads-web")}
        totals: dict[str, list[list[float]]] = {name: [] for name, _, _ in targets}
        load_avg = os.getloadavg()[0]
        for _ in range(args.rounds):
            for name, url, proxy in targets:
                before = {n: _tree_cpu_seconds(pid) for n, pid in pids.items()}
                rps, p50, p99, errors = load(url, args.seconds)
                requests = max(1.0, rps * args.seconds)
                cpu = {n: (_tree_cpu_seconds(pid) - before[n]) * 1000 / requests for n, pid in pids.items()}
                totals[name].append([rps, p50, p99, errors, cpu["leads-web"],
                                     cpu[proxy] if proxy else 0.0])
    rows = []
    direct_rps = median([r[0] for r in totals["direct to leads"]])
    for name, _, _ in targets:
        runs = totals[name]
        rps = median([r[0] for r in runs])
        rows.append([name, rps, median([r[1] for r in runs]), median([r[2] for r in runs]),
                     int(sum(r[3] for r in runs)), median([r[4] for r in runs]),
                     median([r[5] for r in runs]), f"{rps / direct_rps:.2f}"])
    how = (f"wrk {args.threads} threads x {args.wrk_connections} connections" if use_wrk
           else f"{args.clients} Python client processes x {args.connections} connections")
    print_table(
        f"Gateway overhead: GET one lead, {how}, {args.seconds:.0f} s per path per round, "
        f"{args.rounds} alternating rounds (medians), load average at start {load_avg:.1f}",
        ("path", "req/s", "p50 ms", "p99 ms", "errors", "leads CPU ms/req", "proxy CPU ms/req",
         "ratio to direct"), rows)
    print(machine_speed())
    print("targets: the front door (nginx, what `make up` runs) >= 0.85 x direct; "
          "direct to leads (crm-web, 2 workers x 4 threads) >= 2,500 req/s (issue 12)")


if __name__ == "__main__":
    main()
