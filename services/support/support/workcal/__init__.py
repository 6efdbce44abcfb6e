"""The business calendar: working hours on the official China calendar (holidays and 调休)."""
