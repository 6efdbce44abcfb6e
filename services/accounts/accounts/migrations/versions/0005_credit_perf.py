"""credit performance: an account's open charges by due date (a partial index), for the credit
check's default probe and the oldest-first allocation of payments

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:25:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credit_charges', schema=None) as batch_op:
        batch_op.create_index('ix_credit_charges_account_open', ['account_id', 'due_on'], unique=False,
                              postgresql_where=sa.text('settled_on IS NULL'),
                              sqlite_where=sa.text('settled_on IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('credit_charges', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_charges_account_open')
