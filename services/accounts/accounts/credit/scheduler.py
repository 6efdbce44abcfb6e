"""The credit timers, one pass each on the injected clock: payment notices for overdue
charges, default liability beyond the policy's months (hold + violation), expired
reservations, ended temporary increases, the daily recomputation of standard limits. Rows are
claimed with ``SKIP LOCKED`` so worker replicas may run passes at once."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus

from ..approvals.service import run_expiries
from ..archive import service as archive
from ..checks.models import RESERVED, CreditCheck
from ..checks.service import release
from ..holds import rules as hold_rules
from ..holds import service as holds
from ..ledger.models import Charge
from ..ledger.service import Op
from ..limits.rules import add_months
from ..limits.service import recompute_all
from ..models import Account
from . import events
from . import policy as credit_policy
from .models import CreditAccount
from .state import CHINA, business_date, credit_row

log = logging.getLogger(__name__)
BATCH = 200


def run_overdue(session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime) -> Counter[str]:
    """A payment notice (催款通知单) once per overdue charge; beyond the policy's months a
    violation record and an ``overdue_default`` hold, once per charge."""
    today, out = business_date(now), Counter[str]()
    while True:
        with session_factory() as session, session.begin():
            policy = credit_policy.current(session)
            limit = add_months(today, -policy.default_liability_months)
            charges = list(session.scalars(select(Charge).where(
                Charge.settled_on.is_(None), Charge.due_on < today,
                (Charge.overdue_notified_on.is_(None)) | (
                    Charge.defaulted_on.is_(None) & (Charge.due_on < limit)))
                .order_by(Charge.due_on, Charge.id).limit(BATCH).with_for_update(skip_locked=True)))
            if not charges:
                return out
            for charge in charges:
                account = session.get(Account, charge.account_id)
                assert account is not None
                if charge.overdue_notified_on is None:
                    charge.overdue_notified_on = today
                    events.emit(session, bus.emit, events.PAYMENT_OVERDUE, account,
                                charge_id=charge.id, amount_due=charge.balance,
                                currency=charge.currency, due_on=charge.due_on,
                                days_overdue=(today - charge.due_on).days)
                    out[events.PAYMENT_OVERDUE] += 1
                if charge.defaulted_on is None and charge.due_on < limit:
                    charge.defaulted_on = today
                    description = (f"order {charge.order_id}: {charge.balance} {charge.currency} "
                                   f"due {charge.due_on.isoformat()} unpaid for more than "
                                   f"{policy.default_liability_months} months")
                    holds.record_violation(session, account.id, charge_id=charge.id, at=now,
                                           type_="default_liability", description=description)
                    archive.record_violation(session, account, occurred_on=today,
                                             kind="default_liability", description=description,
                                             actor="credit", at=now)
                    row = credit_row(session, account.id, policy.default_currency)
                    if holds.place(session, bus.emit, account, row, [hold_rules.OVERDUE_DEFAULT],
                                   at=now, actor="scheduler", note=f"order {charge.order_id}"):
                        out[events.HOLD_PLACED] += 1
                    out["violations"] += 1


def run_reservation_expiry(session_factory: sessionmaker[Session], bus: ServiceBus,
                           now: datetime) -> int:
    done = 0
    while True:
        with session_factory() as session, session.begin():
            found = session.scalar(select(CreditCheck).where(
                CreditCheck.status == RESERVED, CreditCheck.expires_at < now)
                .order_by(CreditCheck.expires_at).limit(1).with_for_update(skip_locked=True))
            if found is None:
                return done
            account = session.get(Account, found.account_id)
            assert account is not None
            policy = credit_policy.current(session)
            row = credit_row(session, account.id, policy.default_currency)
            release(Op(session=session, emit=bus.emit, account=account, row=row, policy=policy,
                       now=now, actor="scheduler"), found.order_id, expired=True)
            done += 1


def run_recompute(session_factory: sessionmaker[Session], now: datetime) -> int:
    """Recompute every standard limit once a (China) day: when some row is older than today."""
    today = business_date(now)
    with session_factory() as session:
        stale = session.scalar(select(CreditAccount.account_id).where(
            (CreditAccount.computed_at.is_(None)) | (CreditAccount.computed_at < _start_of(today)))
            .limit(1))
    return recompute_all(session_factory, now) if stale is not None else 0


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA)


def run_all(session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime) -> Counter[str]:
    out: Counter[str] = Counter()
    out.update(run_overdue(session_factory, bus, now))
    out["reservations_expired"] += run_reservation_expiry(session_factory, bus, now)
    out["temporary_increases_ended"] += run_expiries(session_factory, bus, now)
    out["limits_recomputed"] += run_recompute(session_factory, now)
    return +out


def job(session_factory: sessionmaker[Session], bus: ServiceBus,
        clock: Callable[[], datetime]) -> Callable[[], None]:
    def run() -> None:
        done = run_all(session_factory, bus, clock())
        if done:
            log.info("credit timers: %s", dict(done))

    return run
