"""second pass: trade show end date, invoiced mark (accounts.invoice.issued.v1); joins the heads

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-12-01 04:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = ('0003', '0004', '0005')
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('invoiced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invoice_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('invoice_id')
        batch_op.drop_column('invoiced_at')
        batch_op.drop_column('show_ended_on')
