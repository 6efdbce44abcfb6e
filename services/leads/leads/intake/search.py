"""The authorized list's reads in one statement on a read connection (no transaction).

Before, a search cost eleven statements in a transaction (ORM instances of ~40 leads x 36
columns): each side of two sorted neighbourhoods, SET LOCAL and pg_trgm twice, the policy, the
owner changes, the contacts. Under load every round trip waits for the server to be scheduled,
so here the candidates (``dedupe.search_parts``), the last owner change and the contacts of
every candidate lead, and the policy come back from one UNION ALL, as plain tuples. The pg_trgm
threshold is a session setting, set once per pooled connection (``_trgm_threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Select,
    String,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)

from leads.intake import dedupe
from leads.ownership.models import LeadContact, OwnerChangeRow
from leads.policy.models import LeadPolicyRow
from leads.policy.rules import LeadPolicy
from leads.policy.service import POLICY_ID, policy_from_data

CANDIDATE, LAST_CHANGE, CONTACT, POLICY = 0, 2, 3, 4  # row tags (kind 0/1: lead/account hits)


@dataclass
class SearchInputs:
    hits: list[dedupe.SearchHit]
    last_change: dict[str, datetime] = field(default_factory=dict)
    contacts: dict[str, list[Any]] = field(default_factory=dict)  # rows: at, kind, by, out_of_town
    policy: LeadPolicy = field(default_factory=LeadPolicy)


@dataclass(frozen=True)
class _Contact:
    at: datetime
    kind: str
    by: str
    out_of_town: bool


def _trgm_threshold(conn: Connection) -> None:
    """The session's pg_trgm threshold, set once per pooled connection (``conn.info`` lives as
    long as the DBAPI connection): no SET LOCAL, so no transaction, on every search. Where it
    does not stick (a pooler in transaction mode), the statement's explicit bound keeps the
    answer exact."""
    if conn.info.get("pg_trgm.similarity_threshold") != dedupe.TRGM_SIMILARITY:
        conn.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :v, false)"),
                     {"v": str(dedupe.TRGM_SIMILARITY)})
        conn.info["pg_trgm.similarity_threshold"] = dedupe.TRGM_SIMILARITY


@cache
def _statement(trgm: bool) -> Select[Any]:
    """Built once per dialect kind; parameters ``key`` (and ``limit`` with pg_trgm)."""
    # Each part as a derived table: SQLite takes no ORDER BY/LIMIT on a bare compound member.
    cand = union_all(*(select(*p.subquery().c) for p in dedupe.search_parts(trgm))).cte("cand")
    lead_ids = select(cand.c.id).where(cand.c.kind == 0).scalar_subquery()
    oc, lc, pol = OwnerChangeRow.__table__, LeadContact.__table__, LeadPolicyRow.__table__
    at_type = lc.c.at.type

    def tag(n: int) -> Any:
        return literal_column(str(n))

    none_contact = (cast(null(), String).label("ckind"), cast(null(), String).label("by"),
                    cast(null(), Boolean).label("out_of_town"))
    rows = union_all(
        select(cand.c.kind, cand.c.id, cand.c.company, cand.c.owner_id, cand.c.created_at,
               cand.c.part, cand.c.pos, *none_contact, cast(null(), JSON).label("data")),
        select(tag(LAST_CHANGE), oc.c.lead_id, null(), null(), func.max(oc.c.at), tag(0), tag(0),
               null(), null(), null(), null())
        .where(oc.c.lead_id.in_(lead_ids)).group_by(oc.c.lead_id),
        select(tag(CONTACT), lc.c.lead_id, null(), null(), lc.c.at, tag(0),
               func.row_number().over(order_by=(lc.c.at, lc.c.id)), lc.c.kind, lc.c.by,
               lc.c.out_of_town, null())
        .where(lc.c.lead_id.in_(lead_ids)),
        select(tag(POLICY), null(), null(), null(), cast(null(), at_type), tag(0), tag(0),
               null(), null(), null(), pol.c.data).where(pol.c.id == POLICY_ID),
    ).subquery()
    return select(rows).order_by(rows.c.kind, rows.c.part, rows.c.pos)


def authorized_search(conn: Connection, key: str, limit: int) -> SearchInputs:
    """Everything the authorized list of ``key`` reads, in one statement (PostgreSQL: plus a
    set_config the first time on a connection)."""
    pg = conn.dialect.name == "postgresql"
    if pg:
        _trgm_threshold(conn)
    params: dict[str, Any] = {"key": key, "limit": limit} if pg else {"key": key}
    out = SearchInputs(hits=[])
    seen: set[tuple[int, str]] = set()
    for kind, id_, company, owner_id, at, _, _, ckind, by, out_of_town, data in conn.execute(
            _statement(pg), params):
        if kind < LAST_CHANGE:
            if (kind, id_) not in seen:
                seen.add((kind, id_))
                out.hits.append(dedupe.search_hit(kind, id_, company, owner_id, at))
        elif kind == LAST_CHANGE:
            out.last_change[id_] = at
        elif kind == CONTACT:
            out.contacts.setdefault(id_, []).append(_Contact(at, ckind, by, bool(out_of_town)))
        else:
            out.policy = policy_from_data(data)
    return out
