"""The credit blueprints the accounts app registers."""

from __future__ import annotations

from ..approvals.api import blp as requests_blp
from ..checks.api import blp as checks_blp
from ..deals.api import blp as deals_blp
from ..holds.api import blp as holds_blp
from ..ledger.api import blp as ledger_blp
from ..limits.api import blp as limits_blp

BLUEPRINTS = [ledger_blp, limits_blp, checks_blp, holds_blp, requests_blp, deals_blp]
