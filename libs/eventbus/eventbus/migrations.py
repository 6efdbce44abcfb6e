"""Alembic operations for the outbox and inbox tables, so every service's first migration
creates them identically from the one definition in ``store``."""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from .store import define_tables


def create_event_tables() -> None:
    outbox, inbox = define_tables(MetaData())
    bind = op.get_bind()
    outbox.create(bind)  # with its partial index
    inbox.create(bind)


def drop_event_tables() -> None:
    op.drop_table("event_inbox")
    op.drop_index("ix_event_outbox_unsent", table_name="event_outbox")
    op.drop_table("event_outbox")
