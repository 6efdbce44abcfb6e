"""ownership: policy with audit, protection contacts, owner history, splits, rotation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('out_of_town', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    policy = op.create_table('lead_policy',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_policy'))
    )
    # The one row, so every change locks it; {} reads as the documents' defaults.
    op.bulk_insert(policy, [{'id': 1, 'data': {}, 'version': 0}])
    op.create_table('lead_policy_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_policy_changes'))
    )
    op.create_table('lead_contacts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('out_of_town', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_contacts'))
    )
    op.create_index('ix_lead_contacts_lead_at', 'lead_contacts', ['lead_id', 'at'], unique=False)
    changes = op.create_table('lead_owner_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_owner', sa.String(length=100), nullable=True),
    sa.Column('from_team', sa.String(length=100), nullable=True),
    sa.Column('to_owner', sa.String(length=100), nullable=False),
    sa.Column('to_team', sa.String(length=100), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_owner_changes'))
    )
    op.create_index('ix_lead_owner_changes_lead_at', 'lead_owner_changes', ['lead_id', 'at'],
                    unique=False)
    op.create_table('lead_splits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('split_id', sa.String(length=36), nullable=False),
    sa.Column('situation', sa.String(length=40), nullable=False),
    sa.Column('rep', sa.String(length=100), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_splits'))
    )
    op.create_index('ix_lead_splits_lead', 'lead_splits', ['lead_id', 'at'], unique=False)
    op.create_table('rotation_days',
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('team', 'day', name=op.f('pk_rotation_days'))
    )
    op.create_table('rotation_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('rep', sa.String(length=100), nullable=True),
    sa.Column('served_by', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=True),
    sa.Column('customer', sa.String(length=200), nullable=True),
    sa.Column('consumed_turn', sa.Boolean(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rotation_log'))
    )
    op.create_index('ix_rotation_log_team_day', 'rotation_log', ['team', 'day', 'id'], unique=False)
    op.create_table('lead_redistributions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('from_rep', sa.String(length=100), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('seed', sa.String(length=100), nullable=False),
    sa.Column('to_reps', sa.JSON(), nullable=False),
    sa.Column('assignments', sa.JSON(), nullable=False),
    sa.Column('log', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_redistributions'))
    )
    # Leads registered before this revision get their registration as the first history line.
    leads = sa.table('leads', sa.column('id', sa.String), sa.column('owner_id', sa.String),
                     sa.column('owner_team', sa.String), sa.column('registered_by', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)))
    op.execute(changes.insert().from_select(
        ['lead_id', 'at', 'to_owner', 'to_team', 'actor', 'rule', 'reason'],
        sa.select(leads.c.id, leads.c.created_at, leads.c.owner_id, leads.c.owner_team,
                  leads.c.registered_by, sa.literal('registration'),
                  sa.literal('registered before ownership history was kept'))))


def downgrade() -> None:
    op.drop_table('lead_redistributions')
    op.drop_index('ix_rotation_log_team_day', table_name='rotation_log')
    op.drop_table('rotation_log')
    op.drop_table('rotation_days')
    op.drop_index('ix_lead_splits_lead', table_name='lead_splits')
    op.drop_table('lead_splits')
    op.drop_index('ix_lead_owner_changes_lead_at', table_name='lead_owner_changes')
    op.drop_table('lead_owner_changes')
    op.drop_index('ix_lead_contacts_lead_at', table_name='lead_contacts')
    op.drop_table('lead_contacts')
    op.drop_table('lead_policy_changes')
    op.drop_table('lead_policy')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('out_of_town')
