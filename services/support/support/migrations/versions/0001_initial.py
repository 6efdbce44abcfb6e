"""initial schema: known accounts, tickets, code counters, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 06:41:49.812118
"""
from alembic import op
import sqlalchemy as sa
from eventbus.migrations import create_event_tables, drop_event_tables


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('code_counters',
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', name=op.f('pk_code_counters'))
    )
    create_event_tables()
    op.create_table('known_accounts',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('owner_team', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_known_accounts'))
    )
    with op.batch_alter_table('known_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_accounts_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_known_accounts_owner_team'), ['owner_team'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('code', name=op.f('uq_tickets_code'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_account_created', ['account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_created', ['created_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_created')
        batch_op.drop_index('ix_tickets_account_created')

    op.drop_table('tickets')
    with op.batch_alter_table('known_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_accounts_owner_team'))
        batch_op.drop_index(batch_op.f('ix_known_accounts_owner_id'))

    op.drop_table('known_accounts')
    drop_event_tables()
    op.drop_table('code_counters')
