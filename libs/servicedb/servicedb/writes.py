"""Hot writes inside the caller's transaction: a prebuilt Core statement on the session's own
driver connection, without SQLAlchemy's per-execution work.

Every event a service emits or handles runs a handful of fixed statements (the outbox insert,
the inbox claim, a counter, a read model's upsert). Through ``Session.execute`` each one costs
a cache key, a compiled-cache look-up, an execution context and a result object: under the
latency benchmark that was a fifth of a worker's CPU (docs/performance.md §5.2, fifth pass).
``execute`` works each statement out once (SQL, bind processors, result processors) and then
sends it straight through psycopg's cursor in the session's transaction, so it commits or rolls
back with everything else the caller does.

Only statements built once (module constants or per-table/per-dialect caches) belong here: the
plan is kept per statement object. Statements whose SQL depends on their values (``IN`` lists),
or that need SQLAlchemy to compute a value first (Python-side column defaults), and every
database other than PostgreSQL through psycopg, take the ordinary path: ``Connection.execute``
on the session's connection, which (like the fast path) does not flush the session first and
gives ORM-enabled statements no ORM semantics. Driver errors are re-raised as SQLAlchemy's (and
a lost connection invalidated), so outage handling sees what it expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeVar, cast

from psycopg import RawCursor
from sqlalchemy import Select, bindparam, exc, inspect, select
from sqlalchemy.orm import Mapper, Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

from .reads import _Plan, result_processors

T = TypeVar("T")
_PLAN_LIMIT = 256  # statements kept per process; the hot paths use a few dozen


# (dialect, statement, an insert's columns) → the statement, kept so that the id it is filed
# under cannot be reused meanwhile, and its plan (None: it takes the ordinary path)
_plans: dict[tuple[int, int, tuple[str, ...] | None], tuple[Executable, _Plan | None]] = {}


def execute(session: Session, stmt: Executable,
            params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run ``stmt`` (built once) with ``params`` in the session's transaction; the rows it
    returns (``RETURNING`` or a ``SELECT``) as tuples, column types applied.

    For an ``INSERT`` built without ``values()``, the keys of ``params`` are its columns.
    The session is not flushed first: pending ORM objects this statement depends on must be
    flushed by the caller.
    """
    conn = session.connection()
    dialect = conn.dialect
    plan = _plan(dialect, stmt, params) if dialect.driver == "psycopg" else None
    if plan is None:
        # the session's connection, not the session: no autoflush, no ORM bulk semantics,
        # the same on every database
        result = conn.execute(stmt, dict(params) if params is not None else None)
        return [tuple(row) for row in result] if result.returns_rows else []
    bound = plan.values(plan.compiled.construct_params(params=params, escape_names=False))
    fairy: Any = conn.connection
    dbapi: Any = fairy.driver_connection
    with cast(Any, RawCursor(dbapi)) as cursor:  # (a DB-API cursor to SQLAlchemy)
        try:
            cursor.execute(plan.sql, bound)
            rows = cursor.fetchall() if cursor.description is not None else []
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi, cursor):
                conn.invalidate(error)
            raise exc.DBAPIError.instance(plan.sql, bound, error, dialect.loaded_dbapi.Error,
                                          dialect=dialect) from error
        if rows and plan.results is None:
            plan.results = result_processors(dialect, plan.compiled, cursor.description)
    results = plan.results
    if not rows or not results or not any(results):
        return rows
    return [tuple(process(value) if process is not None else value
                  for process, value in zip(results, row, strict=True)) for row in rows]


def scalar(session: Session, stmt: Executable, params: Mapping[str, Any] | None = None) -> Any:
    """The first column of the first row ``execute`` returns, or None."""
    rows = execute(session, stmt, params)
    return rows[0][0] if rows else None


def get_for_update(session: Session, model: type[T], key: Any) -> T | None:
    """``session.get(model, key, with_for_update=True)`` through one prebuilt statement: the
    row is locked and the instance attached to the session as if the ORM had loaded it (later
    changes to it are flushed as an UPDATE of what changed), without the ORM's loading work.
    An instance the session already holds is refreshed by ``Session.get`` as usual."""
    mapper = inspect(model)
    if identity_key(model, key) in session.identity_map:
        return session.get(model, key, with_for_update=True)
    stmt, attrs = _lock_by_key(mapper)
    rows = execute(session, stmt, {"key": key})
    if not rows:
        return None
    return attach(session, model, dict(zip(attrs, rows[0], strict=True)))


def attach(session: Session, model: type[T], values: Mapping[str, Any]) -> T:
    """An instance of ``model`` with ``values`` (attribute → value), attached to the session as
    if the ORM had just loaded it from a row this transaction wrote or read (no INSERT at
    flush; later changes flush as an UPDATE of what changed)."""
    mapper = inspect(model)
    if not mapper.configured:  # (a constructor would configure the mappers; new_instance does not)
        configure_mappers()
    instance = mapper.class_manager.new_instance()
    for attr, value in values.items():
        set_committed_value(instance, attr, value)
    make_transient_to_detached(instance)
    session.add(instance)
    return cast(T, instance)


@lru_cache(maxsize=64)
def _lock_by_key(mapper: Mapper[Any]) -> tuple[Select[Any], tuple[str, ...]]:
    """``SELECT <every column> … WHERE <primary key> = :key FOR UPDATE`` and the attribute
    each column loads into."""
    [pk] = mapper.primary_key
    columns = list(mapper.columns)
    stmt = select(*columns).where(pk == bindparam("key")).with_for_update()
    return stmt, tuple(mapper.get_property_by_column(c).key for c in columns)


def _plan(dialect: Any, stmt: Executable, params: Mapping[str, Any] | None) -> _Plan | None:
    keys = tuple(sorted(params)) if params is not None and getattr(stmt, "is_insert", False) else None
    slot = (id(dialect), id(stmt), keys)
    kept = _plans.get(slot)
    if kept is not None and kept[0] is stmt:
        return kept[1]
    if len(_plans) >= _PLAN_LIMIT:
        _plans.clear()
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)  # type: ignore[attr-defined]
    plan = _Plan.of(compiled) if isinstance(compiled, SQLCompiler) and _plain(compiled) else None
    _plans[slot] = (stmt, plan)
    return plan


def _plain(compiled: SQLCompiler) -> bool:
    """Nothing for SQLAlchemy to do at execution time but pass the values on."""
    return not (compiled.positional or compiled.post_compile_params
                or compiled.literal_execute_params or compiled.insert_prefetch
                or compiled.update_prefetch or compiled.schema_translate_map)
