"""Benchmark: webhook fan-out and quiet-hour release of the notify service (PostgreSQL).
Targets: 1,000 events to 5 endpoints, one of which hangs 10 s: the healthy endpoints' delivery
p99 < 500 ms and >= 500 deliveries/s overall; 10,000 quiet-hour deferrals released on time to
the second.

Part 1 records events as the notify handler does (``webhooks.service.record_event`` in its own
transaction, then waking the dispatcher) at ``--rate`` events/s, while the dispatcher runs with
its per-endpoint thread pools against five real HTTP receivers on 127.0.0.1 (four answer 204 at
once, one sleeps 10 s before answering; the policy's 5 s timeout cuts it off). Latency is from
the event's commit to its arrival at the receiver; the rate counts healthy deliveries from the
first commit to the last arrival.

Part 2 queues N customer SMS at 22:30 Shanghai (quiet hours: deferred to 08:00), then runs the
message dispatcher thread on a clock that crosses 08:00:00 in real time (eight seconds after it
starts) and reports how late after 08:00:00 the last one was handed to the (recording) SMS
provider (``sent_at`` is when the provider took it). ``--poll`` runs the previous loop instead.

Per-delivery cost (backlog part): CPU of this process per attempt, SQL statements of the
dispatcher's threads per attempt, TCP connections the receivers accepted per attempt.
``NOTIFY_WEBHOOK_KEEPALIVE=0`` measures without keep-alive (a connection per attempt).

    python bench/notify_webhooks.py [--events 1000] [--rate 250] [--deferrals 10000] [--poll]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchkit import drop_database, percentile, print_table, scratch_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def serve(hang: float, out: str) -> None:
    """A receiver in its own process (so it does not share the dispatcher's interpreter): prints
    its port, answers 204 (after ``hang`` seconds), writes webhook-id → arrival time on SIGTERM."""
    arrivals: dict[str, float] = {}
    started = [0]
    connections = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers (nginx, gunicorn) offer

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            arrivals.setdefault(self.headers["webhook-id"], time.time())
            started[0] += 1
            if hang:
                time.sleep(hang)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def setup(self) -> None:
            connections[0] += 1
            super().setup()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 512

    def finish(*_: Any) -> None:
        result = {"arrivals": arrivals, "started": started[0], "connections": connections[0]}
        Path(out).write_text(json.dumps(result))
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Receiver:
    def __init__(self, hang: float = 0.0) -> None:
        self.out = tempfile.mktemp(suffix=".json")  # noqa: S306 - the child creates it
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(hang), self.out], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}/hook"
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.connections = 0

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        data = json.loads(Path(self.out).read_text())
        self.arrivals, self.count = data["arrivals"], data["started"]
        self.connections = data["connections"]
        Path(self.out).unlink()


def webhooks_part(url: str, events: int, rate: float, burst: bool = False) -> list[list[object]]:
    """``burst``: all events are recorded before the dispatcher starts (a backlog), which
    measures the dispatcher's throughput apart from the producer's pace."""
    from eventbus import new_event
    from notify.webhooks import service
    from notify.wiring import build

    ctx = build(url, "memory://", migrate=True)
    statements = [0]
    main_thread = threading.main_thread()

    def count(*_: Any) -> None:  # the dispatcher's statements, not the bench's own
        if threading.current_thread() is not main_thread:
            statements[0] += 1

    event.listen(ctx.bus.engine, "before_cursor_execute", count)
    fast = [Receiver() for _ in range(4)]
    slow = Receiver(hang=10.0)
    with ctx.bus.session_factory() as s, s.begin():
        for r in [*fast, slow]:
            service.create_endpoint(s, {"url": r.url, "event_types": ["leads.#"]}, "admin", ctx.clock())
    stop = threading.Event()
    threads = [] if burst else ctx.webhooks.start(stop)
    committed: dict[str, float] = {}
    started = time.time()
    cpu = time.process_time()
    try:
        for i in range(events):
            due = started + i / rate
            while not burst and time.time() < due:
                time.sleep(max(0.0, due - time.time()))
            env = new_event(
                source="crm/leads",
                type="leads.lead.registered.v1",
                data={"lead_id": f"lead-{i}", "n": i},
                subject=f"lead-{i}",
            )
            with ctx.bus.session_factory() as s, s.begin():
                service.record_event(s, env.to_dict(), ctx.clock())
            committed[env.id] = time.time()
            ctx.webhooks.wake()
        if burst:
            started = time.time()
            statements[0] = 0
            cpu = time.process_time()
            threads = ctx.webhooks.start(stop)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _succeeded(ctx) < 4 * events:
            time.sleep(0.2)
        cpu = time.process_time() - cpu
        sql = statements[0]
    finally:
        stop.set()
        ctx.webhooks.wake()
        for t in threads:
            t.join(15)
        ctx.webhooks.drain(15)  # the hanging endpoint's last attempts end on the 5 s timeout
        for r in [*fast, slow]:
            r.close()
        ctx.bus.engine.dispose()
    last = max(max(r.arrivals.values()) for r in fast)
    latencies = [(r.arrivals[e] - committed[e]) * 1000 for r in fast for e in r.arrivals if e in committed]
    healthy = len(latencies)
    elapsed = last - started
    attempts = healthy + slow.count
    cost = [
        ["CPU per delivery (ms, this process)", cpu * 1000 / attempts, "dispatcher + recorder threads"],
        ["SQL statements per delivery", sql / attempts, "claims and attempt records"],
        ["TCP connections per delivery", sum(r.connections for r in [*fast, slow]) / attempts, ""],
    ]
    if burst:
        return [
            ["backlog of events", events, "recorded before the dispatcher starts"],
            ["healthy deliveries (4 endpoints)", healthy, f"of {4 * events}"],
            ["drain time (s)", elapsed, ""],
            ["healthy deliveries/s", healthy / elapsed, "target >= 500"],
            ["hanging endpoint: requests started", slow.count, "its own threads only"],
            *cost,
        ]
    return [
        ["events", events, ""],
        ["healthy deliveries (4 endpoints)", healthy, f"of {4 * events}"],
        ["delivery p50 (ms)", percentile(latencies, 50), ""],
        ["delivery p99 (ms)", percentile(latencies, 99), "target < 500"],
        ["delivery max (ms)", max(latencies), ""],
        ["healthy deliveries/s (paced by the producer)", healthy / elapsed, ""],
        ["hanging endpoint: requests started", slow.count, "its own threads only"],
    ]


def _succeeded(ctx: Any) -> int:
    from sqlalchemy import func, select

    from notify.webhooks.models import WebhookDelivery

    with ctx.bus.session_factory() as s:
        return int(s.scalar(select(func.count()).where(WebhookDelivery.state == "succeeded")) or 0)


def _sent(ctx: Any) -> int:
    from sqlalchemy import func, select

    from notify.messages.models import Message

    with ctx.bus.session_factory() as s:
        return int(s.scalar(select(func.count()).where(Message.state == "sent")) or 0)


def deferral_part(url: str, count: int, poll: bool = False) -> list[list[object]]:
    from sqlalchemy import func, select

    from notify.messages import rules
    from notify.messages import service as messages
    from notify.messages.models import Message
    from notify.policy.service import current_policy
    from notify.wiring import build

    evening = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    morning = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    clock_base: list[Any] = [evening, None]

    def clock() -> datetime:
        if clock_base[1] is None:
            return clock_base[0]
        return clock_base[0] + timedelta(seconds=time.monotonic() - clock_base[1])

    ctx = build(url, "memory://", migrate=True, clock=clock)
    t0 = time.monotonic()
    with ctx.bus.session_factory() as s, s.begin():
        policy = current_policy(s)
        for i in range(count):
            messages.enqueue(
                s,
                rules.MessageDraft(
                    channel=rules.SMS,
                    audience=rules.CUSTOMER,
                    recipient_id=f"acc-{i}",
                    address=f"+86138{i:08d}",
                    subject="上门提醒",
                    body="王总,您好!明天上午10点上门服务。本公司客服部",
                    purpose="reminder",
                    salutation="王总",
                    sender_name="客服部",
                ),
                evening,
                policy,
                key=f"bench-{i}",
            )
    queued_s = time.monotonic() - t0
    with ctx.bus.session_factory() as s:
        deferred = s.scalar(
            select(func.count()).where(Message.state == rules.DEFERRED, Message.next_attempt_at == morning)
        )
    # The clock crosses 08:00:00 eight seconds from now, with the dispatcher already running (as it
    # does all night). --poll: the previous way, a pass every 100 ms that sends what is due.
    lead = 8.0
    clock_base[0], clock_base[1] = morning - timedelta(seconds=lead), time.monotonic()
    stop = threading.Event()
    threads = [] if poll else ctx.messages.start(stop)
    deadline = time.monotonic() + lead + 120
    try:
        while time.monotonic() < deadline:
            if poll:
                ctx.dispatch_messages()
            if _sent(ctx) >= count:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        if threads:
            ctx.messages.wake()
        for t in threads:
            t.join(30)
    with ctx.bus.session_factory() as s:
        early = s.scalar(select(func.count()).where(Message.sent_at < morning))
        first = s.scalar(select(func.min(Message.sent_at)))
        last = s.scalar(select(func.max(Message.sent_at)))
        sent = s.scalar(select(func.count()).where(Message.state == rules.SENT))
    ctx.bus.engine.dispose()
    lateness = (last - morning).total_seconds() if last else float("nan")
    return [
        ["deferrals queued", count, f"in {queued_s:.1f} s"],
        ["deferred to 08:00:00 Shanghai", deferred, ""],
        ["sent before 08:00:00", early, "must be 0"],
        ["sent", sent, ""],
        ["first one after 08:00:00 (s)", (first - morning).total_seconds() if first else float("nan"), ""],
        ["last one after 08:00:00 (s)", lateness, "target <= 1"],
    ]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=250.0, help="events per second")
    parser.add_argument("--deferrals", type=int, default=10000)
    parser.add_argument("--skip-webhooks", action="store_true", help="only the quiet-hour part")
    parser.add_argument(
        "--poll", action="store_true", help="quiet hours: the old dispatcher loop (a pass every 100 ms)"
    )
    parser.add_argument("--serve", nargs=2, metavar=("HANG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(float(args.serve[0]), args.serve[1])
        return
    os.environ.update(
        {
            "NOTIFY_WEBHOOK_KEEPALIVE": os.environ.get("NOTIFY_WEBHOOK_KEEPALIVE", "1"),
            "NOTIFY_WEBHOOK_DEVELOPMENT": "1",
            "NOTIFY_WEBHOOK_ALLOW": "127.0.0.1",
            "NOTIFY_WEBHOOK_INTERVAL": "0.05",
            "NOTIFY_WEBHOOK_WORKERS": "8",
            "LOG_LEVEL": "WARNING",
        }
    )
    for burst in [] if args.skip_webhooks else [False, True]:
        name, url = scratch_database("bench_notify")
        try:
            rows = webhooks_part(url, args.events, args.rate, burst=burst)
            title = (
                f"Webhooks throughput: a backlog of {args.events} events x 5 endpoints (one hangs 10 s)"
                if burst
                else f"Webhooks latency: {args.events} events x 5 endpoints (one hangs 10 s), "
                f"{args.rate:g} events/s"
            )
            print_table(f"{title}; load {_load()}", ["measure", "value", "note"], rows)
        finally:
            drop_database(name)
    name, url = scratch_database("bench_notify")
    try:
        rows = deferral_part(url, args.deferrals, poll=args.poll)
        how = "polled every 100 ms" if args.poll else "dispatcher sleeping until due"
        print_table(
            f"Quiet hours: {args.deferrals} customer SMS deferred, released at 08:00 ({how}); load {_load()}",
            ["measure", "value", "note"],
            rows,
        )
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
