"""What every credit endpoint shares: who sees which account's credit, the locked operation,
and refusals as problem+json."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.orm import Session

import authn
from authn import Principal
from authn.flask import current_principal
from httpapi import Problem

from .. import domain
from ..checks.service import Locked, lock
from ..context import AccountsContext
from ..holds.service import has_default
from ..ledger.service import LedgerError, Op
from ..limits.rules import add_months
from ..models import Account
from . import policy as credit_policy
from .state import business_date, credit_row

# Posts whose work is every customer's credit: they see all accounts' credit.
CREDIT_STAFF = (authn.ADMIN, authn.FINANCE, authn.REVIEW_GROUP, authn.SALES_OPS_MANAGER,
                authn.SALES_VP, authn.SALES_GM, authn.GROUP_GM, authn.INTEGRATION,
                authn.SUPPORT_AGENT, authn.ARCHIVE_CLERK)
READERS = (*CREDIT_STAFF, authn.SALES_REP, authn.SALES_MANAGER)
FINANCE = (authn.FINANCE, authn.ADMIN)
CHECKERS = (authn.INTEGRATION, authn.ADMIN, authn.FINANCE, authn.SALES_MANAGER, authn.SALES_REP)
HOLDERS = (authn.FINANCE, authn.SALES_OPS_MANAGER, authn.ADMIN)
REQUESTERS = (authn.SALES_REP, authn.SALES_MANAGER, authn.REVIEW_GROUP, authn.FINANCE,
              authn.SALES_OPS_MANAGER, authn.ADMIN)


def ctx() -> AccountsContext:
    return current_app.extensions["accounts"]


def can_see(principal: Principal, account: Account) -> bool:
    if principal.has_any(*CREDIT_STAFF):
        return True
    return domain.scope_for(principal).allows(
        domain.AccountAccess(owner_id=account.owner_id, owner_team=account.owner_team))


def visible(session: Session, account_id: str, *, lock: bool = False) -> Account:
    """The account, or 404 — also when the caller may not see it, so ids reveal nothing."""
    account = session.get(Account, account_id)
    if account is None or not can_see(current_principal(), account):
        raise Problem(404, "Not Found", f"no account {account_id}")
    return account


def refuse(exc: LedgerError) -> Problem:
    if exc.status == 422:
        return Problem(422, "Unprocessable Content", "The request did not validate; see errors.",
                       errors={"json": {exc.field or "_schema": [str(exc)]}})
    title = {404: "Not Found", 409: "Conflict", 403: "Forbidden"}.get(exc.status, "Conflict")
    return Problem(exc.status, title, str(exc))


@contextmanager
def operation(account_id: str) -> Iterator[Op]:
    """A transaction on the account's credit with its row locked; refusals become problems."""
    c = ctx()
    with c.bus.session_factory() as session, session.begin():
        account = visible(session, account_id)
        policy = credit_policy.current(session)
        row = credit_row(session, account.id, policy.default_currency)
        try:
            yield Op(session=session, emit=c.bus.emit, account=account, row=row, policy=policy,
                     now=c.clock(), actor=current_principal().sub)
        except LedgerError as exc:
            raise refuse(exc) from exc


@contextmanager
def check_operation(account_id: str, order_id: str) -> Iterator[tuple[Op, Locked | None]]:
    """``operation`` for a credit check: one statement locks the credit row and reads the
    account, the order's earlier check, the policy's version and the default flag with it
    (see ``checks.service.lock``); an account without a credit row yet takes ``operation``'s
    path (``Locked`` None)."""
    c = ctx()
    now = c.clock()
    with c.bus.session_factory() as session, session.begin():
        # The default's cut-off needs the policy's months before the statement that reads the
        # policy's version: take this connection's cached policy, and check it afterwards.
        guess = credit_policy.cached_or_defaults(session)
        before = add_months(business_date(now), -guess.default_liability_months)
        locked = lock(session, account_id, order_id, before)
        if locked is None:
            account = visible(session, account_id)
            policy = credit_policy.current(session)
            row = credit_row(session, account.id, policy.default_currency)
        else:
            account, row = locked.account, locked.row
            if not can_see(current_principal(), account):
                raise Problem(404, "Not Found", f"no account {account_id}")
            policy = credit_policy.cached(session, locked.policy_version)
            if policy.default_liability_months != guess.default_liability_months:
                locked = dataclasses.replace(locked, overdue=has_default(
                    session, account.id, business_date(now), policy.default_liability_months))
        try:
            yield Op(session=session, emit=c.bus.emit, account=account, row=row, policy=policy,
                     now=now, actor=current_principal().sub), locked
        except LedgerError as exc:
            raise refuse(exc) from exc
