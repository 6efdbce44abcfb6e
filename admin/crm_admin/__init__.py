"""Operator commands that concern every service at once (see docs/operations.md)."""

SERVICES = ("leads", "accounts", "support", "notify")
