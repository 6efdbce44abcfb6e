"""Shared request helpers of the accounts API: the context, the visible account, masking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from authn import Principal
from authn.flask import current_principal
from servicedb import read_connection

from . import domain
from .archive import rules as archive_rules
from .context import AccountsContext
from .errors import NotFound
from .models import Account


def ctx() -> AccountsContext:
    return current_app.extensions["accounts"]


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for a read that needs no transaction (the card, a page of the list):
    ``servicedb.read_connection``, on PostgreSQL in autocommit, so each statement reads its own
    snapshot, as it does under READ COMMITTED inside a transaction, minus the BEGIN and ROLLBACK
    round trips (two of a card's four)."""
    with read_connection(ctx().bus.engine) as conn:
        yield conn


def access(account: Account) -> domain.AccountAccess:
    return domain.AccountAccess(owner_id=account.owner_id, owner_team=account.owner_team)


def visible_account(session: Session, account_id: str, *, lock: bool = False) -> Account:
    """The account, or 404 — also when it exists but is not the caller's, so ids reveal nothing
    (the card's read, ``api.read_card``, answers the same way)."""
    account = (session.get(Account, account_id, with_for_update=lock)
               if len(account_id) <= 36 else None)
    if account is None or not domain.scope_for(current_principal()).allows(access(account)):
        raise NotFound(f"no account {account_id}")
    return account


def mask_for(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """Bank account numbers masked for roles that do not need them."""
    if not archive_rules.sees_bank_account(principal) and data.get("bank_account"):
        data["bank_account"] = archive_rules.mask_bank_account(data["bank_account"])
    return data
