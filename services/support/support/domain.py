"""Pure support rules: ticket vocabularies and who may see or open tickets for an account.

No Flask, no session, no clock: callers pass what the rules need.
"""

from __future__ import annotations

from dataclasses import dataclass

from authn import ADMIN, INTEGRATION, SUPPORT_AGENT, Principal

KINDS = ("inquiry", "complaint", "repair", "installation")
PRIORITIES = ("low", "normal", "high", "urgent")
DEFAULT_PRIORITY = "normal"
OPEN = "open"


@dataclass(frozen=True)
class AccountAccess:
    """The facts about a ticket's account that decide who may see the ticket."""

    owner_id: str
    owner_team: str | None


@dataclass(frozen=True)
class Scope:
    """The accounts whose tickets a caller may see: all, or those of one owner and/or team.

    Used both for "may I see this one?" and for the list query, so they never disagree.
    """

    everything: bool = False
    owner_id: str | None = None
    team: str | None = None

    def allows(self, account: AccountAccess) -> bool:
        if self.everything:
            return True
        if self.team is not None and account.owner_team == self.team:
            return True
        return self.owner_id is not None and account.owner_id == self.owner_id


def scope_for(principal: Principal) -> Scope:
    """Support agents, admins and integrations work every account's tickets; managers their
    team's accounts (and their own); reps the accounts they own."""
    if principal.has_any(ADMIN, SUPPORT_AGENT, INTEGRATION):
        return Scope(everything=True)
    if principal.is_manager and principal.team:
        return Scope(owner_id=principal.sub, team=principal.team)
    return Scope(owner_id=principal.sub)


def can_open_ticket(principal: Principal, account: AccountAccess | None) -> bool:
    """A ticket may be opened for a known account the caller may see.

    An unknown account and someone else's account get the same answer, so account ids probed
    through this endpoint reveal nothing.
    """
    return account is not None and scope_for(principal).allows(account)
