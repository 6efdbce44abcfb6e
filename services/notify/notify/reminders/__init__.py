"""Reminders from other services' events (§4.1, §4.6), routed to owner, manager, approver, customer."""
