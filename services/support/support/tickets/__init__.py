"""Tickets: kinds and routing, first responder, lifecycle, repeat contacts, major matters."""
