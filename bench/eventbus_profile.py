"""Profile of the durable event pipeline, relay and consumer measured apart (issue 12).

1. Relay: N events are committed to the outbox, then one relay drains them to a quorum queue
   (publisher confirms). Counted: SQL statements and commits, broker publish calls, confirm
   waits (time blocked in ``drain_events`` for confirms) and time in ``sendall`` (broker flow
   control shows up there).
2. Consumer: one consumer (in this process) takes the N queued events through the inbox and
   the handler. Counted: statements, commits, batch sizes, acks.

    python bench/eventbus_profile.py [--events 5000] [--legacy]

``--legacy`` profiles ``libs/eventbus`` as it is at ``--before-ref`` (default ``3511bab``,
main before issue 12 item 3);
``BENCH_MODE=after+batch`` uses a batched handler (``Subscription.batched``).
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
import uuid
from collections import Counter
from typing import Any

from eventbus_throughput import (
    BEFORE_REF,
    EFFECTS,
    EVENT_TYPE,
    METADATA,
    _bus,
    _delete_queues,
    export_before,
    set_mode,
)
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from benchkit import drop_database, print_table, scratch_database


class Probe:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def attach(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _stmt(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            self.counts["statements"] += 1
            self.counts["stmt:" + statement.split()[0].upper()] += 1

        @event.listens_for(engine, "commit")
        def _commit(conn):  # type: ignore[no-untyped-def]
            self.counts["commits"] += 1

    def wrap(self, obj: Any, name: str, key: str) -> None:
        original = getattr(obj, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.counts[key] += 1
                self.seconds[key] += time.perf_counter() - t

        setattr(obj, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--legacy", action="store_true",
                        help="profile libs/eventbus as it is at --before-ref instead")
    parser.add_argument("--before-ref", default=BEFORE_REF)
    parser.add_argument("--cprofile", action="store_true", help="print the consumer's cProfile")
    args = parser.parse_args()
    if args.legacy:
        os.environ["BENCH_BEFORE_EVENTBUS"] = export_before(args.before_ref)
        set_mode("before")
    else:
        set_mode(os.environ.get("BENCH_MODE", "after"))
    n = args.events
    tag = uuid.uuid4().hex[:8]
    os.environ["EVENTS_EXCHANGE"] = f"bench.{tag}.events"
    os.environ["EVENTS_QUEUE_PREFIX"] = f"bench.{tag}"
    name, db_url = scratch_database()
    try:
        bus = _bus(db_url, 100)
        watcher = create_engine(db_url, pool_size=1)  # its polls are not counted
        METADATA.create_all(bus.engine)
        bus.broker.declare(bus.topology)
        from eventbus import new_event
        from eventbus.store import add_to_outbox

        for start in range(0, n, 500):
            with Session(bus.engine) as s, s.begin():
                for i in range(start, min(n, start + 500)):
                    add_to_outbox(s, bus.outbox, new_event(source="bench", type=EVENT_TYPE, data={"n": i}))

        # --- relay -------------------------------------------------------------------------
        relay = Probe()
        relay.attach(bus.engine)
        import amqp.transport
        import kombu

        real_drain = kombu.Connection.drain_events
        relay.wrap(kombu.Connection, "drain_events", "drain_events (confirm waits)")
        real_sendall = socket.socket.sendall
        sent_seconds = [0.0]

        def sendall(self: socket.socket, data: Any, *a: Any) -> Any:
            t = time.perf_counter()
            try:
                return real_sendall(self, data, *a)
            finally:
                sent_seconds[0] += time.perf_counter() - t

        amqp.transport.socket.socket.sendall = sendall  # type: ignore[method-assign]
        t0 = time.perf_counter()
        stop = threading.Event()
        relay_done = threading.Event()

        def watch() -> None:
            with Session(watcher) as s:
                while not stop.is_set():
                    left = s.execute(select(func.count()).select_from(bus.outbox)
                                     .where(bus.outbox.c.sent_at.is_(None))).scalar_one()
                    s.rollback()
                    if left == 0:
                        relay_done.set()
                        stop.set()
                    else:
                        time.sleep(0.02)

        relay_thread = threading.Thread(target=bus.relay.run, args=(stop,), daemon=True)
        relay_thread.start()
        watch_thread = threading.Thread(target=watch, daemon=True)
        watch_thread.start()
        relay_done.wait(600)
        relay_seconds = time.perf_counter() - t0
        relay_thread.join(10)
        watch_thread.join(5)
        socket.socket.sendall = real_sendall  # type: ignore[method-assign]
        kombu.Connection.drain_events = real_drain  # type: ignore[method-assign]
        r_counts, r_secs, r_send = Counter(relay.counts), Counter(relay.seconds), sent_seconds[0]
        relay.counts.clear()  # its listeners stay attached; the consumer's are counted apart
        # --- consumer ----------------------------------------------------------------------
        consumer = Probe()
        consumer.attach(bus.engine)
        batches: list[int] = []
        real_handle = bus.consumer.handle_batch

        def handle_batch(deliveries: list[Any]) -> None:
            batches.append(len(deliveries))
            real_handle(deliveries)

        stop2 = threading.Event()
        finished = [0.0]

        def wait_inbox() -> None:
            with Session(watcher) as s:
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    done = s.execute(select(func.count()).select_from(bus.inbox)).scalar_one()
                    s.rollback()
                    if done >= n:
                        break
                    time.sleep(0.02)
            finished[0] = time.perf_counter()
            stop2.set()

        waiter = threading.Thread(target=wait_inbox, daemon=True)
        t1 = time.perf_counter()
        waiter.start()
        if args.cprofile:  # the consumer in this thread, under cProfile
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(bus.broker.consume_batches, bus.topology, handle_batch, stop2,
                         bus.consumer_batch)
            pstats.Stats(prof).sort_stats("tottime").print_stats(40)
        else:
            bus.broker.consume_batches(bus.topology, handle_batch, stop2, bus.consumer_batch)
        waiter.join(10)
        consumer_seconds = finished[0] - t1
        with Session(bus.engine) as s:
            effects = s.execute(select(func.count()).select_from(EFFECTS)).scalar_one()
        c_counts = Counter(consumer.counts)
        bus.broker.close()
        bus.engine.dispose()
        watcher.dispose()
        _delete_queues(bus.topology)
    finally:
        drop_database(name)

    mode = "legacy" if args.legacy else "current"
    rows = [
        ("relay", mode, n, relay_seconds, n / relay_seconds,
         r_counts["statements"] / n, r_counts["commits"] / n,
         f"{r_counts['drain_events (confirm waits)']} waits, {r_secs['drain_events (confirm waits)']:.2f} s",
         f"{r_send:.2f} s"),
        ("consumer", mode, effects, consumer_seconds, n / consumer_seconds,
         c_counts["statements"] / n, c_counts["commits"] / n,
         f"{len(batches)} batches, mean {sum(batches) / max(1, len(batches)):.1f}", "-"),
    ]
    print_table(f"Event pipeline profile ({mode})", (
        "stage", "mode", "events", "seconds", "events/s", "stmts/event", "commits/event",
        "confirm waits / batches", "sendall"), rows)
    print("relay statements:", {k: v for k, v in r_counts.items() if k.startswith("stmt:")})
    print("consumer statements:", {k: v for k, v in c_counts.items() if k.startswith("stmt:")})
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
