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
    """E.164 form; raises ValueError for anything that is not a number that can exist.

    Validity, not mere possibility: ``12345`` has a possible length for CN but is no number
    anyone can dial, and storing it as ``+8612345`` would make it a dedupe key."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
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


# --- intake and dedupe ----------------------------------------------------------------------

VISIT_CHANNELS = ("walk_in", "phone_call")
REFERRER_TYPES = ("lead", "account")


def records_visit(source: str) -> bool:
    """来人/来电 from someone already registered is a touch on their lead, not a new lead."""
    return source in VISIT_CHANNELS


def ensure_live(merged_into: str | None) -> None:
    """A merged lead is a tombstone: nothing but unmerge acts on it."""
    if merged_into is not None:
        raise RuleViolation(f"the lead was merged into {merged_into}")


def can_merge(principal: Principal, survivor: LeadAccess, duplicate: LeadAccess) -> bool:
    """Managers and admins (within what they can see), or a rep who owns both leads."""
    if principal.is_admin:
        return True
    if principal.is_manager:
        return can_view(principal, survivor) and can_view(principal, duplicate)
    return survivor.owner_id == principal.sub and duplicate.owner_id == principal.sub


MERGE_FILLED = ("company", "phone", "email", "show_name")


def merge_fill(survivor: dict[str, object], duplicate: dict[str, object]) -> dict[str, object]:
    """Fields the survivor lacks and the duplicate has: merging never overwrites, only fills."""
    return {f: duplicate[f] for f in MERGE_FILLED if not survivor.get(f) and duplicate.get(f)}
