"""Credit: what the ledger, limits, checks, holds and approvals share — money, the audited credit
policy, the per-account credit row every money movement locks, and the published events."""
