"""Changes to customer records, each written with its audit row and its event in the caller's
transaction — the one code path for the API and the event handlers alike."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from eventbus import Envelope
from servicedb import next_code, writes

from . import domain
from .companies import company_key
from .events import ACCOUNT_LINKED, ACCOUNT_OPENED, linked_payload, opened_payload
from .models import Account, AccountAudit, AccountContact, CodeCounter, LeadLink

CONTACT_KEYS = ("category", "name", "department_title", "phone", "fax", "mobile", "email")
Emit = Callable[[Session, str, dict[str, Any], str | None], Envelope]


def snapshot(account: Account) -> dict[str, Any]:
    return {f: getattr(account, f) for f in domain.AUDITED_FIELDS}


def audit(session: Session, account: Account, *, at: datetime, actor: str, action: str,
          reason: str, before: Mapping[str, Any]) -> AccountAudit:
    """Add the audit row for ``account`` as it is now, compared with ``before``."""
    row = AccountAudit(
        id=str(uuid.uuid4()), account_id=account.id, at=at, actor=actor, action=action,
        reason=reason,
        changes=json.dumps(domain.changes(before, snapshot(account)), ensure_ascii=False),
    )
    session.add(row)
    return row


def open_account(session: Session, emit: Emit, *, at: datetime, actor: str, reason: str,
                 name: str, company: str | None, phone: str | None, email: str | None,
                 owner_id: str, owner_team: str | None, source_lead_id: str | None = None,
                 source_lead_code: str | None = None,
                 source_lead_name: str | None = None,
                 contacts: Sequence[Mapping[str, Any]] = ()) -> Account:
    """Open an active account whose archive starts as a draft (§2.5: the clerk completes it,
    the review group grades it, the group GM approves it), with its contact persons; audit it
    and announce ``accounts.account.opened.v1``.

    Every converted lead comes through here, so the rows are written with prebuilt inserts
    (``servicedb.writes``) rather than the ORM's unit of work; the account returned is attached
    to the session as loaded, its contacts read on first access.
    """
    row = _ACCOUNT_BLANK | {
        "id": str(uuid.uuid4()), "code": next_code(session, CodeCounter, "C"), "name": name,
        "company": company, "phone": phone, "email": email, "owner_id": owner_id,
        "owner_team": owner_team, "source_lead_id": source_lead_id, "status": domain.ACTIVE,
        "company_key": company_key(company), "created_at": at, "updated_at": at, "version": 1,
        "name_key": name.lower(), "archive_state": "draft", "points_balance": 0,
    }
    writes.execute(session, _ACCOUNT_INSERT, row)
    account = writes.attach(session, Account, row)  # (its attributes are named as its columns)
    changed = domain.changes({}, snapshot(account))
    people = [{k: contact.get(k) for k in CONTACT_KEYS} for contact in contacts]
    for position, person in enumerate(people):
        writes.execute(session, _CONTACT_INSERT, {"id": str(uuid.uuid4()), "account_id": account.id,
                                                  "position": position, **person})
    if people:
        changed["contacts"] = {"before": None, "after": people}
    writes.execute(session, _AUDIT_INSERT, {
        "id": str(uuid.uuid4()), "account_id": account.id, "at": at, "actor": actor,
        "action": domain.OPENED, "reason": reason,
        "changes": json.dumps(changed, ensure_ascii=False)})
    emit(session, ACCOUNT_OPENED, opened_payload(
        account, opened_by=actor, source_lead_code=source_lead_code,
        source_lead_name=source_lead_name), account.id)
    return account


_ACCOUNT_INSERT = insert(Account)
_CONTACT_INSERT = insert(AccountContact)
_AUDIT_INSERT = insert(AccountAudit)
# Every column of a new account: the statement is the same for every account (its plan is
# worked out once), and a column no one set is NULL as the ORM would write it.
_ACCOUNT_BLANK: dict[str, Any] = {column.key: None for column in Account.__table__.columns}


def link_lead(session: Session, emit: Emit, account: Account, *, at: datetime, actor: str,
              lead_id: str, lead_code: str, lead_name: str, lead_owner_id: str) -> LeadLink:
    """Record that a converted lead is this existing account (no twin is opened), audit it on
    the account and announce ``accounts.account.linked.v1``.

    The account itself does not change (its owner stays; the audit row's changes are empty).
    """
    link = LeadLink(lead_id=lead_id, account_id=account.id, lead_code=lead_code, linked_at=at,
                    linked_by=actor)
    session.add(link)
    session.flush()
    audit(session, account, at=at, actor=actor, action=domain.LINKED,
          reason=domain.link_reason(lead_code), before=snapshot(account))
    emit(session, ACCOUNT_LINKED, linked_payload(
        account, link, source_lead_name=lead_name, lead_owner_id=lead_owner_id), account.id)
    return link
