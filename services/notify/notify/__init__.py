"""Notify service."""
