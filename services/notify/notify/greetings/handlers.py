"""Keep the customer cards from accounts events (tolerant: the ``account`` snapshot when the
event carries one, else the fields of ``accounts.account.opened.v1``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from . import service


def observe_account(session: Session, event_type: str, data: dict[str, Any], now: datetime) -> None:
    if not event_type.startswith("accounts."):
        return
    snapshot = data.get("account")
    if not isinstance(snapshot, dict):
        if event_type != "accounts.account.opened.v1":
            return
        snapshot = {
            "id": data.get("account_id"),
            "code": data.get("code"),
            "name": data.get("name"),
            "owner_id": data.get("owner_id"),
            "owner_team": data.get("owner_team"),
            "status": "active",
            "version": data.get("version"),
            "contact": {
                "name": data.get("source_lead_name"),
                "mobile": data.get("phone"),
                "email": data.get("email"),
            },
        }
    service.upsert_card(session, snapshot, now)
