"""Company keys: the company as matched, so a converted lead finds the account it already is.

A verbatim copy of ``leads.matching.company_key`` (pure, a few lines, no dependencies):
services never import each other, and both must normalize alike or a conversion opens a twin
that leads' dedupe would have caught. ``tests/unit/test_company_key_copies.py`` asserts both
copies give the same outputs on the same inputs; change them together.
"""

from __future__ import annotations

import re
import unicodedata

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
