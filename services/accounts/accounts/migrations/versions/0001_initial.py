"""initial schema: accounts, account audit, code counters, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 06:40:46.416648
"""
from alembic import op
import sqlalchemy as sa
from eventbus.migrations import create_event_tables, drop_event_tables


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('owner_team', sa.String(length=100), nullable=True),
    sa.Column('source_lead_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('code', name=op.f('uq_accounts_code')),
    sa.UniqueConstraint('source_lead_id', name=op.f('uq_accounts_source_lead_id'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_email'), ['email'], unique=False)
        batch_op.create_index('ix_accounts_owner_created', ['owner_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_phone'), ['phone'], unique=False)
        batch_op.create_index('ix_accounts_team_created', ['owner_team', 'created_at', 'id'], unique=False)

    op.create_table('code_counters',
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', name=op.f('pk_code_counters'))
    )
    create_event_tables()
    op.create_table('account_audit',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_audit_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_audit'))
    )
    with op.batch_alter_table('account_audit', schema=None) as batch_op:
        batch_op.create_index('ix_account_audit_account_at', ['account_id', 'at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('account_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_account_audit_account_at')

    op.drop_table('account_audit')
    drop_event_tables()
    op.drop_table('code_counters')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_team_created')
        batch_op.drop_index(batch_op.f('ix_accounts_phone'))
        batch_op.drop_index('ix_accounts_owner_created')
        batch_op.drop_index(batch_op.f('ix_accounts_email'))
        batch_op.drop_index('ix_accounts_created')

    op.drop_table('accounts')
