"""Event handlers of the support service: one function per consumed event type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from .events import ACCOUNT_OPENED, AccountOpenedIn
from .models import KnownAccount

# Both dialects the services run on speak INSERT … ON CONFLICT DO UPDATE … WHERE.
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class HandlerDeps:
    """What handlers need besides the session."""

    clock: Callable[[], datetime]


def on_account_opened(session: Session, event: Envelope, data: dict[str, Any], *,
                      deps: HandlerDeps) -> None:
    """Remember the account so tickets can be opened for it and scoped to its owner.

    One atomic upsert that only writes a newer version: redeliveries, replays and events
    overtaking each other across consumers all leave the newest state in place.
    """
    values = {
        "account_id": data["account_id"], "name": data["name"], "code": data["code"],
        "owner_id": data["owner_id"], "owner_team": data["owner_team"],
        "version": data["version"], "updated_at": deps.clock(),
    }
    stmt = _INSERT[session.get_bind().dialect.name](KnownAccount).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[KnownAccount.account_id],
        set_={k: stmt.excluded[k] for k in values if k != "account_id"},
        where=KnownAccount.version < stmt.excluded.version,
    )
    session.execute(stmt)


def subscriptions(deps: HandlerDeps) -> dict[str, Subscription]:
    return {
        ACCOUNT_OPENED: Subscription(partial(on_account_opened, deps=deps), AccountOpenedIn().load),
    }
