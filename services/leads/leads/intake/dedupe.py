"""Candidate retrieval for dedupe: a few indexed look-ups, then the pure rules decide.

Each look-up is bounded and served by a btree — phone, lower(email), and the company key's
sorted neighbourhood (exact and shared-prefix keys) — so a check costs the same with a
thousand leads or a million, on PostgreSQL and SQLite alike. The authorized list, a search,
adds pg_trgm similarity on PostgreSQL to find a name typed differently at its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    inspect,
    literal,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy.orm import Session

from leads.intake.matching import DEFAULT_THRESHOLD, Match, Record, company_key, find_matches
from leads.intake.models import AccountCompany, Lead

PER_RULE = 20
NEIGHBOURS = 10  # on each side of the candidate's company key in index order
TRGM_SIMILARITY = 0.6  # pg_trgm prefilter of the authorized list; rapidfuzz decides after it


@dataclass
class DedupeResult:
    matches: list[Match]
    leads: dict[str, Lead] = field(default_factory=dict)
    accounts: dict[str, AccountCompany] = field(default_factory=dict)


def _around(session: Session, entity: Any, column: Any, key: str, *where: Any,
            n: int = NEIGHBOURS) -> list[Any]:
    """Sorted neighbourhood: the ``n`` keys at or after ``key`` and the ``n`` before it in
    the btree. Keys sharing the longest prefix with the candidate ("acmetech" beside
    "acmetechnology") sit there, and each side is one bounded index range scan, so the cost
    does not grow with the table (the classic record-linkage blocking method)."""
    up = select(entity).where(column >= key, *where).order_by(column).limit(n)
    down = select(entity).where(column < key, *where).order_by(column.desc()).limit(n)
    return [*session.scalars(up), *session.scalars(down)]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _similar(session: Session, entity: Any, column: Any, key: str, limit: int, *where: Any) -> list[Any]:
    """pg_trgm candidates (any position of the name), PostgreSQL only; slower than the
    neighbourhood on common words, so used for searches, not on every intake."""
    if not _postgres(session):
        return []
    session.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {TRGM_SIMILARITY}"))
    stmt = (select(entity).where(column.op("%")(key), *where)
            .order_by(func.similarity(column, literal(key)).desc(), column,
                      *inspect(entity).primary_key).limit(limit))
    return list(session.scalars(stmt))


def lead_candidates(session: Session, phone: str | None, email: str | None,
                    key: str | None, exclude_id: str | None = None) -> list[Lead]:
    """Live (not merged) leads sharing a phone or an e-mail, or near in company key."""
    live = Lead.merged_into.is_(None)
    found: dict[str, Lead] = {}
    batches: list[list[Lead]] = []
    if phone:
        batches.append(list(session.scalars(select(Lead).where(Lead.phone == phone, live)
                                            .limit(PER_RULE))))
    if email:
        batches.append(list(session.scalars(select(Lead).where(
            func.lower(Lead.email) == email.lower(), live).limit(PER_RULE))))
    if key:
        batches.append(_around(session, Lead, Lead.company_key, key, live))
    for batch in batches:
        for lead in batch:
            if lead.id != exclude_id:
                found.setdefault(lead.id, lead)
    return list(found.values())


def leads_by_company(session: Session, key: str, limit: int = PER_RULE) -> list[Lead]:
    """Open, live leads whose company is the same or similar (the authorized list)."""
    where = (Lead.merged_into.is_(None), Lead.status == "open")
    found = {lead.id: lead for lead in _around(session, Lead, Lead.company_key, key, *where)}
    for lead in _similar(session, Lead, Lead.company_key, key, limit, *where):
        found.setdefault(lead.id, lead)
    return list(found.values())


def account_candidates(session: Session, key: str | None, limit: int = PER_RULE,
                       search: bool = False) -> list[AccountCompany]:
    if not key:
        return []
    col = AccountCompany.company_key
    found = {a.account_id: a for a in _around(session, AccountCompany, col, key)}
    if search:
        for account in _similar(session, AccountCompany, col, key, limit):
            found.setdefault(account.account_id, account)
    return list(found.values())


# --- the authorized list: one statement, plain rows ---------------------------------------------

LEAD, ACCOUNT = "lead", "account"


@dataclass(frozen=True)
class SearchHit:
    """A candidate of the authorized list: only what the list shows or the protection needs."""

    kind: str  # LEAD or ACCOUNT
    id: str
    company: str | None
    owner_id: str | None
    created_at: Any  # leads only (their registration); None for accounts


def _parts(kind: int, table: Any, id_col: Any, name_col: Any, created: Any, trgm: bool,
           *where: Any) -> list[Select[Any]]:
    """The neighbourhood (up, down) and, on PostgreSQL, the trigram look-up of one table, each
    row tagged with its kind, part and rank in the part, so that the one statement gives the
    rows in the order of the separate queries (ties as the index returns them)."""
    col, key = table.c.company_key, bindparam("key", type_=String)
    cols: tuple[Any, ...] = (literal_column(str(kind)).label("kind"), id_col.label("id"),
                             name_col.label("company"), table.c.owner_id.label("owner_id"),
                             created.label("created_at"))
    ordered: list[tuple[Any, tuple[Any, ...], Any]] = [
        (col >= key, (col,), NEIGHBOURS), (col < key, (col.desc(),), NEIGHBOURS)]
    if trgm:
        # ``%`` for the GIN index (at the session's threshold, see _trgm_threshold); the
        # explicit bound keeps the answer exact where that setting did not stick (a pooler in
        # transaction mode hands out another server connection): slower there, never wrong.
        sim = func.similarity(col, key)
        ordered.append((and_(col.op("%")(key), sim >= TRGM_SIMILARITY), (sim.desc(), col, id_col),
                        bindparam("limit", type_=Integer)))
    return [select(*cols, literal_column(str(part)).label("part"),
                   func.row_number().over(order_by=order).label("pos"))
            .where(cond, *where).order_by(*order).limit(limit)
            for part, (cond, order, limit) in enumerate(ordered)]


def search_parts(trgm: bool) -> list[Select[Any]]:
    """The authorized list's six look-ups (parameters ``key`` and, with pg_trgm, ``limit``):
    open live leads (kind 0) then accounts (kind 1), each the company key's sorted
    neighbourhood and, on PostgreSQL, its pg_trgm look-alikes; ``ORDER BY kind, part, pos`` over
    their UNION ALL gives the rows of ``leads_by_company`` then ``account_candidates(search=True)``
    in their order (the first row of each (kind, id) counts). Columns: kind, id, company,
    owner_id, created_at, part, pos."""
    leads, accounts = Lead.__table__, AccountCompany.__table__
    return [
        *_parts(0, leads, leads.c.id, leads.c.company, leads.c.created_at, trgm,
                leads.c.merged_into.is_(None), leads.c.status == "open"),
        *_parts(1, accounts, accounts.c.account_id, accounts.c.name,
                cast(null(), leads.c.created_at.type), trgm),
    ]


def search_hit(kind: int, id_: str, company: str | None, owner_id: str | None,
               created_at: Any) -> SearchHit:
    return SearchHit(LEAD if kind == 0 else ACCOUNT, id_, company, owner_id, created_at)


def lead_record(lead: Lead) -> Record:
    return Record(id=lead.id, name=lead.name, company=lead.company, phone=lead.phone,
                  email=lead.email)


def account_record(account: AccountCompany) -> Record:
    return Record(id=account.account_id, company=account.name, kind="account")


def check(session: Session, candidate: Record, threshold: float = DEFAULT_THRESHOLD,
          with_accounts: bool = True) -> DedupeResult:
    """The explainable matches of ``candidate`` among live leads and known accounts."""
    key = company_key(candidate.company)
    leads = lead_candidates(session, candidate.phone, candidate.email, key, exclude_id=candidate.id)
    accounts = account_candidates(session, key) if with_accounts else []
    records = [lead_record(lead) for lead in leads] + [account_record(a) for a in accounts]
    return DedupeResult(matches=find_matches(candidate, records, threshold),
                        leads={lead.id: lead for lead in leads},
                        accounts={a.account_id: a for a in accounts})
