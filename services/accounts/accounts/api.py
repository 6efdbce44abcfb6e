"""HTTP API of the accounts service: parse, apply the rules, serialize."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, PageQuerySchema, Problem
from httpapi.paging import newest_first, page

from . import domain
from .context import AccountsContext
from .models import Account, AccountAudit
from .records import open_account
from .schemas import (
    AccountCreateSchema,
    AccountListQuerySchema,
    AccountPageSchema,
    AccountSchema,
    AuditPageSchema,
)

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts", description="Customer accounts")
OPENERS = (authn.ADMIN, authn.SALES_MANAGER, authn.INTEGRATION)
READERS = authn.ROLES


def _ctx() -> AccountsContext:
    return current_app.extensions["accounts"]


def _access(account: Account) -> domain.AccountAccess:
    return domain.AccountAccess(owner_id=account.owner_id, owner_team=account.owner_team)


def _visible_account(session: Session, account_id: str) -> Account:
    """The account, or 404 — also when it exists but is not the caller's, so ids reveal nothing."""
    account = session.get(Account, account_id)
    if account is None or not domain.scope_for(current_principal()).allows(_access(account)):
        raise Problem(404, "Not Found", f"no account {account_id}")
    return account


def _in_scope(stmt: Select[Any], scope: domain.Scope) -> Select[Any]:
    if scope.everything:
        return stmt
    if scope.team is not None:
        return stmt.where(or_(Account.owner_id == scope.owner_id, Account.owner_team == scope.team))
    return stmt.where(Account.owner_id == scope.owner_id)


@blp.route("")
class Accounts(MethodView):
    @blp.arguments(AccountCreateSchema)
    @blp.response(201, AccountSchema)
    @require_roles(*OPENERS)
    def post(self, body: dict[str, Any]) -> Account:
        """Open an account directly (not from a lead); audited with the caller as actor."""
        principal = current_principal()
        owner_team = body["owner_team"]
        if owner_team is None and principal.is_manager:
            owner_team = principal.team
        if not domain.can_assign_owner(principal, owner_team):
            raise Problem(403, "Forbidden", "managers may only open accounts within their team")
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = open_account(
                session, ctx.bus.emit, at=ctx.clock(), actor=principal.sub,
                reason=body["reason"] or domain.DIRECT_REASON, name=body["name"],
                company=body["company"], phone=body["phone"], email=body["email"],
                owner_id=body["owner_id"], owner_team=owner_team,
            )
        return account

    @blp.arguments(AccountListQuerySchema, location="query")
    @blp.response(200, AccountPageSchema)
    @require_roles(*READERS)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Accounts the caller may see, newest first, keyset-paginated."""
        stmt = _in_scope(select(Account), domain.scope_for(current_principal()))
        if query["owner_id"]:
            stmt = stmt.where(Account.owner_id == query["owner_id"])
        stmt = newest_first(stmt, Account.created_at, Account.id, query)
        with _ctx().bus.session_factory() as session:
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda a: (a.created_at, a.id))


@blp.route("/<string:account_id>")
class AccountById(MethodView):
    @blp.response(200, AccountSchema)
    @require_roles(*READERS)
    def get(self, account_id: str) -> Account:
        with _ctx().bus.session_factory() as session:
            return _visible_account(session, account_id)


@blp.route("/<string:account_id>/audit")
class AccountAuditTrail(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    @require_roles(*READERS)
    def get(self, query: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Every recorded change to the account, newest first."""
        with _ctx().bus.session_factory() as session:
            _visible_account(session, account_id)
            stmt = select(AccountAudit).where(AccountAudit.account_id == account_id)
            stmt = newest_first(stmt, AccountAudit.at, AccountAudit.id, query)
            rows = list(session.scalars(stmt))
        return page(rows, query["limit"], key=lambda r: (r.at, r.id))
