"""Leads service."""
