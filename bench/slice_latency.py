"""Benchmark 2: latency of the slice "convert a lead" → "the owner's notification is visible
through the API", at light load (one conversion at a time), in distributed mode on real
PostgreSQL and RabbitMQ. Target: p99 < 300 ms.

The clock starts just before POST /convert and stops when GET /notify/notifications first
lists the notification; the API is polled every 2 ms, so figures include up to one poll.

``--background-rate N`` (issue 12 item 4: p99 < 50 ms at N = 50) runs N other conversions a
second meanwhile, open loop (each is a new lead, created and converted by another sales rep,
``rep2``, so its notifications go to another owner), and reports the rate achieved.

    python bench/slice_latency.py [--samples 100] [--background-rate 50]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchkit import DistributedSystem, median, percentile, print_table


class Background:
    """Conversions at a fixed rate (open loop: started on schedule, however long each takes)."""

    def __init__(self, system: DistributedSystem, rate: float, workers: int = 32) -> None:
        self.rate = rate
        self.headers = {"Authorization": f"Bearer {system.token('rep2')}"}
        self.gateway = system.gateway
        self.stop = threading.Event()
        self.done = self.failed = self.late = 0
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(workers)
        self.local = threading.local()
        self.thread = threading.Thread(target=self._schedule, daemon=True)
        self.started = self.ended = 0.0

    def _client(self) -> httpx.Client:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(base_url=self.gateway, headers=self.headers,
                                                      timeout=10)
        return client

    def _convert(self, n: int) -> None:
        client = self._client()
        try:
            lead = client.post("/api/v1/leads", json={
                "name": f"Background {n}", "company": f"Background Co {n}",
                "phone": f"+86 139 {n % 10000:04d} {n // 10000 % 10000:04d}", "source": "walk_in"})
            ok = lead.is_success and client.post(
                f"/api/v1/leads/{lead.json()['id']}/convert").status_code == 202
        except httpx.HTTPError:
            ok = False
        with self.lock:
            if ok:
                self.done += 1
            else:
                self.failed += 1

    def _schedule(self) -> None:
        interval = 1 / self.rate
        self.started = next_at = time.perf_counter()
        n = 0
        while not self.stop.is_set():
            self.pool.submit(self._convert, n)
            n += 1
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                self.stop.wait(delay)
            else:
                with self.lock:
                    self.late += 1
        self.ended = time.perf_counter()

    def __enter__(self) -> Background:
        self.thread.start()
        time.sleep(2)  # measure at the steady rate, not the ramp
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def achieved(self) -> float:
        return self.done / max(1e-9, (self.ended or time.perf_counter()) - self.started)


def measure(system: DistributedSystem, samples: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {system.token('rep1')}"}
    with httpx.Client(base_url=system.gateway, headers=headers, timeout=10) as client:
        for i in range(samples + 5):
            lead = client.post("/api/v1/leads", json={
                "name": f"Bench {i}", "company": f"Bench Co {i}",
                "phone": f"+86 138 {i:04d} {i:04d}", "source": "walk_in"}).json()
            started = time.perf_counter()
            resp = client.post(f"/api/v1/leads/{lead['id']}/convert")
            assert resp.status_code == 202, resp.text
            deadline = started + 10
            while True:
                items = client.get("/api/v1/notify/notifications", params={"limit": 5}).json()["items"]
                if any(lead["code"] in n["body"] for n in items):
                    break
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"no notification for {lead['code']} within 10 s")
                time.sleep(0.002)
            if i >= 5:  # the first few warm connections and caches
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--background-rate", type=float, default=0.0,
                        help="other conversions a second meanwhile (issue 12 item 4: 50)")
    args = parser.parse_args()
    with DistributedSystem() as system:
        if args.background_rate > 0:
            with Background(system, args.background_rate) as background:
                latencies = measure(system, args.samples)
            load = os.getloadavg()[0]
            note = (f"background: {background.achieved():.1f} conversions/s achieved of "
                    f"{args.background_rate:g} asked, {background.failed} failed, "
                    f"{background.late} scheduled late")
        else:
            latencies = measure(system, args.samples)
            load = os.getloadavg()[0]
            note = "background: none"
    print_table(
        "Slice latency: POST convert → notification visible via the gateway (ms)",
        ("samples", "background/s", "p50", "p90", "p99", "max", "load"),
        [(len(latencies), args.background_rate, median(latencies), percentile(latencies, 90),
          percentile(latencies, 99), max(latencies), f"{load:.1f}")],
    )
    print(note)
    print("target: p99 < 300 ms at light load; p99 < 50 ms with 50 other conversions a second "
          "(issue 12 item 4). Path: leads outbox → relay → RabbitMQ → accounts → relay → "
          "RabbitMQ → notify → API")


if __name__ == "__main__":
    main()
