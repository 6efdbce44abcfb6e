"""``servicedb.writes.execute`` does inside the session's transaction exactly what
``Session.execute`` does, on both databases: inserts with the caller's columns, ``RETURNING``
with column types applied, upserts, statements reused with other values, rollback taking the
writes with it, statements the plan cannot serve (``IN`` lists, Python-side defaults) on the
ordinary path, and driver errors as SQLAlchemy's exceptions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    exc,
    inspect,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from servicedb import UtcDateTime, dialect_insert, writes

metadata = MetaData()
items = Table(
    "items", metadata,
    Column("id", String(36), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("label", String(40)),
    Column("at", UtcDateTime),
    Column("doc", JSON),
    Column("made_by", String(20), default=lambda: "python-default"),
)
AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
INSERT = items.insert()
RETURNING = items.insert().returning(items.c.id, items.c.at, items.c.doc)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = create_engine(db_url)
    metadata.create_all(engine)
    return engine


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(items).order_by(items.c.n)).mappings()]


def test_inserts_and_returning_match_the_ordinary_path(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        # the keys given are the columns written (the others take their defaults: a
        # Python-side default makes the statement take the ordinary path)
        writes.execute(session, INSERT, {"id": "a", "n": 1, "label": "one", "made_by": "me"})
        returned = writes.execute(session, RETURNING, {"id": "b", "n": 2, "at": AT,
                                                       "doc": {"tags": ["x"]}, "made_by": "me"})
        writes.execute(session, INSERT, {"id": "c", "n": 3})
    assert returned == [("b", AT, {"tags": ["x"]})]
    assert returned[0][1].tzinfo is not None  # aware, on SQLite too
    got = rows(engine)
    assert [(r["id"], r["n"], r["label"], r["made_by"]) for r in got] == [
        ("a", 1, "one", "me"), ("b", 2, None, "me"), ("c", 3, None, "python-default")]
    assert got[1]["at"] == AT and got[1]["doc"] == {"tags": ["x"]}


def test_a_statement_reused_with_other_values_and_an_upsert(engine: Engine) -> None:
    bump = update(items).where(items.c.id == bindparam("key")).values(
        n=items.c.n + bindparam("by")).returning(items.c.n)
    upsert_stmt = dialect_insert(engine.dialect.name, items)
    upsert_stmt = upsert_stmt.on_conflict_do_update(
        index_elements=[items.c.id], set_={"n": upsert_stmt.excluded.n})
    with Session(engine) as session, session.begin():
        for i in range(3):
            writes.execute(session, INSERT, {"id": f"k{i}", "n": i, "made_by": "t"})
        assert writes.scalar(session, bump, {"key": "k1", "by": 10}) == 11
        assert writes.scalar(session, bump, {"key": "k2", "by": 5}) == 7
        assert writes.scalar(session, bump, {"key": "nobody", "by": 5}) is None
        writes.execute(session, upsert_stmt, {"id": "k0", "n": 40, "made_by": "t"})
        writes.execute(session, upsert_stmt, {"id": "k9", "n": 90, "made_by": "t"})
    assert [(r["id"], r["n"]) for r in rows(engine)] == [("k2", 7), ("k1", 11), ("k0", 40), ("k9", 90)]


def test_the_writes_belong_to_the_sessions_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        with session.begin():
            writes.execute(session, INSERT, {"id": "kept", "n": 1, "made_by": "t"})
        session.begin()
        writes.execute(session, INSERT, {"id": "dropped", "n": 2, "made_by": "t"})
        # the same transaction sees it (ORM and Core alike) ...
        assert session.scalar(select(items.c.n).where(items.c.id == "dropped")) == 2
        session.rollback()  # ... and it goes with the rollback
    assert [r["id"] for r in rows(engine)] == ["kept"]


def test_postgresql_statements_use_a_plan_kept_per_statement(pg_url: str) -> None:
    """(SQLite takes ``Session.execute``: see servicedb.writes.)"""
    engine = create_engine(pg_url)
    metadata.create_all(engine)
    writes._plans.clear()
    stmt = select(items.c.n).where(items.c.id == bindparam("key"))
    in_list = select(items.c.n).where(items.c.id.in_(["a", "b"])).order_by(items.c.n)
    with Session(engine) as session, session.begin():
        writes.execute(session, INSERT, {"id": "a", "n": 1, "made_by": "t"})
        writes.execute(session, INSERT, {"id": "b", "n": 2, "made_by": "t"})
        writes.execute(session, INSERT, {"id": "c", "n": 3})  # Python default: ordinary path
        assert writes.execute(session, stmt, {"key": "b"}) == [(2,)]
        assert writes.execute(session, in_list) == [(1,), (2,)]
    kept = [(statement, keys, plan) for (_, _, keys), (statement, plan) in writes._plans.items()]
    assert sorted((s is INSERT, keys) for s, keys, plan in kept if plan is not None) == [
        (False, None), (True, ("id", "made_by", "n"))]  # stmt, and INSERT with those columns
    # the Python default (INSERT without made_by) and the IN list: worked out once, "ordinary"
    assert sorted((s is INSERT, keys) for s, keys, plan in kept if plan is None) == [
        (False, None), (True, ("id", "n"))]
    assert [r["made_by"] for r in rows(engine)] == ["t", "t", "python-default"]


def test_driver_errors_surface_as_sqlalchemy_errors(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        writes.execute(session, INSERT, {"id": "dup", "n": 1, "made_by": "t"})
    with pytest.raises(exc.IntegrityError), Session(engine) as session, session.begin():
        writes.execute(session, INSERT, {"id": "dup", "n": 2, "made_by": "t"})
    missing = Table("missing_table", MetaData(), Column("id", Integer))
    with pytest.raises(exc.DBAPIError), Session(engine) as session, session.begin():
        writes.execute(session, missing.insert(), {"id": 1})
    # the pooled connections that saw the errors are fit for the next transaction
    with Session(engine) as session, session.begin():
        writes.execute(session, INSERT, {"id": "next", "n": 3, "made_by": "t"})
        assert session.execute(text("SELECT 1")).scalar() == 1
    assert [r["id"] for r in rows(engine)] == ["dup", "next"]


def test_timestamps_written_as_given(engine: Engine) -> None:
    later = AT + timedelta(hours=5, microseconds=7)
    with Session(engine) as session, session.begin():
        writes.execute(session, INSERT, {"id": str(uuid.uuid4()), "n": 1, "at": later, "made_by": "t"})
    assert rows(engine)[0]["at"] == later


class Base(DeclarativeBase):
    pass


class Card(Base):
    __tablename__ = "cards"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column("title_text", String(40))  # attribute ≠ column name
    at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    doc: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)


@pytest.fixture
def cards(db_url: str) -> Engine:
    engine = create_engine(db_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all([Card(id="a", title="first", at=AT, doc={"k": [1]}),
                         Card(id="b", title="second")])
    return engine


def test_get_for_update_loads_as_the_orm_does_and_tracks_changes(cards: Engine) -> None:
    with Session(cards) as session, session.begin():
        card = writes.get_for_update(session, Card, "a")
        assert card is not None and card in session and not session.dirty
        assert (card.id, card.title, card.at, card.doc, card.version) == ("a", "first", AT, {"k": [1]}, 1)
        assert writes.get_for_update(session, Card, "a") is card  # the session's own copy
        assert session.get(Card, "a") is card
        assert writes.get_for_update(session, Card, "nobody") is None
        card.title, card.version = "changed", 2
    with Session(cards) as session:
        again = session.get(Card, "a")
        assert again is not None
        assert (again.title, again.version, again.at, again.doc) == ("changed", 2, AT, {"k": [1]})
        assert session.get(Card, "b").title == "second"  # type: ignore[union-attr]


def test_get_for_update_locks_the_row(pg_url: str) -> None:
    engine = create_engine(pg_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add(Card(id="a", title="first"))
    with Session(engine) as holder, holder.begin():
        assert writes.get_for_update(holder, Card, "a") is not None
        with engine.connect() as other:
            with pytest.raises(exc.OperationalError):
                other.execute(text("SELECT id FROM cards WHERE id = 'a' FOR UPDATE NOWAIT"))
            other.rollback()
            # a row nobody holds is free
            assert other.execute(text("SELECT count(*) FROM cards")).scalar() == 1


def test_attach_configures_a_mapper_nothing_has_used_yet(db_url: str) -> None:
    """The first ORM use in a fresh process may be ``attach``/``get_for_update``: the mappers
    are configured then, as a constructor or a query would."""

    class Fresh(DeclarativeBase):
        pass

    class Parent(Fresh):
        __tablename__ = "parents"
        id: Mapped[str] = mapped_column(String(10), primary_key=True)
        kids: Mapped[list[Kid]] = relationship("Kid")

    class Kid(Fresh):
        __tablename__ = "kids"
        id: Mapped[str] = mapped_column(String(10), primary_key=True)
        parent_id: Mapped[str] = mapped_column(ForeignKey("parents.id"))

    engine = create_engine(db_url)
    Fresh.metadata.create_all(engine)
    assert not inspect(Parent).configured
    with Session(engine) as session, session.begin():
        writes.execute(session, Parent.__table__.insert(), {"id": "p"})
        parent = writes.attach(session, Parent, {"id": "p"})
        assert parent.kids == [] and not session.dirty
        session.add(Kid(id="k", parent_id="p"))
    with Session(engine) as session:
        assert [k.id for k in session.get(Parent, "p").kids] == ["k"]  # type: ignore[union-attr]


odd = Table(
    "odd_names", metadata,
    Column("id", String(36), primary_key=True),
    Column("a.b (x)", Integer),  # a bind parameter SQLAlchemy must escape
)


def test_placeholders_a_name_used_twice_a_literal_percent_and_an_escaped_name(engine: Engine) -> None:
    """The PostgreSQL plan numbers the placeholders itself (``$n``): a bind parameter used twice
    keeps one number, ``%%`` goes back to ``%``, an escaped name finds its value."""
    from servicedb import read_rows

    weird = odd.c["a.b (x)"]
    find = (select(odd.c.id, weird, literal_column("'5%'").label("pct"))
            .where(or_(odd.c.id.like(literal_column("'x%'")),
                       weird == bindparam("n"), weird == bindparam("n") + 100))
            .order_by(odd.c.id))
    with Session(engine) as session, session.begin():
        for key, n in (("x1", 1), ("y2", 2), ("y3", 3), ("z102", 102)):
            writes.execute(session, odd.insert(), {"id": key, "a.b (x)": n})
        got = writes.execute(session, find, {"n": 2})
        assert got == [tuple(r) for r in session.execute(find, {"n": 2})]
    assert got == [("x1", 1, "5%"), ("y2", 2, "5%"), ("z102", 102, "5%")]
    assert [(r["id"], r["a.b (x)"], r["pct"]) for r in read_rows(engine, find, {"n": 3})] == [
        ("x1", 1, "5%"), ("y3", 3, "5%")]
