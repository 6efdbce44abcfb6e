"""The one home of each change to the customer archive: load, check the rules, write, audit,
emit — in the caller's transaction. API handlers and event handlers both call these.

For the credit capability (stable): ``archive_state(session, account_id)`` and
``account_status(session, account_id)``; ``record_purchase`` reactivates an account when the
ledger books a purchase.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..credit.hooks import credit_hold
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import Account, AccountAudit
from ..policy.service import current_policy
from ..records import Emit
from . import rules
from .events import (
    ACCOUNT_UPDATED,
    ARCHIVE_APPROVED,
    ARCHIVE_REJECTED,
    STATUS_CHANGED,
    approved_payload,
    rejected_payload,
    status_payload,
    updated_payload,
)
from .fields import BY_NAME, CONTACT_FIELDS, CONTACTS
from .models import AccountContact, AccountEvaluation, AccountViolation, ChangeRequest

# Audit actions.
EDITED, REQUEST_APPLIED, STATUS, SUBMITTED, APPROVED, REJECTED = (
    "edited", "change_request_applied", "status_changed", "submitted_for_review",
    "archive_approved", "archive_rejected")
VIOLATION, EVALUATION, REQUEST_REJECTED = "violation_recorded", "evaluation_recorded", \
    "change_request_rejected"


# --- reads for other capabilities --------------------------------------------------------------
def archive_state(session: Session, account_id: str) -> str:
    """draft | pending_review | pending_approval | approved | rejected (NotFound if absent)."""
    state = session.scalar(select(Account.archive_state).where(Account.id == account_id))
    if state is None:
        raise NotFound(f"no account {account_id}")
    return state


def account_status(session: Session, account_id: str) -> str:
    """active | inactive | lost (NotFound if absent)."""
    status = session.scalar(select(Account.status).where(Account.id == account_id))
    if status is None:
        raise NotFound(f"no account {account_id}")
    return status


def contacts_of(session: Session, account_id: str) -> list[AccountContact]:
    return list(session.scalars(select(AccountContact).where(AccountContact.account_id == account_id)
                                .order_by(AccountContact.position)))


# --- values as the audit trail and events record them --------------------------------------------
def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def contact_values(contact: AccountContact | Mapping[str, Any]) -> dict[str, Any]:
    get = contact.get if isinstance(contact, Mapping) else (lambda k: getattr(contact, k, None))
    return {f.name: get(f.name) for f in CONTACT_FIELDS}


def card_values(session: Session, account: Account, names: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        if name == CONTACTS:
            out[name] = [contact_values(c) for c in contacts_of(session, account.id)]
        else:
            out[name] = plain(getattr(account, name))
    return out


def snapshot(session: Session, account: Account) -> dict[str, Any]:
    """The account as read models keep it (support's known accounts), highest version wins."""
    primary = next(iter(contacts_of(session, account.id)), None)
    contact = None
    if primary is not None:
        contact = {"name": primary.name, "title": primary.department_title,
                   "mobile": primary.mobile or primary.phone, "email": primary.email}
    return {"id": account.id, "code": account.code, "name": account.name,
            "owner_id": account.owner_id, "owner_team": account.owner_team,
            "status": account.status, "archive_state": account.archive_state,
            "grade": account.grade, "member": account.grade in ("A", "B"),
            "key_customer": account.grade == "A",
            "credit_hold": credit_hold(session, account.id), "city": account.region,
            "timezone": None, "contact": contact, "version": account.version}


def write_audit(session: Session, account: Account, *, at: datetime, actor: str, action: str,
                reason: str, changed: Mapping[str, Any]) -> AccountAudit:
    row = AccountAudit(id=str(uuid.uuid4()), account_id=account.id, at=at, actor=actor,
                       action=action, reason=reason,
                       changes=json.dumps(changed, ensure_ascii=False, default=str))
    session.add(row)
    return row


def masked(changed: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Events leave the service: bank account numbers travel masked."""
    out = {k: dict(v) for k, v in changed.items()}
    if "bank_account" in out:
        out["bank_account"] = {k: rules.mask_bank_account(v) for k, v in out["bank_account"].items()}
    return out


def _bump(account: Account, at: datetime) -> None:
    account.version += 1
    account.updated_at = at


def tax_holder(session: Session, account: Account, *, status: str | None = None,
               archive_state: str | None = None) -> str | None:
    """The code of another live account holding this account's tax number, were this one live
    with ``status`` / ``archive_state`` (default: as it is)."""
    live = rules.live_tax_number(account.tax_number, status or account.status,
                                 archive_state or account.archive_state)
    if live is None or live == account.live_tax_number:
        return None
    return session.scalar(select(Account.code).where(Account.live_tax_number == live,
                                                    Account.id != account.id))


def _sync_tax(session: Session, account: Account) -> None:
    """Keep live_tax_number; a live account with another's code is a 409 (the unique constraint
    backs this up when two requests race)."""
    holder = tax_holder(session, account)
    if holder is not None:
        raise Conflict(f"tax number {account.tax_number} belongs to live account {holder}")
    account.live_tax_number = rules.live_tax_number(account.tax_number, account.status,
                                                    account.archive_state)


# --- edits ---------------------------------------------------------------------------------------
def apply_changes(session: Session, emit: Emit, account: Account, changes: Mapping[str, Any], *,
                  actor: str, reason: str, at: datetime, action: str = EDITED) -> dict[str, Any]:
    """Apply card fields (and the full contact list) to ``account``; audit each field's
    before/after and announce ``accounts.account.updated.v1``. Returns the changes (may be
    empty: nothing differed, nothing written)."""
    unknown = sorted(set(changes) - set(BY_NAME) - {CONTACTS})
    if unknown:
        raise Invalid({k: "Unknown field." for k in unknown})
    if "name" in changes and not changes["name"]:
        raise Invalid({"name": "Must not be empty."})
    before = card_values(session, account, changes)
    after = {k: ([contact_values(c) for c in v] if k == CONTACTS else plain(v))
             for k, v in changes.items()}
    changed = rules.field_changes(before, after)
    if not changed:
        return {}
    for name, value in changes.items():
        if name == CONTACTS:
            _replace_contacts(session, account.id, value)
        elif name in changed:
            setattr(account, name, value)
    if "name" in changed:
        account.name_key = account.name.lower()
    if "company" in changed:
        from ..companies import company_key
        account.company_key = company_key(account.company)
    _sync_tax(session, account)
    _bump(account, at)
    session.flush()
    write_audit(session, account, at=at, actor=actor, action=action, reason=reason, changed=changed)
    emit(session, ACCOUNT_UPDATED, {**updated_payload(account, masked(changed), actor=actor,
                                                      reason=reason),
                                    "account": snapshot(session, account)}, account.id)
    return changed


def _replace_contacts(session: Session, account_id: str, contacts: list[Mapping[str, Any]]) -> None:
    for old in contacts_of(session, account_id):
        session.delete(old)
    session.flush()
    for position, c in enumerate(contacts):
        session.add(AccountContact(id=str(uuid.uuid4()), account_id=account_id, position=position,
                                   **contact_values(c)))


def add_contact(session: Session, account: Account, contact: Mapping[str, Any]) -> None:
    """Append a contact without auditing it separately (the caller's audit covers it)."""
    position = len(contacts_of(session, account.id))
    session.add(AccountContact(id=str(uuid.uuid4()), account_id=account.id, position=position,
                               **contact_values(contact)))


# --- change requests ------------------------------------------------------------------------------
def _encode(changes: Mapping[str, Any]) -> str:
    return json.dumps({k: ([{n: plain(v) for n, v in c.items()} for c in val] if k == CONTACTS
                           else plain(val)) for k, val in changes.items()},
                      ensure_ascii=False)


def submit_change_request(session: Session, account: Account, changes: Mapping[str, Any], *,
                          actor: str, reason: str, at: datetime) -> ChangeRequest:
    # No fields is a request in words only (its reason says what to change): the clerk reads it.
    request = ChangeRequest(id=str(uuid.uuid4()), account_id=account.id, requested_by=actor,
                            requested_at=at, changes=_encode(changes), reason=reason,
                            state="pending")
    session.add(request)
    session.flush()
    return request


def decode_changes(request: ChangeRequest) -> dict[str, Any]:
    """The request's values typed as the card stores them (amounts Decimal, dates date)."""
    raw = json.loads(request.changes)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        kind = BY_NAME[name].kind if name in BY_NAME else None
        if value is not None and kind == "money":
            value = Decimal(value)
        elif value is not None and kind == "date":
            value = date.fromisoformat(value)
        out[name] = value
    return out


def _pending(session: Session, request_id: str, account_id: str) -> ChangeRequest:
    request = session.get(ChangeRequest, request_id, with_for_update=True)
    if request is None or request.account_id != account_id:
        raise NotFound(f"no change request {request_id}")
    if request.state != "pending":
        raise Conflict(f"change request {request_id} is {request.state} already")
    return request


def apply_change_request(session: Session, emit: Emit, account: Account, request_id: str, *,
                         actor: str, reason: str | None, at: datetime) -> ChangeRequest:
    request = _pending(session, request_id, account.id)
    note = f"change request by {request.requested_by}: {request.reason}"
    if reason:
        note += f" (applied: {reason})"
    apply_changes(session, emit, account, decode_changes(request), actor=actor, reason=note[:500],
                  at=at, action=REQUEST_APPLIED)
    request.state, request.decided_by, request.decided_at = "applied", actor, at
    request.decision_reason = reason
    return request


def reject_change_request(session: Session, account: Account, request_id: str, *, actor: str,
                          reason: str, at: datetime) -> ChangeRequest:
    request = _pending(session, request_id, account.id)
    request.state, request.decided_by, request.decided_at = "rejected", actor, at
    request.decision_reason = reason
    write_audit(session, account, at=at, actor=actor, action=REQUEST_REJECTED,
                reason=f"change request by {request.requested_by} rejected: {reason}"[:500],
                changed={})
    return request


# --- violations and evaluations --------------------------------------------------------------------
def record_violation(session: Session, account: Account, *, occurred_on: date, kind: str,
                     description: str, actor: str, at: datetime) -> AccountViolation:
    row = AccountViolation(id=str(uuid.uuid4()), account_id=account.id, occurred_on=occurred_on,
                           kind=kind, description=description, recorded_by=actor, recorded_at=at)
    session.add(row)
    write_audit(session, account, at=at, actor=actor, action=VIOLATION, reason=kind, changed={
        "violations": {"before": None, "after": {"occurred_on": occurred_on.isoformat(),
                                                 "kind": kind, "description": description}}})
    return row


def record_evaluation(session: Session, account: Account, *, evaluator: str, text: str,
                      actor: str, at: datetime) -> AccountEvaluation:
    row = AccountEvaluation(id=str(uuid.uuid4()), account_id=account.id, evaluator=evaluator,
                            text=text, recorded_by=actor, recorded_at=at)
    session.add(row)
    write_audit(session, account, at=at, actor=actor, action=EVALUATION, reason=evaluator, changed={
        "evaluations": {"before": None, "after": {"evaluator": evaluator, "text": text}}})
    return row


# --- status -----------------------------------------------------------------------------------------
def change_status(session: Session, emit: Emit, account: Account, new_status: str, *, actor: str,
                  reason: str, at: datetime) -> bool:
    """Set the status (audited, ``status_changed`` event); False when it already was."""
    if new_status not in rules.STATUSES:
        raise Invalid({"status": f"Must be one of {', '.join(rules.STATUSES)}."})
    old = account.status
    if old == new_status:
        return False
    account.status, account.status_reason, account.status_changed_at = new_status, reason, at
    _sync_tax(session, account)
    _bump(account, at)
    session.flush()
    write_audit(session, account, at=at, actor=actor, action=STATUS, reason=reason,
                changed={"status": {"before": old, "after": new_status}})
    emit(session, STATUS_CHANGED, {**status_payload(account, old, reason=reason),
                                   "account": snapshot(session, account)}, account.id)
    return True


def record_purchase(session: Session, emit: Emit, account_id: str, *, at: datetime,
                    actor: str = "system") -> None:
    """Hook for the credit ledger: a purchase refreshes the activity clock and reactivates an
    inactive or lost account (§1.3)."""
    account = session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound(f"no account {account_id}")
    if account.last_purchase_at is None or account.last_purchase_at < at:
        account.last_purchase_at = at
    # A lost account whose tax number another live account holds now stays lost (the purchase
    # itself must not fail over it); the clerk resolves the duplicate.
    if account.status != rules.ACTIVE and tax_holder(session, account, status=rules.ACTIVE) is None:
        change_status(session, emit, account, rules.ACTIVE, actor=actor,
                      reason="reactivated by a new purchase", at=at)


def apply_status_rules(session: Session, emit: Emit, *, now: datetime, limit: int = 500) -> int:
    """Active accounts without a purchase for ``inactive_after_days`` become inactive; inactive
    ones past ``lost_after_days`` become lost. Activity = last purchase, else entry time.
    Returns how many changed (run repeatedly by the scheduler; each change is its own event)."""
    policy = current_policy(session)
    changed = 0
    for status, days, target in ((rules.INACTIVE, policy.lost_after_days, rules.LOST),
                                 (rules.ACTIVE, policy.inactive_after_days, rules.INACTIVE)):
        cutoff = now - timedelta(days=days)
        candidates = session.scalars(
            select(Account).where(Account.status == status,
                                  ((Account.last_purchase_at.is_(None) & (Account.created_at < cutoff))
                                   | (Account.last_purchase_at < cutoff)))
            .order_by(Account.id).limit(limit).with_for_update(skip_locked=True))
        for account in candidates:
            reason = f"no purchase for {days} days (policy)"
            if change_status(session, emit, account, target, actor="system", reason=reason, at=now):
                changed += 1
    return changed


# --- archive flow (§2.5) ------------------------------------------------------------------------------
def submit_for_review(session: Session, account: Account, *, actor: str, reason: str | None,
                      at: datetime) -> None:
    """The clerk has entered the data: hand it to the customer review group."""
    if account.archive_state not in (rules.DRAFT, rules.REJECTED):
        raise Conflict(f"the archive is {account.archive_state}; only a draft or rejected "
                       "archive is submitted for review")
    old = account.archive_state
    account.archive_state = rules.PENDING_REVIEW
    _sync_tax(session, account)
    _bump(account, at)
    write_audit(session, account, at=at, actor=actor, action=SUBMITTED,
                reason=reason or "submitted for review",
                changed={"archive_state": {"before": old, "after": account.archive_state}})


def mark_graded(session: Session, account: Account, *, at: datetime) -> None:
    """Grading moves an archive under review on to the group GM's approval."""
    if account.archive_state == rules.PENDING_REVIEW:
        account.archive_state = rules.PENDING_APPROVAL


def decide(session: Session, emit: Emit, account: Account, *, approve: bool, actor: str,
           reason: str | None, at: datetime) -> None:
    """The group GM approves (archive established and released; valid for the policy's review
    interval) or rejects with a reason."""
    if account.archive_state != rules.PENDING_APPROVAL:
        raise Conflict(f"the archive is {account.archive_state}, not pending_approval")
    if not approve and not reason:
        raise Invalid({"reason": "A rejection needs a reason."})
    old = account.archive_state
    account.archive_state = rules.APPROVED if approve else rules.REJECTED
    account.archive_decided_at, account.archive_decided_by = at, actor
    changed: dict[str, Any] = {"archive_state": {"before": old, "after": account.archive_state}}
    if approve:
        interval = current_policy(session).review_interval_days
        due = at.date() + timedelta(days=interval)
        changed["valid_until"] = {"before": plain(account.valid_until), "after": due.isoformat()}
        account.valid_until = account.review_due_on = due
    _sync_tax(session, account)
    _bump(account, at)
    session.flush()
    write_audit(session, account, at=at, actor=actor, action=APPROVED if approve else REJECTED,
                reason=reason or "approved", changed=changed)
    current = snapshot(session, account)
    if approve:
        emit(session, ARCHIVE_APPROVED, {**approved_payload(account, by=actor), "account": current},
             account.id)
    else:
        emit(session, ARCHIVE_REJECTED, {**rejected_payload(account, by=actor, reason=reason or ""),
                                         "account": current}, account.id)


def reopen_due_reviews(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Periodic re-approval: approved archives whose review date has come go back to the
    group GM (pending_approval). Returns how many."""
    rows = session.scalars(select(Account).where(Account.archive_state == rules.APPROVED,
                                                 Account.review_due_on <= now.date())
                           .order_by(Account.id).limit(limit).with_for_update(skip_locked=True))
    n = 0
    at = now
    for account in rows:
        account.archive_state = rules.PENDING_APPROVAL
        _bump(account, at)
        write_audit(session, account, at=at, actor="system", action="review_due",
                    reason="periodic re-approval by the group GM (policy)",
                    changed={"archive_state": {"before": rules.APPROVED,
                                               "after": rules.PENDING_APPROVAL}})
        n += 1
    return n


def ensure(cond: bool, detail: str) -> None:
    if not cond:
        raise Forbidden(detail)
