"""A CRM service's own database: engine, migrations, base metadata, readable codes."""

from .base import CodeCounterMixin, new_metadata, next_code
from .engine import create_service_engine, database_url_from_env, env_flag, run_alembic_env, upgrade

__all__ = ["CodeCounterMixin", "create_service_engine", "database_url_from_env", "env_flag", "new_metadata",
           "next_code", "run_alembic_env", "upgrade"]
