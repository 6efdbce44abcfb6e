"""``servicedb.read_rows``/``read_one`` answer exactly what SQLAlchemy's ordinary execution
answers, on both databases: column names and labels, every column type the services use
(uuid, enum, aware datetimes, JSON, numeric, nulls), statements reused with other values,
statements the cached plan cannot serve (``IN`` lists), and driver errors surfacing as
SQLAlchemy's exceptions (what the outage handling maps to 503)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    bindparam,
    create_engine,
    exc,
    func,
    select,
    text,
)

from servicedb import UtcDateTime, read_connection, read_one, read_rows
from servicedb import reads as reads_module


class Stage(enum.Enum):
    NEW = "new"
    WON = "won"


metadata = MetaData()
things = Table(
    "things", metadata,
    Column("id", Uuid, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("name", String(40)),
    Column("stage", Enum(Stage, name="stage")),
    Column("at", UtcDateTime),
    Column("doc", JSON),
    Column("amount", Numeric(12, 2)),
)


@pytest.fixture
def engine(db_url: str) -> Engine:
    return filled(db_url)


def filled(url: str) -> Engine:
    engine = create_engine(url)
    metadata.create_all(engine)
    start = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(things.insert(), [
            {"id": uuid.UUID(int=i + 1), "n": i, "name": None if i == 3 else f"thing {i}",
             "stage": Stage.WON if i % 2 else Stage.NEW, "at": start + timedelta(hours=i),
             "doc": {"i": i, "tags": ["a", "b"][: i % 3]}, "amount": Decimal(f"{i}.25")}
            for i in range(8)])
    return engine


def ordinary(engine: Engine, stmt: Any) -> list[dict[str, Any]]:
    with read_connection(engine) as conn:
        return [dict(row) for row in conn.execute(stmt).mappings()]


def test_rows_match_sqlalchemy_for_every_column_type(engine: Engine) -> None:
    stmt = select(things).where(things.c.n >= 2).order_by(things.c.n)
    fast = read_rows(engine, stmt)
    assert fast == ordinary(engine, stmt)
    assert [row["n"] for row in fast] == [2, 3, 4, 5, 6, 7]
    row = fast[1]
    assert row["id"] == uuid.UUID(int=4) and row["name"] is None and row["stage"] is Stage.WON
    assert row["at"] == datetime(2026, 12, 1, 11, 30, tzinfo=UTC) and row["at"].tzinfo is not None
    assert row["doc"] == {"i": 3, "tags": []} and row["amount"] == Decimal("3.25")


def test_one_row_by_key_with_labels_and_expressions(engine: Engine) -> None:
    stmt = select(things.c.id, things.c.name.label("title"), (things.c.n * 10).label("tens"),
                  func.upper(things.c.name).label("loud")).where(things.c.id == uuid.UUID(int=6))
    assert read_one(engine, stmt) == {"id": uuid.UUID(int=6), "title": "thing 5", "tens": 50,
                                      "loud": "THING 5"}
    assert read_one(engine, select(things).where(things.c.id == uuid.uuid4())) is None


def test_a_cached_shape_reused_with_other_values(engine: Engine) -> None:
    def by_stage(stage: Stage, floor: int) -> list[int]:
        stmt = (select(things.c.n).where(things.c.stage == stage, things.c.n > floor)
                .order_by(things.c.n.desc()).limit(2))
        rows = read_rows(engine, stmt)
        assert rows == ordinary(engine, stmt)
        return [row["n"] for row in rows]

    assert by_stage(Stage.WON, 0) == [7, 5]
    assert by_stage(Stage.NEW, 0) == [6, 4]
    assert by_stage(Stage.NEW, 5) == [6]
    assert by_stage(Stage.WON, 7) == []


def test_a_statement_built_once_with_bind_parameters(engine: Engine) -> None:
    """What the hot reads do: one statement object, values passed per call."""
    stmt = select(things.c.n, things.c.name).where(things.c.id == bindparam("thing_id"))
    for i in (2, 5, 3, 2):
        params = {"thing_id": uuid.UUID(int=i + 1)}
        expected = {"n": i, "name": None if i == 3 else f"thing {i}"}
        assert read_one(engine, stmt, params) == expected
        assert read_rows(engine, stmt, params) == [expected]
        with read_connection(engine) as conn:
            assert dict(conn.execute(stmt, params).mappings().one()) == expected
    assert read_one(engine, stmt, {"thing_id": uuid.uuid4()}) is None
    with pytest.raises(exc.SQLAlchemyError, match="thing_id"):  # refused, not sent as NULL
        read_one(engine, stmt, {})


def test_in_lists_take_the_ordinary_path_and_agree(engine: Engine) -> None:
    for wanted in ([1, 2], [5], [0, 3, 7]):
        stmt = select(things.c.n, things.c.name).where(things.c.n.in_(wanted)).order_by(things.c.n)
        assert [row["n"] for row in read_rows(engine, stmt)] == wanted
        assert read_rows(engine, stmt) == ordinary(engine, stmt)


def test_postgresql_reads_use_a_cached_plan(pg_url: str) -> None:
    """(SQLite reads take the ordinary path: see servicedb.reads.)"""
    engine = filled(pg_url)
    reads_module._plans.clear()
    stmt = select(things.c.n).where(things.c.n == 4)
    assert read_one(engine, stmt) == {"n": 4}
    assert read_one(engine, select(things.c.n).where(things.c.n == 5)) == {"n": 5}
    plans = [plan for plan in reads_module._plans.values() if plan is not None]
    assert len(plans) == 1 and "things.n = " in plans[0].sql
    # and the pooled connection went back as it came: not in autocommit, no transaction open
    with engine.connect() as conn:
        assert conn.connection.driver_connection.autocommit is False
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_a_failed_checkout_is_sqlalchemys_error(pg_url: str) -> None:
    """A server that stops answering after the first connection: the fast path's own checkout
    raises SQLAlchemy's OperationalError, as ``engine.connect()`` would (the outage handling
    answers 503 on it)."""
    engine = filled(pg_url)
    read_one(engine, select(things.c.n).where(things.c.n == 1))  # the dialect is set up
    engine.pool.dispose()
    engine.pool._creator = _refused  # type: ignore[attr-defined]
    with pytest.raises(exc.OperationalError):
        read_one(engine, select(things.c.n).where(things.c.n == 2))


def _refused() -> Any:
    import psycopg

    return psycopg.connect("host=127.0.0.1 port=1 connect_timeout=2")


def test_driver_errors_surface_as_sqlalchemy_errors(engine: Engine) -> None:
    missing = Table("missing_table", MetaData(), Column("id", Integer))
    with pytest.raises(exc.DBAPIError):
        read_rows(engine, select(missing))
    with pytest.raises(exc.DBAPIError):
        read_one(engine, select(missing).where(missing.c.id == 1))
    # the connection that saw the error is fit for the next read
    assert read_one(engine, select(things.c.n).where(things.c.n == 1)) == {"n": 1}
