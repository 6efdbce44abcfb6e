"""Event handlers of the leads service: one function per consumed event type."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from eventbus import Envelope, Subscription
from leads.intake.events import (
    ACCOUNT_LINKED,
    ACCOUNT_OPENED,
    INVOICE_ISSUED,
    AccountLinkedIn,
    AccountOpenedIn,
    InvoiceIssuedIn,
)
from leads.intake.matching import company_key
from leads.intake.models import AccountCompany, Lead
from servicedb import dialect_insert, writes


def on_account_opened(session: Session, event: Envelope, data: dict[str, Any]) -> None:
    """Keep the account's company for dedupe and the authorized list, and record on a
    converted lead the account that accounts opened for it."""
    _keep_account_company(session, data)
    if not data["source_lead_id"]:
        return  # an account opened directly, not from a lead
    _link(session, data["source_lead_id"], data["account_id"])


def on_account_linked(session: Session, event: Envelope, data: dict[str, Any]) -> None:
    """A converted lead's company already was a customer: record that account on the lead,
    exactly as when one is opened for it."""
    _link(session, data["source_lead_id"], data["account_id"])


def on_invoice_issued(session: Session, event: Envelope, data: dict[str, Any]) -> None:
    """Tracking runs until the invoice is issued (跟踪至开出发票为止): the originating lead is
    marked invoiced and its cadence stops. The first invoice is the mark; a redelivery or a
    later invoice for the same lead changes nothing."""
    if not data["lead_code"]:
        return  # an invoice for an order that did not come from a lead
    lead = session.scalars(select(Lead).where(Lead.code == data["lead_code"])
                           .with_for_update()).first()
    while lead is not None and lead.merged_into is not None:  # the survivor carries the deal
        lead = session.get(Lead, lead.merged_into, with_for_update=True)
    if lead is None or lead.invoiced_at is not None:
        return
    lead.invoiced_at = _event_time(event)
    lead.invoice_id = data["invoice_id"][:36]
    lead.cadence_due_at = None  # the scheduler looks once more and finds nothing due
    lead.changed()


def _event_time(event: Envelope) -> datetime:
    moment = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _link(session: Session, lead_id: str, account_id: str) -> None:
    """Record the account on the lead, its version bumped as ``Lead.changed`` does, in one
    UPDATE (no change, no new version, when it already is; nothing when there is no lead).
    A copy of the lead already loaded in this session (a batch's earlier event) is expired, so
    it is read again rather than kept stale (cheaper than an ORM-synchronized UPDATE)."""
    if writes.execute(session, _LINK, {"lead_id": lead_id, "to_account": account_id}):
        loaded = session.identity_map.get(identity_key(Lead, lead_id))
        if loaded is not None:
            session.expire(loaded, ["account_id", "version"])


_LEADS = cast(Table, Lead.__table__)
_LINK = (update(_LEADS)
         .where(_LEADS.c.id == bindparam("lead_id"),
                _LEADS.c.account_id.is_distinct_from(bindparam("to_account")))
         .values(account_id=bindparam("to_account"), version=_LEADS.c.version + 1)
         .returning(_LEADS.c.id))


def _keep_account_company(session: Session, data: dict[str, Any]) -> None:
    """Upsert by account id, keeping only a newer version (events may arrive out of order)."""
    key = company_key(data["company"])
    if key is None:
        return  # a person's account: nothing company-shaped to match
    writes.execute(session, _company_upsert(session.get_bind().dialect.name), {
        "account_id": data["account_id"], "company_key": key, "name": data["company"][:200],
        "owner_id": data["owner_id"], "owner_team": data["owner_team"], "version": data["version"]})


@lru_cache(maxsize=4)
def _company_upsert(dialect: str) -> Any:
    """One statement, built once per dialect: insert, or overwrite a row of an older version."""
    table = AccountCompany.__table__
    stmt = dialect_insert(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.account_id],
        set_={k: stmt.excluded[k] for k in ("company_key", "name", "owner_id", "owner_team", "version")},
        where=table.c.version < stmt.excluded.version,
    )


SUBSCRIPTIONS = {
    ACCOUNT_OPENED: Subscription(on_account_opened, AccountOpenedIn().load),
    ACCOUNT_LINKED: Subscription(on_account_linked, AccountLinkedIn().load),
    INVOICE_ISSUED: Subscription(on_invoice_issued, InvoiceIssuedIn().load),
}
