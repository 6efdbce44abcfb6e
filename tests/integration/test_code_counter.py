"""Readable codes (L-000001): concurrent takers of a new prefix, and of an existing one, all
get distinct gap-free numbers. Before, two first takers of a prefix both inserted its counter
row and one request failed with a 500 (seen with 8 clients creating leads right after start)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import DeclarativeBase, Session

from servicedb import CodeCounterMixin, create_service_engine, new_metadata, next_code

pytestmark = pytest.mark.integration


class _Base(DeclarativeBase):
    metadata = new_metadata()


class _Counter(CodeCounterMixin, _Base):
    __tablename__ = "code_counters"


def test_concurrent_takers_get_distinct_gap_free_codes(db_url: str) -> None:
    engine = create_service_engine(db_url, pool_size=10)
    _Base.metadata.create_all(engine)
    takers = 8
    codes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(takers)
    lock = threading.Lock()

    def take(prefix: str) -> None:
        try:
            start.wait(timeout=10)
            with Session(engine) as session, session.begin():
                code = next_code(session, _Counter, prefix)
            with lock:
                codes.append(code)
        except BaseException as exc:
            errors.append(exc)

    try:
        for prefix in ("N", "N"):  # a new prefix, then the same prefix again
            threads = [threading.Thread(target=take, args=(prefix,)) for _ in range(takers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        assert not errors, errors
        assert sorted(codes) == [f"N-{n:06d}" for n in range(1, 2 * takers + 1)]
    finally:
        engine.dispose()


def test_a_rolled_back_taker_releases_its_number(db_url: str) -> None:
    engine = create_service_engine(db_url)
    _Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            with session.begin():
                assert next_code(session, _Counter, "R") == "R-000001"
            session.begin()
            assert next_code(session, _Counter, "R", width=3) == "R-002"
            session.rollback()
            with session.begin():
                assert next_code(session, _Counter, "R") == "R-000002"
    finally:
        engine.dispose()
