"""Pure lead rules: normalization, who may see or act on a lead, what conversion allows.

No Flask, no session, no clock: callers pass what the rules need.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from authn import Principal

SOURCES = ("walk_in", "phone_call", "web_form", "trade_show", "referral", "event", "api_import")
OPEN, CONVERTED = "open", "converted"
DEFAULT_REGION = "CN"


class RuleViolation(ValueError):
    """A request that contradicts a business rule (answered 409)."""


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form; raises ValueError for something that is not a possible phone number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    local, _, domain = raw.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class LeadAccess:
    """The facts about a lead that decide who may touch it."""

    owner_id: str
    owner_team: str | None


def can_view(principal: Principal, lead: LeadAccess) -> bool:
    if principal.is_admin:
        return True
    if principal.is_manager and lead.owner_team is not None and lead.owner_team == principal.team:
        return True
    return lead.owner_id == principal.sub


def can_convert(principal: Principal, lead: LeadAccess) -> bool:
    return can_view(principal, lead)


def can_assign_owner(principal: Principal, owner_id: str, owner_team: str | None) -> bool:
    """Reps register for themselves; managers within their team; admins and integrations anyone."""
    if principal.is_admin or principal.kind == "apikey":
        return True
    if principal.is_manager:
        return owner_team == principal.team
    return owner_id == principal.sub


def conversion_needed(status: str) -> bool:
    """True if converting changes anything; a second convert is a no-op, not an error."""
    if status == CONVERTED:
        return False
    if status != OPEN:
        raise RuleViolation(f"a {status} lead cannot be converted")
    return True
