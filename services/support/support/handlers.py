"""Event handlers of the support service: one function per consumed event type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription
from servicedb import dialect_insert

from .events import ACCOUNT_OPENED, AccountOpenedIn
from .models import KnownAccount


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
    stmt = dialect_insert(session, KnownAccount).values(**values)
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
