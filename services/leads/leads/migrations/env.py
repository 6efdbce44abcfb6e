from leads.db import Base
from servicedb import run_alembic_env

run_alembic_env(Base.metadata)
