"""audit rows of leads are append-only: policy changes and owner changes (issue 7)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:30:00
"""
from alembic import op

from servicedb import drop_append_only, make_append_only

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Stage history is not here: a stage's row gets its ``left_at`` when the lead moves on.
APPEND_ONLY = ('lead_policy_changes', 'lead_owner_changes')


def upgrade() -> None:
    for table in APPEND_ONLY:
        make_append_only(op.get_bind(), table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        drop_append_only(op.get_bind(), table)
