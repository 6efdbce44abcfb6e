"""Every credit table, imported so ``Base.metadata`` (migrations, schema checks) knows them."""

from __future__ import annotations

from ..approvals.models import CreditRequest, Decision, TemporaryIncrease
from ..checks.models import CreditCheck
from ..deals.models import Deal
from ..holds.models import HoldEntry, Violation
from ..ledger.models import Allocation, Charge, CreditNote, Payment
from .models import CreditAccount
from .policy import CreditPolicyChange, CreditPolicyRow

__all__ = ["Allocation", "Charge", "CreditAccount", "CreditCheck", "CreditNote",
           "CreditPolicyChange", "CreditPolicyRow", "CreditRequest", "Deal", "Decision", "HoldEntry",
           "Payment", "TemporaryIncrease", "Violation"]
