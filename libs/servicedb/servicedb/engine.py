"""A service's database engine and migrations, set up the way the outbox relies on.

PostgreSQL in distributed mode; SQLite (one file per service) in embedded mode, in WAL mode
with a busy timeout so the web thread, the relay and the consumer can write concurrently.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine


def create_service_engine(url: str, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", int(os.environ.get("DB_POOL_SIZE", "10")))
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def database_url_from_env(service: str) -> str:
    """``<SERVICE>_DATABASE_URL`` or ``DATABASE_URL``; else, only where ``CRM_DATA_DIR`` says
    this is the embedded mode, a SQLite file there. A distributed process with no database
    setting refuses to start rather than quietly writing to a local file."""
    url = os.environ.get(f"{service.upper()}_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    data_dir = os.environ.get("CRM_DATA_DIR")
    if data_dir:
        return f"sqlite:///{data_dir}/{service}.db"
    raise RuntimeError(f"no database configured: set {service.upper()}_DATABASE_URL "
                       "(or CRM_DATA_DIR for the embedded SQLite mode)")


def env_flag(name: str, default: bool) -> bool:
    """An on/off setting: 1/true/yes/on or 0/false/no/off."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"{name} must be 1/true/yes/on or 0/false/no/off, not {value!r}")


def upgrade(engine: Engine, package: str) -> None:
    """Bring the schema to every head. Replicas starting together serialize on an advisory lock."""
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": package})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")  # parallel branches of migrations are allowed


def run_alembic_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    from alembic import context

    conn = context.config.attributes.get("connection")
    if conn is None:
        url = context.config.get_main_option("sqlalchemy.url")
        engine = create_service_engine(url)
        with engine.begin() as conn:
            _configure_and_run(context, conn, metadata)
    else:
        _configure_and_run(context, conn, metadata)


def _configure_and_run(context, conn, metadata: MetaData) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, target_metadata=metadata,
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
