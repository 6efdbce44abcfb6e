"""Benchmark 2: latency of the slice "convert a lead" → "the owner's notification is visible
through the API", at light load (one conversion at a time), in distributed mode on real
PostgreSQL and RabbitMQ. Target: p99 < 300 ms.

The clock starts just before POST /convert and stops when GET /notify/notifications first
lists the notification; the API is polled every 2 ms, so figures include up to one poll.

    python bench/slice_latency.py [--samples 100]
"""

from __future__ import annotations

import argparse
import time

import httpx

from benchkit import DistributedSystem, median, percentile, print_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    latencies: list[float] = []
    with DistributedSystem() as system:
        headers = {"Authorization": f"Bearer {system.token('rep1')}"}
        with httpx.Client(base_url=system.gateway, headers=headers, timeout=10) as client:
            for i in range(args.samples + 5):
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
    print_table(
        "Slice latency: POST convert → notification visible via the gateway (ms)",
        ("samples", "p50", "p90", "p99", "max"),
        [(len(latencies), median(latencies), percentile(latencies, 90),
          percentile(latencies, 99), max(latencies))],
    )
    print("target: p99 < 300 ms (path: leads outbox → relay → RabbitMQ → accounts → relay → "
          "RabbitMQ → notify → API)")


if __name__ == "__main__":
    main()
