"""Benchmark: credit checks and limit recomputation with 100,000 accounts and 2,000,000 ledger
rows in PostgreSQL. Targets: a credit check p95 < 15 ms (one client), >= 300 checks/s with 8
concurrent clients, zero over-commit, the recomputation of every account's limit < 60 s.

Loads server-side with ``generate_series`` into a scratch database migrated to head: N
accounts (archive approved, graded A-E, effective limit 50,000.00), charges over the last
15 months (those older than 45 days paid on time: one payment and one allocation each; the
rest open), so ledger rows = charges + payments + allocations. Then, through the Flask app
(JWT check, scope, JSON, row lock, reservation):

- single client: ``POST /api/v1/accounts/{id}/credit/checks`` on random accounts;
- 8 clients (processes, each its own app and pool) for a fixed time on random accounts;
- over-commit: 8 clients at once on ONE account with 10,000.00 available, 100.00 each;
- the scheduled recomputation of every standard limit (``limits.service.recompute_all``).

``--compare`` also times the check's earlier path in the same run (the request's own
``web.operation``: the account, the policy, the locked credit row, the order's check and the
default flag in five statements; nine round trips with BEGIN and COMMIT, against five): single-
client samples alternate between the two paths, the 8-client runs alternate in three rounds.

    python bench/accounts_credit.py [--accounts 100000] [--rows 2000000] [--samples 300] [--compare]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from benchkit import drop_database, percentile, print_table, scratch_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
GRADES = "ARRAY['A','B','C','D','E']"


def load(url: str, accounts: int, rows: int) -> None:
    charges = max(accounts, int(rows / 2.8))  # ~90 % paid: + a payment and an allocation each
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO accounts (id, code, name, owner_id, owner_team, status, created_at,
                                  updated_at, version, archive_state, points_balance, grade)
            SELECT md5('a' || a)::uuid::text, 'C-' || lpad(a::text, 7, '0'), 'Account ' || a,
                   'rep' || (a % 200), 'team' || (a % 20), 'active', now(), now(), 1, 'approved', 0,
                   ({GRADES})[1 + a % 5]
            FROM generate_series(1, :n) a"""), {"n": accounts})  # noqa: S608 - constants
        conn.execute(text("""
            INSERT INTO credit_accounts (account_id, currency, standard_limit, effective_limit,
                                         temporary_increase, outstanding, reserved, unapplied,
                                         hold_state, hold_reasons, archive_approved_at, inputs, version)
            SELECT md5('a' || a)::uuid::text, 'CNY', 50000, 50000, 0, 0, 0, 0, 'none', '[]', now(),
                   '{}', 1
            FROM generate_series(1, :n) a"""), {"n": accounts})
        conn.execute(text("""
            INSERT INTO credit_charges (id, account_id, order_id, lead_code, amount, paid, credited,
                                        currency, issued_on, due_on, settled_on, created_at, created_by)
            SELECT md5('c' || i)::uuid::text, md5('a' || (1 + i % :n))::uuid::text, 'SO-' || i, NULL,
                   100 + (i * 37) % 4900, CASE WHEN d > 45 THEN 100 + (i * 37) % 4900 ELSE 0 END, 0,
                   'CNY', current_date - d, current_date - d + 30,
                   CASE WHEN d > 45 THEN current_date - d + 20 END, now(), 'bench'
            FROM (SELECT i, ((i::bigint * 7919) % 450)::int AS d FROM generate_series(1, :c) i) s"""),
            {"n": accounts, "c": charges})
        conn.execute(text("""
            INSERT INTO credit_payments (id, account_id, amount, unallocated, currency, received_on,
                                         reference, created_at, created_by)
            SELECT md5('p' || id)::uuid::text, account_id, amount, 0, 'CNY', settled_on, order_id,
                   now(), 'bench'
            FROM credit_charges WHERE settled_on IS NOT NULL"""))
        conn.execute(text("""
            INSERT INTO credit_allocations (id, payment_id, charge_id, amount, on_date)
            SELECT md5('l' || id)::uuid::text, md5('p' || id)::uuid::text, id, amount, settled_on
            FROM credit_charges WHERE settled_on IS NOT NULL"""))
        conn.execute(text("""
            UPDATE credit_accounts c SET outstanding = o.total
            FROM (SELECT account_id, sum(amount - paid - credited) AS total FROM credit_charges
                  WHERE settled_on IS NULL GROUP BY account_id) o
            WHERE o.account_id = c.account_id"""))
        # The hot account of the over-commit run: exactly 10,000.00 available.
        conn.execute(text("""UPDATE credit_accounts SET effective_limit = outstanding + 10000
                             WHERE account_id = md5('a1')::uuid::text"""))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _client(url: str) -> tuple[Any, Any, Any]:
    from accounts.app import create_app
    from accounts.wiring import build
    from testkit.issuer import TestIssuer

    ctx = build(url, "memory://", migrate=False)
    issuer = TestIssuer()
    client = create_app(ctx, verifier=issuer.verifier()).test_client()
    return ctx, client, issuer.headers("erp", "integration")


_NEW: dict[str, Any] = {}


def _use_old_path(old: bool) -> None:
    """Select the credit check's earlier path (``--compare``): the generic locked operation and
    ``check`` reading the order's check and the default flag itself."""
    from contextlib import contextmanager

    from accounts.credit import web

    _NEW.setdefault("check_operation", web.check_operation)
    if not old:
        web.check_operation = _NEW["check_operation"]
        return

    @contextmanager
    def earlier(account_id: str, order_id: str) -> Any:
        with web.operation(account_id) as op:
            yield op, None

    web.check_operation = earlier


def _check(client: Any, headers: dict[str, str], account: str, amount: str) -> str:
    resp = client.post(f"/api/v1/accounts/{account}/credit/checks", headers=headers,
                       json={"order_id": uuid.uuid4().hex, "amount": amount})
    assert resp.status_code == 201, (resp.status_code, resp.json)
    return str(resp.json["status"])


def _ids(n: int) -> list[str]:
    import hashlib

    return [str(uuid.UUID(hashlib.md5(f"a{i}".encode()).hexdigest())) for i in range(1, n + 1)]  # noqa: S324


def _worker(url: str, accounts: int, seconds: float, hot: bool, old: bool, start: Any,
            out: Any) -> None:
    ctx, client, headers = _client(url)
    _use_old_path(old)
    ids = _ids(accounts)
    rng = random.Random()
    for _ in range(5):
        _check(client, headers, rng.choice(ids[1:]), "1.00")
    start.wait()  # a barrier: every client built and warmed, then all start together
    done, lat, statuses = 0, [], []
    if hot:  # over-commit: 100 checks of 100.00 each on the one account
        for _ in range(100):
            statuses.append(_check(client, headers, ids[0], "100.00"))
    else:
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            _check(client, headers, rng.choice(ids[1:]), f"{rng.randint(1, 9999) / 100:.2f}")
            lat.append((time.perf_counter() - t0) * 1000)
            done += 1
    out.put((done, lat, statuses))
    ctx.bus.engine.dispose()


def _parallel(url: str, accounts: int, clients: int, seconds: float, hot: bool,
              old: bool = False) -> tuple[float, list[float], list[str]]:
    fork = mp.get_context("fork")
    start, out = fork.Barrier(clients + 1, timeout=600), fork.Queue()
    procs = [fork.Process(target=_worker, args=(url, accounts, seconds, hot, old, start, out))
             for _ in range(clients)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [out.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
    done = sum(r[0] for r in results)
    return done / elapsed, [x for r in results for x in r[1]], [s for r in results for s in r[2]]


def _load() -> str:
    """The 1-minute load average now: the machine is shared, so every figure carries it."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=2_000_000,
                        help="ledger rows (charges + payments + allocations)")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 8-client run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--compare", action="store_true",
                        help="also time the earlier path (nine round trips) in the same run")
    args = parser.parse_args()

    import accounts.models  # noqa: F401 - the service's metadata first, then its capabilities
    from accounts.checks.models import RESERVED, CreditCheck
    from accounts.credit.models import CreditAccount
    from accounts.limits.service import recompute_all

    name, url = scratch_database("bench_credit")
    try:
        ctx, client, headers = _client(url)
        from servicedb.engine import upgrade

        upgrade(ctx.bus.engine, "accounts")
        started = time.perf_counter()
        load(url, args.accounts, args.rows)
        load_s = time.perf_counter() - started
        with ctx.bus.engine.connect() as conn:
            ledger = conn.execute(text("SELECT (SELECT count(*) FROM credit_charges) + "
                                       "(SELECT count(*) FROM credit_payments) + "
                                       "(SELECT count(*) FROM credit_allocations)")).scalar_one()
        ids = _ids(args.accounts)
        rng = random.Random(7)
        for _ in range(20):
            _check(client, headers, rng.choice(ids[1:]), "1.00")
        single: list[float] = []
        single_old: list[float] = []
        for i in range(args.samples * (2 if args.compare else 1)):
            old = args.compare and i % 2 == 1
            _use_old_path(old)
            t0 = time.perf_counter()
            _check(client, headers, rng.choice(ids[1:]), f"{rng.randint(1, 9999) / 100:.2f}")
            (single_old if old else single).append((time.perf_counter() - t0) * 1000)
        _use_old_path(False)
        load_single = _load()
        # --compare: three rounds of (earlier, new), each a third of --seconds, so a change in
        # the shared machine's load falls on both paths alike.
        rounds = 3 if args.compare else 1
        runs: dict[bool, list[tuple[float, list[float]]]] = {True: [], False: []}
        for _ in range(rounds):
            for old in ((True, False) if args.compare else (False,)):
                r, lat, _ = _parallel(url, args.accounts, args.clients, args.seconds / rounds,
                                      hot=False, old=old)
                runs[old].append((r, lat))
        load_8 = load_old = _load()
        rate = sum(r for r, _ in runs[False]) / rounds
        lat8 = [x for _, lat in runs[False] for x in lat]
        rate_old = sum(r for r, _ in runs[True]) / rounds if args.compare else 0.0
        lat8_old = [x for _, lat in runs[True] for x in lat]
        _, _, statuses = _parallel(url, args.accounts, args.clients, 0, hot=True)
        approved = statuses.count("reserved")
        with ctx.bus.session_factory() as session:
            row = session.get(CreditAccount, ids[0])
            assert row is not None
            reserved_sum = sum((c.amount for c in session.query(CreditCheck).filter(
                CreditCheck.account_id == ids[0], CreditCheck.status == RESERVED)), Decimal(0))
            over = row.outstanding + row.reserved - row.unapplied - (row.effective_limit or 0)
        overcommit = approved * 100 > 10000 or reserved_sum != row.reserved or over > 0
        t0 = time.perf_counter()
        from datetime import UTC, datetime

        recomputed = recompute_all(ctx.bus.session_factory, datetime.now(UTC))
        recompute_s = time.perf_counter() - t0

        print_table(f"credit, {args.accounts:,} accounts, {ledger:,} ledger rows on PostgreSQL "
                    f"(loaded in {load_s:.0f} s)",
                    ["measure", "samples", "p50 ms", "p95 ms", "max ms", "result", "target"], [
                        *([["earlier path: credit check, 1 client", len(single_old),
                            percentile(single_old, 50), percentile(single_old, 95), max(single_old),
                            f"{1000 / percentile(single_old, 50):.0f}/s", "(load " + load_single + ")"],
                           [f"earlier path: credit checks, {args.clients} clients", len(lat8_old),
                            percentile(lat8_old, 50), percentile(lat8_old, 95), max(lat8_old),
                            f"{rate_old:.0f} checks/s", "(load " + load_old + ")"]]
                          if args.compare else []),
                        ["credit check, 1 client", len(single), percentile(single, 50),
                         percentile(single, 95), max(single), f"{1000 / percentile(single, 50):.0f}/s",
                         f"p95 < 15 ms (load {load_single})"],
                        [f"credit checks, {args.clients} clients (processes)", len(lat8),
                         percentile(lat8, 50), percentile(lat8, 95), max(lat8), f"{rate:.0f} checks/s",
                         f">= 300/s (load {load_8})"],
                        [f"over-commit: {len(statuses)} checks of 100.00 on 10,000.00", len(statuses),
                         "-", "-", "-", f"{approved} approved, over-commit {'YES' if overcommit else 'none'}",
                         "0 over-commit"],
                        [f"recompute all {recomputed:,} limits", 1, "-", "-", recompute_s * 1000,
                         f"{recompute_s:.1f} s", "< 60 s"],
                    ])
        ctx.bus.engine.dispose()
        ok = (percentile(single, 95) < 15 and rate >= 300 and not overcommit and recompute_s < 60)
        return 0 if ok else 1
    finally:
        if not args.keep:
            drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
