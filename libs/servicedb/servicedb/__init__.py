"""A CRM service's own database: engine, settings, migrations, base metadata, readable codes,
column types and statements that behave alike on PostgreSQL and SQLite, append-only tables."""

from .appendonly import drop_append_only, make_append_only
from .base import CodeCounterMixin, new_metadata, next_code
from .engine import create_service_engine, run_alembic_env, upgrade
from .reads import read_connection, read_one, read_rows
from .schema import MigrationFailed, SchemaState, code_heads, migrate, schema_state
from .settings import DatabaseSettings, env_flag, parse_flag
from .types import UtcDateTime, dialect_insert

__all__ = [
    "CodeCounterMixin", "DatabaseSettings", "MigrationFailed", "SchemaState", "UtcDateTime", "code_heads",
    "create_service_engine", "dialect_insert", "drop_append_only", "env_flag", "make_append_only",
    "migrate", "new_metadata", "next_code", "parse_flag", "read_connection", "read_one", "read_rows",
    "run_alembic_env", "schema_state", "upgrade",
]
