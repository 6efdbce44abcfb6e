"""Explainable duplicate detection: normalized keys and match rules, with no I/O.

The database only narrows the field (indexed look-ups by phone, e-mail and company key); the
decision, its rule and its score are made here so that a rep can be told *why* two records
were taken for one, and so the rules can be tested without a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

PHONE_EXACT, EMAIL_EXACT = "phone_exact", "email_exact"
COMPANY_PERSON_FUZZY, COMPANY_FUZZY = "company_person_fuzzy", "company_fuzzy"
RULES = (PHONE_EXACT, EMAIL_EXACT, COMPANY_PERSON_FUZZY, COMPANY_FUZZY)
DEFAULT_THRESHOLD = 85.0

# Longest first: 股份有限公司 must go before 有限公司 leaves 股份 behind.
_CN_SUFFIXES = tuple(sorted((
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "总公司", "分公司", "公司",
    "控股", "股份", "企业",
), key=len, reverse=True))
# Tokens, after case folding and splitting on punctuation ("Co., Ltd." → "co", "ltd").
_EN_SUFFIXES = frozenset((
    "co", "ltd", "limited", "company", "inc", "incorporated", "corp", "corporation", "llc", "llp",
    "lp", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pte", "pty",
    "kk", "oy", "ab", "as", "group", "holding", "holdings",
))
_PERSON_AFFIXES = ("先生", "女士", "小姐", "经理", "总监", "老师", "总")
_PERSON_TITLES = frozenset(("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam"))
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script, no punctuation or "_"


def _fold(text: str) -> str:
    """Full-width → half-width (NFKC), then case-folded: full-width and ASCII "acme" are one."""
    return unicodedata.normalize("NFKC", text).casefold()


def company_key(name: str | None) -> str | None:
    """The company as matched: legal suffixes, punctuation, spaces and case removed.

    "ACME 有限公司", "Acme Co., Ltd." and full-width "ACME Inc" all become "acme". A name that is
    nothing but a suffix keeps its last word, so "有限公司" alone does not match everyone.
    """
    if not name:
        return None
    tokens = _WORD.findall(_fold(name))
    while tokens:
        last = tokens[-1]
        if last in _EN_SUFFIXES and len(tokens) > 1:
            tokens.pop()
            continue
        suffix = next((s for s in _CN_SUFFIXES if last.endswith(s)), None)
        if suffix is None:
            break
        if len(last) > len(suffix):
            tokens[-1] = last[: -len(suffix)]
        elif len(tokens) > 1:
            tokens.pop()
        else:
            break
    key = "".join(tokens)
    return key or None


def person_key(name: str | None) -> str | None:
    """The person as matched: titles and honorifics dropped, words kept (order is compared
    order-free later), so "Mr. Zhang San", "zhang  san" and "张三先生" → "zhang san" / "张三"."""
    if not name:
        return None
    tokens = [t for t in _WORD.findall(_fold(name)) if t not in _PERSON_TITLES]
    if tokens:
        last = tokens[-1]
        affix = next((a for a in _PERSON_AFFIXES if last.endswith(a) and len(last) > len(a)), None)
        if affix is not None:
            tokens[-1] = last[: -len(affix)]
    key = " ".join(tokens)
    return key or None


@dataclass(frozen=True)
class Record:
    """What matching needs of a lead (or of an account, which has no person)."""

    id: str
    name: str | None = None
    company: str | None = None
    phone: str | None = None  # E.164 already
    email: str | None = None  # normalized already
    kind: str = "lead"


@dataclass(frozen=True)
class Match:
    """One reason to believe the candidate is an existing record: which, by what rule, how sure."""

    lead_id: str
    rule: str
    score: float
    fields: tuple[str, ...]
    kind: str = "lead"


def email_key(email: str | None) -> str | None:
    return email.casefold() if email else None


def company_person_score(a: Record, b: Record) -> tuple[float, float] | None:
    """(company similarity, person similarity) in 0..100; None where either side lacks a
    company. The person score is None-safe: -1 when either side has no person."""
    ca, cb = company_key(a.company), company_key(b.company)
    if not ca or not cb:
        return None
    company = fuzz.ratio(ca, cb)
    pa, pb = person_key(a.name), person_key(b.name)
    person = fuzz.token_sort_ratio(pa, pb) if pa and pb else -1.0
    return company, person


def find_matches(candidate: Record, existing: Iterable[Record],
                 threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """Every (record, rule) pair that matches, strongest first.

    - ``phone_exact`` / ``email_exact``: same E.164 number / same address (case-insensitive), 100.
    - ``company_person_fuzzy``: company keys and person names both at least ``threshold``
      similar; the score weighs the company 0.6 and the person 0.4.
    - ``company_fuzzy``: only when the existing record has no person (an account): the company
      key alone at least ``threshold`` similar — the company is owned, whoever the contact is.
    """
    matches: list[Match] = []
    cand_email = email_key(candidate.email)
    for rec in existing:
        if rec.id == candidate.id:
            continue
        if candidate.phone and rec.phone == candidate.phone:
            matches.append(Match(rec.id, PHONE_EXACT, 100.0, ("phone",), rec.kind))
        if cand_email and email_key(rec.email) == cand_email:
            matches.append(Match(rec.id, EMAIL_EXACT, 100.0, ("email",), rec.kind))
        scores = company_person_score(candidate, rec)
        if scores is None:
            continue
        company, person = scores
        if company < threshold:
            continue
        if person >= threshold:
            score = round(0.6 * company + 0.4 * person, 1)
            matches.append(Match(rec.id, COMPANY_PERSON_FUZZY, score, ("company", "name"), rec.kind))
        elif person < 0 and not rec.name:
            matches.append(Match(rec.id, COMPANY_FUZZY, round(company, 1), ("company",), rec.kind))
    matches.sort(key=lambda m: (-m.score, RULES.index(m.rule), m.lead_id))
    return matches


def company_similar(query_key: str, other: str | None, threshold: float) -> float | None:
    """Similarity of a company to an already-normalized key, or None below ``threshold``."""
    other_key = company_key(other)
    if not other_key:
        return None
    score = fuzz.ratio(query_key, other_key)
    return round(score, 1) if score >= threshold else None
