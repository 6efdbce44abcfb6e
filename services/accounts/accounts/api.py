"""HTTP API of the accounts service: open, list and search, read the card, the audit trail."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.views import MethodView
from sqlalchemy import (
    CompoundSelect,
    Connection,
    Date,
    Select,
    String,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, PageQuerySchema, Problem
from httpapi.paging import newest_first, page

from . import domain, web
from .archive import rules as archive_rules
from .archive.models import AccountContact, AccountEvaluation, AccountViolation
from .archive.schemas import (
    SUMMARY_FIELDS,
    AccountDetailSchema,
    AccountListQuerySchema,
    AccountPageSchema,
    CardEditSchema,
)
from .archive.service import apply_changes
from .credit.hooks import credit_limit_of
from .errors import Forbidden, NotFound
from .models import Account, AccountAudit
from .records import open_account
from .schemas import AccountCreateSchema, AuditPageSchema
from .summary.service import credit_limit

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts",
                description="Customer accounts and their archive (客户档案)")
OPENERS = (authn.ADMIN, authn.SALES_MANAGER, authn.INTEGRATION, authn.ARCHIVE_CLERK)
READERS = authn.ROLES


_ACCOUNTS = Account.__table__
_CONTACTS = AccountContact.__table__
# The card reads the account columns its response documents (not the internal keys and
# bookkeeping), then the credit limit, then one contact per row (outer join).
_CARD_ACCOUNT = tuple(c for c in _ACCOUNTS.columns if c.key in AccountDetailSchema._declared_fields)
_CARD_COLUMNS = tuple(c.key for c in _CARD_ACCOUNT)
_CONTACT_COLUMNS = ("id", "category", "name", "department_title", "phone", "fax", "mobile", "email")
_CARD_CREDIT = len(_CARD_COLUMNS)
_CARD_CONTACT = _CARD_CREDIT + 1


def _in_scope(stmt: Select[Any], scope: domain.Scope) -> Select[Any]:
    a = _ACCOUNTS.c
    if scope.everything:
        return stmt
    if scope.team is not None:
        return stmt.where(or_(a.owner_id == scope.owner_id, a.owner_team == scope.team))
    return stmt.where(a.owner_id == scope.owner_id)


def _search(stmt: Select[Any], q: str) -> Select[Any]:
    """A tax number, a phone (the account's or a contact's), else a name prefix."""
    a, contact = _ACCOUNTS.c, _CONTACTS.c
    text = q.strip()
    compact = text.replace(" ", "").upper()
    if len(compact) == 18 and compact.isalnum() and any(c.isdigit() for c in compact[:8]):
        return stmt.where(a.tax_number == compact)
    try:
        phone = domain.normalize_phone(text) if sum(c.isdigit() for c in text) >= 5 else None
    except ValueError:
        phone = None
    if phone is not None:
        # One id set from three index lookups (no OR across tables, which plans as a scan).
        ids = union(select(a.id).where(a.phone == phone),
                    select(contact.account_id).where(contact.phone == phone),
                    select(contact.account_id).where(contact.mobile == phone))
        return stmt.where(a.id.in_(select(ids.subquery().c[0])))
    pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return stmt.where(a.name_key.like(pattern, escape="\\"))


def raw(account: Account) -> dict[str, Any]:
    """The account's columns as values (the response schema serializes them)."""
    return {c.key: getattr(account, c.key) for c in Account.__table__.columns}


def _history_statement() -> CompoundSelect:
    """Violations and evaluations of ``:account_id`` in one round trip (UNION ALL), 200 each."""
    v, e = AccountViolation.__table__.c, AccountEvaluation.__table__.c
    account_id = bindparam("account_id", type_=String)
    # Each part limited in a subquery: SQLite allows no ORDER BY / LIMIT inside a compound.
    newest_v = (select(literal("v").label("k"), v.id, v.kind.label("a"), v.description.label("b"),
                       v.occurred_on.label("d"), v.recorded_by, v.recorded_at)
                .where(v.account_id == account_id).order_by(v.occurred_on.desc()).limit(200)
                .subquery())
    newest_e = (select(literal("e").label("k"), e.id, e.evaluator.label("a"), e.text.label("b"),
                       cast(null(), Date).label("d"), e.recorded_by, e.recorded_at)
                .where(e.account_id == account_id).order_by(e.recorded_at.desc()).limit(200)
                .subquery())
    return union_all(select(newest_v), select(newest_e))


# Built once: a statement per request costs more to construct than to run.
_HISTORY = _history_statement()
_CARD = (select(*_CARD_ACCOUNT, credit_limit_of(_ACCOUNTS.c.id),
                *(_CONTACTS.c[n] for n in _CONTACT_COLUMNS))
         .select_from(_ACCOUNTS.outerjoin(_CONTACTS, _CONTACTS.c.account_id == _ACCOUNTS.c.id))
         .where(_ACCOUNTS.c.id == bindparam("account_id", type_=String))
         .order_by(_CONTACTS.c.position))


def _history(session: Session | Connection,
             account_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Violations and evaluations, newest first, 200 each."""
    rows: list[Any] = list(session.execute(_HISTORY, {"account_id": account_id}).all())
    violations = [{"id": r.id, "kind": r.a, "description": r.b, "occurred_on": r.d,
                   "recorded_by": r.recorded_by, "recorded_at": r.recorded_at}
                  for r in rows if r.k == "v"]
    evaluations = [{"id": r.id, "evaluator": r.a, "text": r.b, "recorded_by": r.recorded_by,
                    "recorded_at": r.recorded_at} for r in rows if r.k == "e"]
    violations.sort(key=lambda x: x["occurred_on"], reverse=True)
    evaluations.sort(key=lambda x: x["recorded_at"], reverse=True)
    return violations, evaluations


def _money(limit: Decimal | None) -> str | None:
    return f"{limit:.2f}" if limit is not None else None


def detail(session: Session, account: Account) -> dict[str, Any]:
    """The card as the caller may see it: contacts, violations, evaluations, credit limit."""
    data = raw(account)
    data["contacts"] = account.contacts
    data["violations"], data["evaluations"] = _history(session, account.id)
    data["credit_limit"] = _money(credit_limit(session, account.id))
    return web.mask_for(current_principal(), data)


def read_card(conn: Connection, account_id: str) -> dict[str, Any]:
    """``detail`` for a read, in two statements: the account with its credit limit and contacts
    (one row per contact), then its violations and evaluations. 404 as ``visible_account``:
    also when the account exists but is not the caller's."""
    rows = conn.execute(_CARD, {"account_id": account_id}).all() if len(account_id) <= 36 else []
    if not rows:
        raise NotFound(f"no account {account_id}")
    first = rows[0]
    data = dict(zip(_CARD_COLUMNS, first[:_CARD_CREDIT], strict=True))
    principal = current_principal()
    if not domain.scope_for(principal).allows(domain.AccountAccess(
            owner_id=data["owner_id"], owner_team=data["owner_team"])):
        raise NotFound(f"no account {account_id}")
    data["contacts"] = [dict(zip(_CONTACT_COLUMNS, r[_CARD_CONTACT:], strict=True))
                        for r in rows if r[_CARD_CONTACT] is not None]
    data["credit_limit"] = _money(first[_CARD_CREDIT])
    data["violations"], data["evaluations"] = _history(conn, account_id)
    return web.mask_for(principal, data)


_LIST = select(*(_ACCOUNTS.c[f] for f in SUMMARY_FIELDS))


@blp.route("")
class Accounts(MethodView):
    @blp.arguments(AccountCreateSchema)
    @blp.response(201, AccountDetailSchema)
    @require_roles(*OPENERS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Open an account directly (not from a lead); its archive starts as a draft; audited
        with the caller as actor."""
        principal = current_principal()
        owner_team = body["owner_team"]
        if owner_team is None and principal.is_manager:
            owner_team = principal.team
        if not (domain.can_assign_owner(principal, owner_team)
                or principal.has_any(authn.ARCHIVE_CLERK)):
            raise Problem(403, "Forbidden", "managers may only open accounts within their team")
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = open_account(
                session, ctx.bus.emit, at=ctx.clock(), actor=principal.sub,
                reason=body["reason"] or domain.DIRECT_REASON, name=body["name"],
                company=body["company"], phone=body["phone"], email=body["email"],
                owner_id=body["owner_id"], owner_team=owner_team,
            )
            return detail(session, account)

    @blp.arguments(AccountListQuerySchema, location="query")
    @blp.response(200, AccountPageSchema)
    @require_roles(*READERS)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Accounts the caller may see, newest first, keyset-paginated; ``q`` searches by name
        prefix, phone (the account's or a contact's) or tax number."""
        a = _ACCOUNTS.c
        stmt = _in_scope(_LIST, domain.scope_for(current_principal()))
        for name in ("owner_id", "status", "archive_state", "grade"):
            if query[name]:
                stmt = stmt.where(a[name] == query[name])
        if query["q"]:
            stmt = _search(stmt, query["q"])
        stmt = newest_first(stmt, a.created_at, a.id, query)
        with web.reading() as conn:
            # Rows as mappings (no ORM instances): the header columns, dumped as they come.
            rows = list(conn.execute(stmt).mappings())
        return page(rows, query["limit"], key=lambda r: (r["created_at"], r["id"]))


@blp.route("/<string:account_id>")
class AccountById(MethodView):
    @blp.response(200, AccountDetailSchema)
    @require_roles(*READERS)
    def get(self, account_id: str) -> dict[str, Any]:
        """The archive card (客户档案表) with contacts, violation records and evaluations."""
        with web.reading() as conn:
            return read_card(conn, account_id)

    @blp.arguments(CardEditSchema)
    @blp.response(200, AccountDetailSchema)
    @blp.alt_response(403, description="Only the archive clerk edits directly; others submit a "
                                       "change request")
    @require_roles(*READERS)
    def patch(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Edit archive fields directly (archive clerk 销售内勤(客户管理) only), with a written
        reason; each field's before/after goes to the audit trail. Everyone else with access
        submits a change request (``POST …/change-requests``)."""
        principal = current_principal()
        reason = body.pop("reason")
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            account = web.visible_account(session, account_id, lock=True)
            if not archive_rules.can_edit_directly(principal):
                raise Forbidden("only the archive clerk edits the archive directly; submit a "
                                "change request (POST …/change-requests)")
            apply_changes(session, ctx.bus.emit, account, body, actor=principal.sub,
                          reason=reason, at=ctx.clock())
            return detail(session, account)


def _audit_view(row: AccountAudit, mask: bool) -> dict[str, Any]:
    changes = json.loads(row.changes or "{}")
    out = {}
    for name, change in changes.items():
        if isinstance(change, dict) and "from" in change and "before" not in change:
            change = {"before": change.get("from"), "after": change.get("to")}
        if mask and name == "bank_account" and isinstance(change, dict):
            change = {k: archive_rules.mask_bank_account(v) for k, v in change.items()}
        out[name] = change
    return {"id": row.id, "account_id": row.account_id, "at": row.at, "actor": row.actor,
            "action": row.action, "reason": row.reason, "changes": out}


@blp.route("/<string:account_id>/audit")
class AccountAuditTrail(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    @require_roles(*READERS)
    def get(self, query: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Every recorded change to the account, newest first: actor, time, reason and each
        field's before/after. The trail is append-only (the database refuses updates)."""
        mask = not archive_rules.sees_bank_account(current_principal())
        with web.ctx().bus.session_factory() as session:
            web.visible_account(session, account_id)
            stmt = select(AccountAudit).where(AccountAudit.account_id == account_id)
            stmt = newest_first(stmt, AccountAudit.at, AccountAudit.id, query)
            rows = list(session.scalars(stmt))
        result = page(rows, query["limit"], key=lambda r: (r.at, r.id))
        result["items"] = [_audit_view(r, mask) for r in result["items"]]
        return result
