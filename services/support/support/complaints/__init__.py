"""Complaints: the nine-step flow (§3.2a), grievances and accountability (§3.2d)."""
