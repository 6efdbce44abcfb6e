"""Pure approval rules (§2.3): steps in the chain's order, only the step's role decides, the
requester never decides their own request, a rejection at any step ends it."""

from __future__ import annotations

from authn import Principal

from .models import PENDING


class ApprovalError(ValueError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def may_decide(*, status: str, step: int, chain: list[str], requested_by: str,
               principal: Principal, claimed_step: int | None) -> str:
    """The role the principal decides as; raises ApprovalError (409 closed/out of order,
    403 wrong role or own request)."""
    if status != PENDING:
        raise ApprovalError(f"the request is already {status}", 409)
    if claimed_step is not None and claimed_step != step:
        raise ApprovalError(f"step {step} ({chain[step - 1]}) decides next, not step {claimed_step}", 409)
    role = chain[step - 1]
    if not principal.has_any(role):
        raise ApprovalError(f"step {step} is decided by the {role} role", 403)
    if principal.sub == requested_by:
        raise ApprovalError("a requester never approves their own request", 403)
    return role
