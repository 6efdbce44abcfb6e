"""Accounts service."""
