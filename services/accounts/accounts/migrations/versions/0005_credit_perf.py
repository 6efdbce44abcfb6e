"""credit performance: an account's open charges by due date (a partial index), for the credit
check's default probe and the oldest-first allocation of payments; the ledger payment a deal's
交款 posted; referred leads by code (a charge's lead earns its referrer purchase points)

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
    with op.batch_alter_table('credit_deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_credit_deals_payment_id_credit_payments'),
                                    'credit_payments', ['payment_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('referred_leads', schema=None) as batch_op:
        batch_op.create_index('ix_referred_leads_code', ['lead_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referred_leads', schema=None) as batch_op:
        batch_op.drop_index('ix_referred_leads_code')
    with op.batch_alter_table('credit_deals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_credit_deals_payment_id_credit_payments'),
                                 type_='foreignkey')
        batch_op.drop_column('payment_id')
    with op.batch_alter_table('credit_charges', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_charges_account_open')
