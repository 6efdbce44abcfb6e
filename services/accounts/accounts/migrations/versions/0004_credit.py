"""credit: ledger (charges, payments, allocations, credit notes), credit rows, checks,
holds with history and violations, limit-change requests and temporary increases, deals, the
policy

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 04:02:23.890704
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_policy',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_policy'))
    )
    op.create_table('credit_policy_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_policy_changes'))
    )
    op.create_table('credit_accounts',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('standard_limit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('effective_limit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('temporary_increase', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('outstanding', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('unapplied', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('hold_state', sa.String(length=20), nullable=False),
    sa.Column('hold_reasons', sa.JSON(), nullable=False),
    sa.Column('archive_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_credit_accounts'))
    )
    op.create_table('credit_charges',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=100), nullable=False),
    sa.Column('lead_code', sa.String(length=20), nullable=True),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('credited', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.Column('overdue_notified_on', sa.Date(), nullable=True),
    sa.Column('defaulted_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_charges_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_charges')),
    sa.UniqueConstraint('order_id', name=op.f('uq_credit_charges_order_id'))
    )
    with op.batch_alter_table('credit_charges', schema=None) as batch_op:
        batch_op.create_index('ix_credit_charges_account_due', ['account_id', 'due_on'], unique=False)
        batch_op.create_index('ix_credit_charges_account_issued', ['account_id', 'issued_on'], unique=False)
        batch_op.create_index('ix_credit_charges_open_due', ['settled_on', 'due_on'], unique=False)

    op.create_table('credit_checks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('available_before', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_checks_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_checks')),
    sa.UniqueConstraint('order_id', name=op.f('uq_credit_checks_order_id'))
    )
    with op.batch_alter_table('credit_checks', schema=None) as batch_op:
        batch_op.create_index('ix_credit_checks_account', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_credit_checks_open', ['status', 'expires_at'], unique=False)

    op.create_table('credit_hold_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_hold_history_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_hold_history'))
    )
    with op.batch_alter_table('credit_hold_history', schema=None) as batch_op:
        batch_op.create_index('ix_credit_hold_history_account', ['account_id', 'at'], unique=False)

    op.create_table('credit_payments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('unallocated', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_payments_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_payments'))
    )
    with op.batch_alter_table('credit_payments', schema=None) as batch_op:
        batch_op.create_index('ix_credit_payments_account_received', ['account_id', 'received_on'], unique=False)

    op.create_table('credit_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('chain', sa.JSON(), nullable=False),
    sa.Column('form', sa.JSON(), nullable=False),
    sa.Column('current_limit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('proposed_limit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('order_id', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_requests_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_requests'))
    )
    with op.batch_alter_table('credit_requests', schema=None) as batch_op:
        batch_op.create_index('ix_credit_requests_account', ['account_id', 'requested_at'], unique=False)
        batch_op.create_index('ix_credit_requests_order', ['order_id', 'status'], unique=False)

    op.create_table('credit_temporary_increases',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_temporary_increases_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_temporary_increases'))
    )
    with op.batch_alter_table('credit_temporary_increases', schema=None) as batch_op:
        batch_op.create_index('ix_credit_temporary_increases_due', ['status', 'ends_on'], unique=False)

    op.create_table('credit_violations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('charge_id', sa.String(length=36), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_violations_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_violations')),
    sa.UniqueConstraint('charge_id', name=op.f('uq_credit_violations_charge_id'))
    )
    with op.batch_alter_table('credit_violations', schema=None) as batch_op:
        batch_op.create_index('ix_credit_violations_account', ['account_id', 'at'], unique=False)

    op.create_table('credit_allocations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('payment_id', sa.String(length=36), nullable=False),
    sa.Column('charge_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['credit_charges.id'], name=op.f('fk_credit_allocations_charge_id_credit_charges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['credit_payments.id'], name=op.f('fk_credit_allocations_payment_id_credit_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_allocations'))
    )
    with op.batch_alter_table('credit_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_credit_allocations_charge', ['charge_id'], unique=False)

    op.create_table('credit_decisions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['credit_requests.id'], name=op.f('fk_credit_decisions_request_id_credit_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_decisions')),
    sa.UniqueConstraint('request_id', 'step', name='uq_credit_decisions_step')
    )
    op.create_table('credit_notes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('charge_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_notes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['charge_id'], ['credit_charges.id'], name=op.f('fk_credit_notes_charge_id_credit_charges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index('ix_credit_notes_account', ['account_id'], unique=False)
    op.create_table('credit_deals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('rep_id', sa.String(length=100), nullable=False),
    sa.Column('rep_team', sa.String(length=100), nullable=True),
    sa.Column('product', sa.String(length=200), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('small_deposit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('small_deposit_on', sa.Date(), nullable=True),
    sa.Column('large_deposit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('large_deposit_on', sa.Date(), nullable=True),
    sa.Column('contract', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('contract_on', sa.Date(), nullable=True),
    sa.Column('payment', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('payment_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_deals_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_deals')),
    sa.UniqueConstraint('code', name=op.f('uq_credit_deals_code'))
    )
    with op.batch_alter_table('credit_deals', schema=None) as batch_op:
        batch_op.create_index('ix_credit_deals_account', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_credit_deals_contract', ['contract_on'], unique=False)
        batch_op.create_index('ix_credit_deals_large', ['large_deposit_on'], unique=False)
        batch_op.create_index('ix_credit_deals_payment', ['payment_on'], unique=False)
        batch_op.create_index('ix_credit_deals_small', ['small_deposit_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credit_deals', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_deals_small')
        batch_op.drop_index('ix_credit_deals_payment')
        batch_op.drop_index('ix_credit_deals_large')
        batch_op.drop_index('ix_credit_deals_contract')
        batch_op.drop_index('ix_credit_deals_account')

    op.drop_table('credit_deals')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_notes_account')

    op.drop_table('credit_notes')
    op.drop_table('credit_decisions')
    with op.batch_alter_table('credit_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_allocations_charge')

    op.drop_table('credit_allocations')
    with op.batch_alter_table('credit_violations', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_violations_account')

    op.drop_table('credit_violations')
    with op.batch_alter_table('credit_temporary_increases', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_temporary_increases_due')

    op.drop_table('credit_temporary_increases')
    with op.batch_alter_table('credit_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_requests_order')
        batch_op.drop_index('ix_credit_requests_account')

    op.drop_table('credit_requests')
    with op.batch_alter_table('credit_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_payments_account_received')

    op.drop_table('credit_payments')
    with op.batch_alter_table('credit_hold_history', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_hold_history_account')

    op.drop_table('credit_hold_history')
    with op.batch_alter_table('credit_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_checks_open')
        batch_op.drop_index('ix_credit_checks_account')

    op.drop_table('credit_checks')
    with op.batch_alter_table('credit_charges', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_charges_open_due')
        batch_op.drop_index('ix_credit_charges_account_issued')
        batch_op.drop_index('ix_credit_charges_account_due')

    op.drop_table('credit_charges')
    op.drop_table('credit_accounts')
    op.drop_table('credit_policy_changes')
    op.drop_table('credit_policy')
