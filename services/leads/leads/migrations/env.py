from servicedb import run_alembic_env

from leads.models import Base

run_alembic_env(Base.metadata)
