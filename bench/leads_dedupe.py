"""Benchmark 4: intake dedupe and filtered lead lists with many leads in PostgreSQL.
Target: dedupe check on intake p95 < 20 ms with 1,000,000 leads.

Loads N synthetic leads (Chinese and English company names with legal suffixes, person names,
unique phones, some e-mails, 200 reps in 10 teams) into a scratch database migrated to head,
with COPY (secondary indexes dropped during the load and rebuilt after, as a bulk load would).
Then it times, one at a time:

- ``dedupe.check`` — the candidate look-ups (phone, lower(email), the company key's sorted
  neighbourhood) plus the rapidfuzz rules, in its own transaction like the API;
- ``POST /api/v1/leads/dedupe-check`` through the Flask app (JWT check, schema, JSON);
- ``GET /api/v1/leads`` filtered (status + source) keyset pages, for a rep and an admin;
- the authorized list (a search: sorted neighbourhood plus pg_trgm) in-process, the one-statement
  path and the old ORM path (``legacy_authorized``, 11 statements) interleaved, each answer
  asserted equal; then ``GET /api/v1/leads/authorized`` through the Flask app.

Candidates are a third exact phone hits, a third near-duplicates (company suffix changed,
person name reordered) and a third new companies.

    python bench/leads_dedupe.py [--leads 1000000] [--checks 500] [--keep]
    python bench/leads_dedupe.py --reuse bench_leads_xxxxxxxx --authorized-only --checks 1000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchkit import PG_URL, drop_database, median, percentile, print_table, scratch_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

CITIES = ("北京", "上海", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "天津",
          "重庆", "青岛", "宁波", "厦门", "长沙", "郑州", "济南", "合肥", "福州")
CHARS = "华兴达恒信瑞丰源鑫盛泰宏昌隆德福安康明辉金银鼎嘉新海天宇星光远航润通博创晨阳美佳"
TRADES = ("科技", "贸易", "机械", "电子", "建材", "物流", "实业", "软件", "医疗", "食品", "化工", "纺织")
CN_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
SYLLABLES = ("ka", "lo", "ne", "ri", "ta", "mi", "so", "ven", "tor", "lux", "gen", "ar", "bel", "co",
             "dex", "fi", "gra", "hal", "in", "jo", "ker", "lin", "mar", "nov", "or", "pra", "qui")
EN_WORDS = ("Tech", "Trading", "Industries", "Systems", "Logistics", "Foods", "Medical", "Works")
EN_SUFFIXES = ("Co., Ltd.", "Inc.", "LLC", "GmbH", "Limited", "Corp.")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
SOURCES = ("walk_in", "phone_call", "web_form", "trade_show", "referral", "event", "api_import")


def company(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return (rng.choice(CITIES) + "".join(rng.choices(CHARS, k=2)) + rng.choice(TRADES)
                + rng.choice(CN_SUFFIXES))
    word = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))).capitalize()
    return f"{word} {rng.choice(EN_WORDS)} {rng.choice(EN_SUFFIXES)}"


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))


def load(url: str, count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """COPY ``count`` leads; returns a sample of (name, company, phone) to build candidates."""
    from leads.intake.matching import company_key

    engine = create_engine(url)
    with engine.begin() as conn:
        indexes = [r[0] for r in conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'leads' AND indexname NOT LIKE 'pk_%'"))]
        names = [r[0] for r in conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'leads' AND indexname NOT LIKE 'pk_%' "
            "AND indexname NOT LIKE 'uq_%'"))]
        for name in names:
            conn.execute(text(f'DROP INDEX "{name}"'))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    sample: list[tuple[str, str, str]] = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        columns = ("id, code, name, company, company_key, phone, email, source, owner_id, owner_team, "
                   "status, registered_by, created_at, updated_at, version")
        with cur.copy(f"COPY leads ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(count):
                co, name = company(rng), person(rng)
                phone = f"+86139{i:08d}"
                email = f"u{i}@{company_key(co) or 'x'}.example" if i % 3 == 0 else None
                owner = rng.randrange(200)
                created = start + timedelta(seconds=i * 30)
                copy.write_row((str(uuid.uuid4()), f"L-{i + 1:07d}", name, co, company_key(co), phone,
                                email, SOURCES[i % 7], f"rep{owner}", f"team{owner % 10}",
                                "open" if i % 10 else "converted", f"rep{owner}", created, created, 1))
                if i % max(1, count // 2000) == 0:
                    sample.append((name, co, phone))
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM code_counters WHERE prefix = 'L'"))
        conn.execute(text("INSERT INTO code_counters (prefix, value) VALUES ('L', :n)"), {"n": count})
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for ddl in indexes:
            if "uq_" not in ddl:
                conn.execute(text(ddl))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE leads"))
    engine.dispose()
    return sample


def candidates(sample: list[tuple[str, str, str]], checks: int, rng: random.Random) -> list[dict]:
    out: list[dict] = []
    for i in range(checks):
        name, co, phone = rng.choice(sample)
        kind = i % 3
        if kind == 0:  # the same caller again
            out.append({"name": name, "phone": phone})
        elif kind == 1:  # the same person and company, written differently
            for suffix in ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "Co., Ltd.",
                           "Inc.", "LLC", "GmbH", "Limited", "Corp."):
                co = co.removesuffix(suffix)
            out.append({"name": name + "先生", "company": co.strip() + " Co., Ltd.",
                        "phone": f"+86137{i:08d}"})
        else:  # someone new
            out.append({"name": person(rng), "company": company(rng), "phone": f"+86136{i:08d}"})
    return out


def timed(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def reload_sample(url: str, count: int) -> list[tuple[str, str, str]]:
    """The sample ``load`` would have returned, read back from a kept database."""
    step = max(1, count // 2000)
    engine = create_engine(url)
    with engine.connect() as conn:
        codes = [f"L-{i + 1:07d}" for i in range(0, count, step)]
        rows = conn.execute(text("SELECT name, company, phone FROM leads WHERE code = ANY(:c) "
                                 "ORDER BY code"), {"c": codes}).all()
    engine.dispose()
    return [(r[0], r[1], r[2]) for r in rows]


def legacy_authorized(ctx, key: str, limit: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """The authorized list as it was before the one-statement search (ORM, a transaction,
    11 statements): the "before" of the comparison, and the reference its answer must equal."""
    from leads.intake import dedupe
    from leads.intake.api import AUTHORIZED_THRESHOLD
    from leads.intake.matching import company_similar
    from leads.ownership import service as ownership
    from leads.policy import service as policies

    items: list[dict] = []
    with ctx.bus.session_factory() as session, session.begin():
        leads = list(dedupe.leads_by_company(session, key, limit))
        states = ownership.protection_states(session, leads, ctx.clock(),
                                             policies.current_policy(session))
        for lead in leads:
            score = company_similar(key, lead.company, AUTHORIZED_THRESHOLD)
            if score is not None:
                items.append({"kind": "lead", "company": lead.company, "owner_id": lead.owner_id,
                              "protected_until": states[lead.id].protected_until, "score": score})
        for account in dedupe.account_candidates(session, key, limit, search=True):
            score = company_similar(key, account.name, AUTHORIZED_THRESHOLD)
            if score is not None:
                items.append({"kind": "account", "company": account.name,
                              "owner_id": account.owner_id, "protected_until": None,
                              "score": score})
    items.sort(key=lambda i: -i["score"])
    return items[:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="time against a database kept by --keep (no load; kept afterwards)")
    parser.add_argument("--authorized-only", action="store_true",
                        help="time only the authorized list (new path, the old one, HTTP)")
    args = parser.parse_args()
    rng = random.Random(42)
    if args.reuse:
        name, url = args.reuse, make_url(PG_URL).set(database=args.reuse).render_as_string(
            hide_password=False)
        args.keep = True
    else:
        name, url = scratch_database("bench_leads")
    try:
        from leads.app import create_app
        from leads.intake import dedupe
        from leads.intake.api import authorized_items
        from leads.intake.matching import Record, company_key
        from leads.wiring import build
        from testkit.issuer import TestIssuer

        ctx = build(url, "memory://", migrate=not args.reuse)
        started = time.perf_counter()
        sample = reload_sample(url, args.leads) if args.reuse else load(url, args.leads, rng)
        load_s = time.perf_counter() - started
        cands = candidates(sample, args.checks, rng)
        matched = {"hit": 0}

        def check(body: dict) -> None:
            with ctx.bus.session_factory() as session, session.begin():
                result = dedupe.check(session, Record(id="", name=body["name"],
                                                      company=body.get("company"),
                                                      phone=body.get("phone")))
            matched["hit"] += bool(result.matches)

        issuer = TestIssuer()
        client = create_app(ctx, verifier=issuer.verifier()).test_client()
        rep = issuer.headers("rep7", "sales_rep", team="team7")
        admin = issuer.headers("admin", "admin")

        def http_check(body: dict) -> None:
            resp = client.post("/api/v1/leads/dedupe-check", json=body, headers=rep)
            assert resp.status_code == 200, resp.json

        if not args.authorized_only:
            timed(check, cands[:30])  # warm the pool and caches
        rule_ms = [] if args.authorized_only else timed(check, cands)
        hits = matched["hit"]
        http_ms = [] if args.authorized_only else timed(http_check, cands)

        def walk(headers: dict) -> list[float]:
            ms, cursor = [], None
            for _ in range(args.checks // 10):
                query = {"status": "open", "source": "trade_show", "limit": 50}
                if cursor:
                    query["cursor"] = cursor
                started = time.perf_counter()
                resp = client.get("/api/v1/leads", query_string=query, headers=headers)
                ms.append((time.perf_counter() - started) * 1000)
                assert resp.status_code == 200, resp.json
                cursor = resp.json["next_cursor"]
                if not cursor:
                    cursor = None
            return ms

        rep_list, admin_list = ([], []) if args.authorized_only else (walk(rep), walk(admin))

        def authorized(body: dict) -> None:
            resp = client.get("/api/v1/leads/authorized", headers=rep,
                              query_string={"company": body.get("company") or "华兴科技"})
            assert resp.status_code == 200, resp.json

        searches = cands[: max(10, args.checks // 5)]
        keys = [company_key(c.get("company") or "华兴科技") or "x" for c in searches]
        timed(lambda k: authorized_items(ctx, k, 20), keys[:20])  # warm the pool and caches
        timed(lambda k: legacy_authorized(ctx, k, 20), keys[:20])
        new_ms, old_ms = [], []
        for i, k in enumerate(keys):  # interleaved, each first half the time (cold pages)
            for path in ((authorized_items, legacy_authorized) if i % 2 else
                         (legacy_authorized, authorized_items)):
                (new_ms if path is authorized_items else old_ms).extend(
                    timed(lambda k, path=path: path(ctx, k, 20), [k]))
            assert authorized_items(ctx, k, 20) == legacy_authorized(ctx, k, 20), k
        authorized_ms = timed(authorized, searches)
        rows = [(label, len(ms), median(ms), percentile(ms, 95), percentile(ms, 99), max(ms))
                for label, ms in (("dedupe.check (db look-ups + rules)", rule_ms),
                                  ("POST /dedupe-check (Flask, JWT)", http_ms),
                                  ("GET /leads status+source, rep page", rep_list),
                                  ("GET /leads status+source, admin page", admin_list),
                                  ("authorized list, before (ORM, 11 stmts)", old_ms),
                                  ("authorized list, after (Core, read conn)", new_ms),
                                  ("GET /leads/authorized (search, pg_trgm)", authorized_ms))
                if ms]
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print_table(f"Leads dedupe and lists with {args.leads:,} leads (ms; load took "
                    f"{load_s:,.0f} s)", ("operation", "n", "p50", "p95", "p99", "max"), rows)
        print(f"candidates with at least one match: {hits} of {len(cands)} "
              "(expected about two thirds: exact phone and near-duplicate thirds)")
        print("target: dedupe check p95 < 20 ms at 1,000,000 leads")
        ctx.bus.engine.dispose()
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            drop_database(name)


if __name__ == "__main__":
    main()
