"""Is the database's schema what this code expects? And the explicit migration command.

The code's expectation is the set of Alembic heads in the service's ``migrations`` package;
the database's state is its ``alembic_version`` rows. The schema is *behind* when a code head
is missing from the database and the database names no revision the code does not know (a
database migrated by a newer release is *ahead*, which expand/contract migrations allow).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from .engine import upgrade

VERSION_TABLE = "alembic_version"


class MigrationFailed(RuntimeError):
    """A migration ran but the schema is still not at the code's heads (or it raised)."""


@dataclass(frozen=True)
class SchemaState:
    package: str
    database: tuple[str, ...]  # revisions in alembic_version (empty: never migrated)
    code: tuple[str, ...]  # heads of the code's migrations
    unknown: tuple[str, ...]  # database revisions the code does not know (a newer release's)

    @property
    def behind(self) -> bool:
        return not self.unknown and not set(self.code) <= set(self.database)

    @property
    def problem(self) -> str | None:
        """Why the schema is not usable by this code, or None."""
        if not self.behind:
            return None
        have = ", ".join(self.database) or "nothing (never migrated)"
        return (f"the {self.package} schema is behind the code: database at {have}, code needs "
                f"{', '.join(self.code)}; run '{self.package}-worker migrate'")

    def to_dict(self) -> dict[str, object]:
        return {"service": self.package, "database": list(self.database), "code": list(self.code),
                "behind": self.behind, "ahead": bool(self.unknown)}


@cache
def _script(package: str) -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    return ScriptDirectory.from_config(cfg)


def code_heads(package: str) -> tuple[str, ...]:
    return tuple(sorted(_script(package).get_heads()))


def schema_state(engine: Engine, package: str) -> SchemaState:
    """Reads ``alembic_version``; raises what the driver raises when the database is down."""
    script = _script(package)
    with engine.connect() as conn:
        # Read directly: alembic's MigrationContext logs two INFO lines per call, which every
        # readiness probe would repeat.
        if not inspect(conn).has_table(VERSION_TABLE):
            current: tuple[str, ...] = ()
        else:
            current = tuple(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()))
    unknown = []
    for rev in current:
        try:
            if script.get_revision(rev) is None:
                unknown.append(rev)
        except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
            unknown.append(rev)
    return SchemaState(package, current, code_heads(package), tuple(unknown))


def migrate(engine: Engine, package: str) -> tuple[SchemaState, SchemaState]:
    """Bring the schema to the code's heads, then check it got there; returns (before, after).

    Raises ``MigrationFailed`` with the reason rather than ever returning quietly with a
    schema that is still behind.
    """
    before = schema_state(engine, package)
    try:
        upgrade(engine, package)
    except Exception as exc:
        raise MigrationFailed(f"migrating {package} failed: {type(exc).__name__}: {exc}") from exc
    after = schema_state(engine, package)
    if after.behind:
        raise MigrationFailed(after.problem or f"{package} is still behind after migrating")
    return before, after
