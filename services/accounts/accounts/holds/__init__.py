"""Holds: none → on hold → released per account, with history, events and violation records."""
