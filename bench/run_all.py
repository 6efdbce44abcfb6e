"""Run every benchmark against the local PostgreSQL and RabbitMQ and print their tables
(`make bench`). Each runs in its own process; run a single script directly to change its
arguments (each has --help)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    ("eventbus_throughput.py", ["--events", "20000", "--consumers", "2", "--rounds", "2"]),
    ("slice_latency.py", ["--samples", "100"]),
    ("gateway_overhead.py", ["--seconds", "10"]),
    ("service_hotpath.py", ["--requests", "300", "--rounds", "5"]),
    ("leads_dedupe.py", []),
    ("support_tickets.py", []),
    ("accounts_archive.py", []),
    ("accounts_credit.py", ["--compare"]),
    ("notify_webhooks.py", []),
]


def main() -> int:
    failed = 0
    for script, args in BENCHMARKS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
