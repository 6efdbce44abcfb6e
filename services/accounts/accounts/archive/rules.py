"""Pure archive rules: the unified social credit code, who may edit the archive directly, who
sees what, masking, the archive flow's transitions. No Flask, no session, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import authn
from authn import Principal

# 统一社会信用代码 (GB 32100-2015): 18 characters from this 31-character alphabet (no I O S V Z);
# the last is a check character over the first 17 with weights 3**i mod 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(raw: str) -> str:
    """The code in canonical form (upper case, no spaces); ValueError says what is wrong."""
    code = raw.strip().replace(" ", "").upper()
    if len(code) != 18:
        raise ValueError("A unified social credit code has 18 characters.")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValueError(f"Characters not allowed in a unified social credit code: {''.join(bad)}.")
    if not code[2:8].isdigit():
        raise ValueError("Characters 3-8 (the administrative division code) must be digits.")
    if uscc_check_char(code[:17]) != code[17]:
        raise ValueError("The check character does not match (mistyped code?).")
    return code


# --- statuses and archive flow ------------------------------------------------------------------
ACTIVE, INACTIVE, LOST = "active", "inactive", "lost"
STATUSES = (ACTIVE, INACTIVE, LOST)
DRAFT, PENDING_REVIEW, PENDING_APPROVAL = "draft", "pending_review", "pending_approval"
APPROVED, REJECTED = "approved", "rejected"
ARCHIVE_STATES = (DRAFT, PENDING_REVIEW, PENDING_APPROVAL, APPROVED, REJECTED)
# Which archive states each step starts from.
SUBMITTABLE = (DRAFT, REJECTED, APPROVED)  # clerk entered the data (or re-submits for re-approval)
CUSTOMER_TYPES = ("agent", "factory", "trading_company", "other")
BANK_RATINGS = ("AAA", "AA", "A")
CONTACT_CATEGORIES = ("primary", "secondary", "other")


def is_live(status: str, archive_state: str) -> bool:
    """A live account holds its tax number exclusively: not lost and not rejected."""
    return status != LOST and archive_state != REJECTED


def live_tax_number(tax_number: str | None, status: str, archive_state: str) -> str | None:
    return tax_number if tax_number and is_live(status, archive_state) else None


# --- who may do what --------------------------------------------------------------------------
def can_edit_directly(principal: Principal) -> bool:
    """§2.6 single owner: the archive clerk (销售内勤(客户管理)) alone operates the archive."""
    return principal.has_any(authn.ARCHIVE_CLERK)


def can_request_change(principal: Principal) -> bool:
    """Anyone else with access to the account submits a written change request."""
    return principal.has_any(
        authn.SALES_REP, authn.SALES_MANAGER, authn.SERVICE_CLERK, authn.SALES_OPS_MANAGER,
        authn.SALES_VP, authn.SALES_GM, authn.GROUP_GM, authn.SUPPORT_AGENT,
        authn.SUPPORT_SUPERVISOR, authn.REVIEW_GROUP, authn.ADMIN)


def can_grade(principal: Principal) -> bool:
    return principal.has_any(authn.REVIEW_GROUP)


def can_decide_archive(principal: Principal) -> bool:
    return principal.has_any(authn.GROUP_GM)


def can_export(principal: Principal) -> bool:
    """Exports are limited to managers (and audited)."""
    return principal.has_any(authn.SALES_MANAGER, authn.SALES_OPS_MANAGER, authn.SALES_VP,
                             authn.SALES_GM, authn.GROUP_GM, authn.ADMIN)


# Roles that need the full bank account number (billing, archive upkeep).
SEES_BANK_ACCOUNT = (authn.ARCHIVE_CLERK, authn.FINANCE, authn.GROUP_GM, authn.ADMIN)


def mask_bank_account(number: str | None) -> str | None:
    """All but the last four characters replaced by ``*``."""
    if not number:
        return number
    keep = number[-4:] if len(number) > 4 else ""
    return "*" * (len(number) - len(keep)) + keep


def sees_bank_account(principal: Principal) -> bool:
    return principal.has_any(*SEES_BANK_ACCOUNT)


# --- formula injection --------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": old, "after": new}}`` for the fields in ``after`` that differ."""
    return {f: {"before": before.get(f), "after": v} for f, v in after.items() if before.get(f) != v}
