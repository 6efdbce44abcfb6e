from servicedb import run_alembic_env
from support.models import Base

run_alembic_env(Base.metadata)
