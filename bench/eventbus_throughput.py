"""Benchmark 1: end-to-end events/s from outbox commit to consumer commit (inbox included),
on real PostgreSQL and RabbitMQ, for relay batch sizes 1 and 100.

The outbox is filled first (N committed events); the clock starts when the relay and the
consumer processes start and stops when the consumer's inbox holds N rows. Target: ≥ 1,000
events/s with batching on a 2-core machine.

    python bench/eventbus_throughput.py [--events 5000] [--consumers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import threading
import time
import uuid

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select
from sqlalchemy.orm import Session

from benchkit import AMQP_URL, drop_database, print_table, scratch_database

METADATA = MetaData()
EFFECTS = Table("effects", METADATA, Column("id", Integer, primary_key=True),
                Column("event_id", String(36), nullable=False))
EVENT_TYPE = "bench.item.created.v1"


def legacy_mode() -> None:
    """The paths before issue 12 item 3, for side-by-side runs (call before building a bus):
    one relay batch at a time, prefetch = consumer batch, a per-event handler."""
    from eventbus.relay import OutboxRelay

    OutboxRelay.WINDOW = 1
    os.environ["EVENTS_PREFETCH"] = os.environ.get("EVENTS_CONSUMER_BATCH", "50")
    os.environ["BENCH_HANDLER"] = "per-event"


def _bus(db_url: str, batch: int):  # type: ignore[no-untyped-def]
    from eventbus import ServiceBus, Subscription

    os.environ["OUTBOX_BATCH_SIZE"] = str(batch)

    def handle(session, env, data):  # type: ignore[no-untyped-def]
        session.execute(EFFECTS.insert().values(event_id=env.id))

    def handle_many(session, items):  # type: ignore[no-untyped-def]
        session.execute(EFFECTS.insert(), [{"event_id": env.id} for env, _ in items])

    sub = (Subscription(handle) if os.environ.get("BENCH_HANDLER", "per-event") == "per-event"
           else Subscription.batched(handle_many))
    engine = create_engine(db_url, pool_size=6)
    return ServiceBus(service="bench", engine=engine, metadata=METADATA,
                      subscriptions={EVENT_TYPE: sub}, broker_url=AMQP_URL)


def _run_relay(db_url: str, batch: int, stop: mp.Event) -> None:  # type: ignore[valid-type]
    bus = _bus(db_url, batch)
    flag = threading.Event()
    t = threading.Thread(target=bus.relay.run, args=(flag,), daemon=True)
    t.start()
    stop.wait()  # type: ignore[attr-defined]
    flag.set()
    t.join(5)


def _run_consumer(db_url: str, stop: mp.Event, batch_claims: bool = True) -> None:  # type: ignore[valid-type]
    bus = _bus(db_url, 100)
    bus.consumer.BATCH_CLAIMS = batch_claims
    flag = threading.Event()
    # As a worker runs it: batches of what has arrived, one transaction each.
    t = threading.Thread(target=bus.broker.consume_batches,
                         args=(bus.topology, bus.consumer.handle_batch, flag, bus.consumer_batch),
                         daemon=True)
    t.start()
    stop.wait()  # type: ignore[attr-defined]
    flag.set()
    t.join(5)


def run_case(events: int, batch: int, consumers: int, batch_claims: bool = True) -> tuple[float, int]:
    tag = uuid.uuid4().hex[:8]
    os.environ["EVENTS_EXCHANGE"] = f"bench.{tag}.events"
    os.environ["EVENTS_QUEUE_PREFIX"] = f"bench.{tag}"
    name, db_url = scratch_database()
    try:
        bus = _bus(db_url, batch)
        METADATA.create_all(bus.engine)
        bus.broker.declare(bus.topology)
        from eventbus import new_event
        from eventbus.store import add_to_outbox

        for start in range(0, events, 500):
            with Session(bus.engine) as s, s.begin():
                for i in range(start, min(events, start + 500)):
                    add_to_outbox(s, bus.outbox, new_event(source="bench", type=EVENT_TYPE,
                                                           data={"n": i}))
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        procs = [ctx.Process(target=_run_consumer, args=(db_url, stop, batch_claims))
                 for _ in range(consumers)]
        procs.append(ctx.Process(target=_run_relay, args=(db_url, batch, stop)))
        started = time.perf_counter()
        for p in procs:
            p.start()
        deadline = time.monotonic() + 600
        with Session(bus.engine) as s:
            while True:
                done = s.execute(select(func.count()).select_from(bus.inbox)).scalar_one()
                s.rollback()
                if done >= events or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        elapsed = time.perf_counter() - started
        stop.set()
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
        with Session(bus.engine) as s:
            effects = s.execute(select(func.count()).select_from(EFFECTS)).scalar_one()
        bus.broker.close()
        bus.engine.dispose()
        _delete_queues(bus.topology)
        return elapsed, effects
    finally:
        drop_database(name)


def _delete_queues(topology) -> None:  # type: ignore[no-untyped-def]
    import kombu

    with kombu.Connection(AMQP_URL) as conn:
        ch = conn.channel()
        for q in (topology.queue, topology.parking_queue,
                  *(topology.retry_queue(d) for d in topology.retry_delays)):
            ch.queue_delete(queue=q)
        ch.exchange_delete(exchange=topology.exchange)
        ch.exchange_delete(exchange=topology.dlx)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--batches", default="1,100", help="relay batch sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternating rounds of the inbox-claim comparison (batch 100)")
    args = parser.parse_args()
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        elapsed, effects = run_case(args.events, batch, args.consumers)
        rows.append((batch, args.consumers, args.events, effects, elapsed, args.events / elapsed))
    print_table(
        "Event bus: outbox commit → consumer commit (PostgreSQL + RabbitMQ, confirms, inbox)",
        ("relay batch", "consumer procs", "events", "effects", "seconds", "events/s"), rows)
    # Side by side in one run: the consumer claiming a batch's inbox rows in one statement
    # (now) against one statement per event (before issue 12), alternating.
    speeds: dict[bool, list[float]] = {False: [], True: []}
    compare = []
    for _ in range(args.rounds):
        for batch_claims in (False, True):
            elapsed, effects = run_case(args.events, 100, args.consumers, batch_claims)
            speeds[batch_claims].append(args.events / elapsed)
            compare.append(("one per batch" if batch_claims else "one per event", args.events,
                            effects, elapsed, args.events / elapsed))
    print_table("Inbox claims, relay batch 100, alternating runs", (
        "inbox INSERTs", "events", "effects", "seconds", "events/s"), compare)
    ratio = statistics.median(speeds[True]) / statistics.median(speeds[False])
    print(f"batched/per-event claims: {ratio:.2f}x events/s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print("target: ≥ 3,000 events/s with batch 100 and 2 consumers (issue 12); effects must equal "
          "events (no loss, no double)")


if __name__ == "__main__":
    main()
