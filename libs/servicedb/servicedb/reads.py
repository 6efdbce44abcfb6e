"""Hot reads without the ORM or a transaction: one round trip, plain dicts.

A primary-key read through ``Session.get`` costs three round trips on PostgreSQL (BEGIN,
SELECT, ROLLBACK) and builds an ORM instance with its identity-map state, which is about half
of what a ``GET /<things>/{id}`` costs in CPU (docs/performance.md §1). A single SELECT needs no
transaction: under READ COMMITTED it sees one consistent snapshot either way.

On SQLite (the embedded mode) the engine's transactions take the write lock at BEGIN, so reads
there keep an ordinary connection: WAL readers outside a write transaction are never blocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Executable


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that need no transaction (on PostgreSQL: autocommit, so the
    driver sends neither BEGIN nor ROLLBACK)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    else:
        with engine.connect() as conn:
            yield conn


def read_rows(engine: Engine, stmt: Executable) -> list[dict[str, Any]]:
    """Every row of a Core ``select`` as a dict (column name → value, column types applied)."""
    with read_connection(engine) as conn:
        return [dict(row) for row in conn.execute(stmt).mappings()]


def read_one(engine: Engine, stmt: Executable) -> dict[str, Any] | None:
    """The first row of a Core ``select`` as a dict, or None."""
    with read_connection(engine) as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None
