"""Benchmark 1: end-to-end events/s from outbox commit to consumer commit (inbox included),
on real PostgreSQL and RabbitMQ (publisher confirms, quorum queue), for relay batch sizes 1
and 100, then the pipeline before and after issue 12 item 3 side by side (alternating runs).

The outbox is filled first (N committed events); the clock starts when the relay and the
consumer processes start and stops when the consumer's inbox holds N rows. Target (issue 12):
≥ 3,000 events/s with relay batch 100 and 2 consumer processes on a 2-core machine, effects =
events.

Pipelines: ``before`` = ``libs/eventbus`` as it is at ``--before-ref`` (default ``3511bab``: one
relay batch at a time, prefetch 50, an ack per message), one INSERT per event in the handler;
``after`` = this checkout (a window of 4 unconfirmed relay batches, prefetch 100, one ack per
batch), same per-event handler; ``after+batch`` = the same with the handler as a
``Subscription.batched`` (one INSERT for the batch's effects).

    python bench/eventbus_throughput.py [--events 20000] [--consumers 2] [--batches 100] [--rounds 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select, text
from sqlalchemy.orm import Session

from benchkit import AMQP_URL, drop_database, print_table, scratch_database

METADATA = MetaData()
EFFECTS = Table("effects", METADATA, Column("id", Integer, primary_key=True),
                Column("event_id", String(36), nullable=False))
EVENT_TYPE = "bench.item.created.v1"


MODES = ("before", "after", "after+batch")
# main just before issue 12 item 3 (relay window, prefetch 2 x batch, batch acks, batched
# handlers); main itself has them since they were merged.
BEFORE_REF = "3511bab"


def set_mode(mode: str) -> None:
    """Select the pipeline in this process, before anything imports ``eventbus``: ``before``
    is the library as it is at ``--before-ref`` (exported by ``main()``), the others this
    checkout's."""
    if mode == "before":
        path = os.environ.get("BENCH_BEFORE_EVENTBUS")
        if not path:
            raise RuntimeError("the 'before' pipeline needs BENCH_BEFORE_EVENTBUS (set by main())")
        sys.path.insert(0, path)
        import eventbus

        assert eventbus.__file__ and eventbus.__file__.startswith(path), eventbus.__file__
    os.environ["BENCH_HANDLER"] = "batched" if mode == "after+batch" else "per-event"


def export_before(ref: str) -> str:
    """``libs/eventbus`` as it is at ``ref``, in a temporary directory; returns its path."""
    root = pathlib.Path(__file__).resolve().parents[1]
    target = tempfile.mkdtemp(prefix="bench-eventbus-before-")
    archive = subprocess.run(["git", "-C", str(root), "archive", ref, "libs/eventbus/eventbus"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    return os.path.join(target, "libs", "eventbus")


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


def _run_relay(db_url: str, batch: int, stop: mp.Event, mode: str, cpu: mp.Queue) -> None:  # type: ignore[valid-type]
    set_mode(mode)
    bus = _bus(db_url, batch)
    flag = threading.Event()
    t = threading.Thread(target=bus.relay.run, args=(flag,), daemon=True)
    begin = time.process_time()  # imports and start-up are not the pipeline's cost
    t.start()
    stop.wait()  # type: ignore[attr-defined]
    cpu.put(("relay", time.process_time() - begin))  # type: ignore[attr-defined]
    flag.set()
    t.join(5)


def _run_consumer(db_url: str, stop: mp.Event, mode: str, cpu: mp.Queue) -> None:  # type: ignore[valid-type]
    set_mode(mode)
    bus = _bus(db_url, 100)
    flag = threading.Event()
    # As a worker runs it: batches of what has arrived, one transaction each.
    t = threading.Thread(target=bus.broker.consume_batches,
                         args=(bus.topology, bus.consumer.handle_batch, flag, bus.consumer_batch),
                         daemon=True)
    begin = time.process_time()
    t.start()
    stop.wait()  # type: ignore[attr-defined]
    cpu.put(("consumers", time.process_time() - begin))  # type: ignore[attr-defined]
    flag.set()
    t.join(5)


def _proc_cpu(pid: int) -> float:
    """utime + stime of a local process, in seconds (0 if it is gone or not ours to read)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _broker_pid() -> int | None:
    import subprocess

    out = subprocess.run(["pgrep", "-o", "beam.smp"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def run_case(events: int, batch: int, consumers: int, mode: str = "after") -> tuple[float, int]:
    elapsed, effects, _ = run_case_cpu(events, batch, consumers, mode)
    return elapsed, effects


def run_case_cpu(events: int, batch: int, consumers: int,
                 mode: str = "after") -> tuple[float, int, dict[str, float]]:
    """Seconds, effects, and CPU seconds spent by each part while the events went through:
    the relay, the consumer processes, their PostgreSQL backends, and the whole RabbitMQ
    node (shared with whatever else uses it: an upper bound)."""
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
        cpu_q = ctx.Queue()
        procs = [ctx.Process(target=_run_consumer, args=(db_url, stop, mode, cpu_q))
                 for _ in range(consumers)]
        procs.append(ctx.Process(target=_run_relay, args=(db_url, batch, stop, mode, cpu_q)))
        broker_pid = _broker_pid()
        broker_cpu = _proc_cpu(broker_pid) if broker_pid else 0.0
        started = time.perf_counter()
        for p in procs:
            p.start()
        deadline = time.monotonic() + 600
        with Session(bus.engine) as s:
            own = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
            while True:
                done = s.execute(select(func.count()).select_from(bus.inbox)).scalar_one()
                s.rollback()
                if done >= events or time.monotonic() > deadline:
                    break
                time.sleep(0.05)  # a count(*) scan: polling it faster slows what it measures
            elapsed = time.perf_counter() - started
            cpu: dict[str, float] = {"relay": 0.0, "consumers": 0.0}
            cpu["broker (whole node)"] = (_proc_cpu(broker_pid) - broker_cpu) if broker_pid else 0.0
            backends = s.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = "
                                      "current_database() AND pid <> :own"), {"own": own}).scalars()
            cpu["postgres backends"] = sum(_proc_cpu(pid) for pid in backends)
            s.rollback()
        stop.set()
        for _ in procs:
            try:
                part, seconds = cpu_q.get(timeout=15)
                cpu[part] += seconds
            except Exception:
                break
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
        with Session(bus.engine) as s:
            effects = s.execute(select(func.count()).select_from(EFFECTS)).scalar_one()
        bus.broker.close()
        bus.engine.dispose()
        _delete_queues(bus.topology)
        return elapsed, effects, cpu
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
                        help="alternating rounds of the before/after comparison (batch 100)")
    parser.add_argument("--before-ref", default=BEFORE_REF,
                        help="git ref whose libs/eventbus is the 'before' pipeline")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"pipelines compared, comma-separated, among {', '.join(MODES)}")
    args = parser.parse_args()
    if "before" in args.modes.split(","):
        os.environ["BENCH_BEFORE_EVENTBUS"] = export_before(args.before_ref)
    rows = []
    for batch in (int(b) for b in args.batches.split(",") if b):
        elapsed, effects = run_case(args.events, batch, args.consumers)
        rows.append((batch, args.consumers, args.events, effects, elapsed, args.events / elapsed,
                     f"{os.getloadavg()[0]:.1f}"))
    print_table(
        "Event bus: outbox commit → consumer commit (PostgreSQL + RabbitMQ, confirms, inbox; 'after')",
        ("relay batch", "consumer procs", "events", "effects", "seconds", "events/s", "load"), rows)
    # Side by side in one run: the pipeline before and after issue 12 item 3, alternating.
    modes = [m for m in args.modes.split(",") if m]
    speeds: dict[str, list[float]] = {m: [] for m in modes}
    compare = []
    for _ in range(args.rounds):
        for mode in modes:
            elapsed, effects, cpu = run_case_cpu(args.events, 100, args.consumers, mode)
            speeds[mode].append(args.events / elapsed)
            us = {k: v / args.events * 1e6 for k, v in cpu.items()}
            compare.append((mode, args.events, effects, "yes" if effects == args.events else "NO",
                            elapsed, args.events / elapsed, f"{os.getloadavg()[0]:.1f}",
                            round(us["relay"]), round(us["consumers"]), round(us["postgres backends"]),
                            round(us["broker (whole node)"]), round(sum(us.values()))))
    print_table(f"Before/after, relay batch 100, {args.consumers} consumer processes, alternating runs "
                "(CPU µs per event by part; 2 cores give 2,000,000 µs a second)", (
        "pipeline", "events", "effects", "effects = events", "seconds", "events/s", "load",
        "relay µs", "consumers µs", "postgres µs", "rabbitmq µs", "total µs"), compare)
    before = statistics.median(speeds["before"]) if speeds.get("before") else float("nan")
    print("target: ≥ 3,000 events/s with batch 100 and 2 consumers (issue 12); effects must equal "
          "events (no loss, no double)")
    for mode in (m for m in modes if m != "before"):
        median = statistics.median(speeds[mode])
        print(f"{mode:>12}: {median:,.0f} events/s (median) = {median / 3000:.2f} x target; "
              f"{median / before:.2f}x before ({before:,.0f} events/s)")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
