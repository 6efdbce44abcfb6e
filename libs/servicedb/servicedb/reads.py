"""Hot reads without the ORM or a transaction: one round trip, plain dicts.

A primary-key read through ``Session.get`` costs three round trips on PostgreSQL (BEGIN,
SELECT, ROLLBACK) and builds an ORM instance with its identity-map state, which is about half
of what a ``GET /<things>/{id}`` costs in CPU (docs/performance.md §1). A single SELECT needs no
transaction: under READ COMMITTED it sees one consistent snapshot either way.

On PostgreSQL, ``read_rows``/``read_one`` go one step further: a statement's SQL, bind and
result processors are worked out once per statement shape (SQLAlchemy's own cache key, so the
same shape with other values reuses them) and the rows come straight off a psycopg cursor on a
pooled connection. Under a real server that skips about a quarter of a by-id request's CPU
(``Connection.execute``'s context, result metadata and row objects; docs/performance.md §1).
Statements whose SQL depends on their values (``IN`` lists, literal binds) take the ordinary
path, and driver errors are re-raised as SQLAlchemy's, so outage handling sees what it expects.

On SQLite (the embedded mode) the engine's transactions take the write lock at BEGIN, so reads
there keep an ordinary connection: WAL readers outside a write transaction are never blocked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from psycopg import RawCursor
from sqlalchemy import Connection, Engine, Executable, exc
from sqlalchemy.sql.compiler import SQLCompiler

_PLAN_LIMIT = 512  # statement shapes kept per process; dynamic filters make a few dozen


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


def read_rows(engine: Engine, stmt: Executable, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every row of a Core ``select`` as a dict (column name → value, column types applied).
    ``params`` fill the statement's bind parameters: a statement built once at import time with
    them skips building the expression and its cache key on every call."""
    rows = _fast_rows(engine, stmt, params, one=False)
    if rows is not None:
        return rows
    with read_connection(engine) as conn:
        return [dict(row) for row in conn.execute(stmt, params).mappings()]


def read_one(engine: Engine, stmt: Executable, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The first row of a Core ``select`` as a dict, or None (``params`` as in ``read_rows``)."""
    rows = _fast_rows(engine, stmt, params, one=True)
    if rows is not None:
        return rows[0] if rows else None
    with read_connection(engine) as conn:
        row = conn.execute(stmt, params).mappings().first()
    return dict(row) if row is not None else None


@dataclass
class _Plan:
    """What one statement shape needs on every execution, worked out once.

    ``sql`` is the compiled statement with PostgreSQL's own ``$1, $2…`` placeholders and
    ``order`` the bind parameter behind each, so it runs on a psycopg ``RawCursor``: psycopg
    then parses nothing per execution (it re-parses every ``%(name)s`` query of more than 50
    parameters, such as an account's 61-column insert, on every call)."""

    compiled: SQLCompiler
    sql: str
    order: tuple[str, ...]
    binds: dict[str, Callable[[Any], Any]]
    names: list[str] = field(default_factory=list)
    results: list[Callable[[Any], Any] | None] | None = None  # from the first cursor seen

    @classmethod
    def of(cls, compiled: SQLCompiler, names: list[str] | None = None) -> _Plan:
        sql, order = positional(compiled.string, compiled.escaped_bind_names or {})
        return cls(compiled=compiled, sql=sql, order=order,
                   binds=dict(compiled._bind_processors),  # type: ignore[arg-type]
                   names=names or [])

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """The compiled statement's parameter values (``construct_params``) in placeholder
        order, each column type's bind processor applied."""
        binds = self.binds
        return [binds[name](params[name]) if name in binds else params[name] for name in self.order]


_PYFORMAT = re.compile(r"%%|%\(([^)]+)\)s")


def positional(sql: str, escaped: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """``sql`` in psycopg's ``%(name)s`` style as PostgreSQL's ``$n`` (``%%`` back to ``%``;
    a name used twice keeps its number) and the bind parameter of each number, by the names
    SQLAlchemy's ``construct_params`` gives (``escaped`` maps those to what the SQL spells)."""
    unescape = {spelled: name for name, spelled in escaped.items()}
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        spelled = match.group(1)
        if spelled is None:
            return "%"
        name = unescape.get(spelled, spelled)
        return f"${numbers.setdefault(name, len(numbers) + 1)}"

    return _PYFORMAT.sub(number, sql), tuple(numbers)


_plans: dict[tuple[Any, Any], Any] = {}  # a _Plan, or None: this shape takes the ordinary path
_UNSEEN = object()


def _plan(engine: Engine, stmt: Executable, key: Any) -> _Plan | None:
    # compiled against the cache key (as the engine's own cache does), so that another
    # statement of the same shape can pass its values in through ``construct_params``
    compiled = stmt._compiler(engine.dialect, cache_key=key, column_keys=None,  # type: ignore[attr-defined]
                              for_executemany=False, schema_translate_map=None)
    if (not isinstance(compiled, SQLCompiler) or compiled.post_compile_params
            or compiled.literal_execute_params or compiled.positional
            or compiled.schema_translate_map or not compiled._result_columns):
        return None
    return _Plan.of(compiled, [entry.keyname for entry in compiled._result_columns])


def _fast_rows(engine: Engine, stmt: Executable, given: dict[str, Any] | None, *,
               one: bool) -> list[dict[str, Any]] | None:
    """The rows through a cached plan, or None when this statement takes the ordinary path."""
    if engine.dialect.driver != "psycopg" or engine.dialect.server_version_info is None:
        return None  # (the dialect is set up by the first connection: compile only after it)
    key = stmt._generate_cache_key()  # type: ignore[attr-defined]
    if key is None:
        return None
    slot = (engine.dialect, key.key)
    plan = _plans.get(slot, _UNSEEN)
    if plan is _UNSEEN:
        if len(_plans) >= _PLAN_LIMIT:
            _plans.clear()
        plan = _plans[slot] = _plan(engine, stmt, key)
    if plan is None:
        return None
    params = plan.values(plan.compiled.construct_params(
        params=given, extracted_parameters=key.bindparams, escape_names=False))
    raw = _checkout(engine)
    try:
        dbapi: Any = raw.driver_connection
        dbapi.autocommit = True  # no BEGIN/ROLLBACK around one SELECT (see module docstring)
        try:
            with cast(Any, RawCursor(dbapi)) as cursor:  # (a DB-API cursor to SQLAlchemy)
                try:
                    cursor.execute(plan.sql, params)
                    fetched = cursor.fetchmany(1) if one else cursor.fetchall()
                except engine.dialect.loaded_dbapi.Error as error:
                    if engine.dialect.is_disconnect(error, dbapi, cursor):
                        raw.invalidate(error)
                    raise exc.DBAPIError.instance(
                        plan.sql, params, error, engine.dialect.loaded_dbapi.Error,
                        dialect=engine.dialect) from error
                if plan.results is None:
                    plan.results = result_processors(engine.dialect, plan.compiled, cursor.description)
                    if len(plan.results) != len(plan.names):
                        raise RuntimeError(f"result columns differ from the compiled statement: {plan.sql}")
        finally:
            try:
                dbapi.autocommit = False
            except engine.dialect.loaded_dbapi.Error as error:  # a broken connection
                raw.invalidate(error)
    finally:
        raw.close()  # back to the pool
    names, results = plan.names, plan.results
    if not any(results):
        return [dict(zip(names, row, strict=True)) for row in fetched]
    return [{name: process(value) if process is not None else value
             for name, process, value in zip(names, results, row, strict=True)}
            for row in fetched]


def _checkout(engine: Engine) -> Any:
    """A pooled DBAPI connection without a ``Connection`` around it (whose set-up and close
    cost about 7 % of a by-id read); a failed checkout raises what ``engine.connect()`` would
    (SQLAlchemy's error, disconnects detected, ``handle_error`` hooks run)."""
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:
        Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)  # raises
        raise  # not reached


def result_processors(dialect: Any, compiled: SQLCompiler,
                      description: Any) -> list[Callable[[Any], Any] | None]:
    """The column types' result processors for the driver's type codes, as SQLAlchemy's own
    result metadata picks them (none where the compiled statement names no columns, as for
    ``text``)."""
    entries = compiled._result_columns
    if description is None or len(description) != len(entries):
        return [None] * len(description or ())
    return [entry.type._cached_result_processor(dialect, column.type_code)
            for entry, column in zip(entries, description, strict=True)]
