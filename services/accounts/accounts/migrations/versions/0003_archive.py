"""customer archive: the archive card, contacts, violations, evaluations, change requests,
grading history, referral points, policy, export log; audit trails made append-only

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 04:00:00
"""
from alembic import op
import sqlalchemy as sa

import servicedb
from servicedb import drop_append_only, make_append_only


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_MONEY = sa.Numeric(precision=18, scale=2)
_TS = servicedb.types.UtcDateTime(timezone=True)

ACCOUNT_COLUMNS = (
    ('name_key', sa.String(length=200)),
    ('region', sa.String(length=100)),
    ('valid_until', sa.Date()),
    ('profile', sa.Text()),
    ('address', sa.String(length=300)),
    ('website', sa.String(length=300)),
    ('customer_type', sa.String(length=20)),
    ('company_nature', sa.String(length=100)),
    ('legal_representative', sa.String(length=100)),
    ('industry', sa.String(length=100)),
    ('industry_situation', sa.Text()),
    ('bank_credit_rating', sa.String(length=3)),
    ('market_coverage', sa.Text()),
    ('products', sa.Text()),
    ('business_scope', sa.Text()),
    ('registered_capital', _MONEY),
    ('market_positioning', sa.Text()),
    ('sales_channels', sa.Text()),
    ('purchasing', sa.Text()),
    ('annual_sales', _MONEY),
    ('off_season_sales', _MONEY),
    ('peak_sales', _MONEY),
    ('purchasing_power', _MONEY),
    ('off_season_purchasing_power', _MONEY),
    ('peak_purchasing_power', _MONEY),
    ('competitor_usage', sa.Text()),
    ('competitor_satisfaction', sa.Text()),
    ('competitor_rep', sa.Text()),
    ('competitor_rep_relation', sa.Text()),
    ('remarks', sa.Text()),
    ('bank_name', sa.String(length=200)),
    ('bank_account', sa.String(length=64)),
    ('tax_number', sa.String(length=18)),
    ('live_tax_number', sa.String(length=18)),
    ('billing_phone', sa.String(length=40)),
    ('invoicing_requirements', sa.Text()),
    ('archive_decided_at', _TS),
    ('archive_decided_by', sa.String(length=100)),
    ('review_due_on', sa.Date()),
    ('grade', sa.String(length=1)),
    ('grade_score', sa.Numeric(precision=5, scale=2)),
    ('graded_at', _TS),
    ('status_reason', sa.String(length=500)),
    ('status_changed_at', _TS),
    ('last_purchase_at', _TS),
)

APPEND_ONLY = ('account_audit', 'grade_assessments', 'points_entries', 'accounts_policy_changes',
               'account_exports')


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        for name, type_ in ACCOUNT_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(sa.Column('archive_state', sa.String(length=20), nullable=False,
                                      server_default='draft'))
        batch_op.add_column(sa.Column('points_balance', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_unique_constraint(batch_op.f('uq_accounts_live_tax_number'), ['live_tax_number'])
        # varchar_pattern_ops: PostgreSQL serves LIKE 'prefix%' from the index whatever the collation.
        batch_op.create_index('ix_accounts_name_key', ['name_key'], unique=False,
                              postgresql_ops={'name_key': 'varchar_pattern_ops'})
        batch_op.create_index('ix_accounts_tax_number', ['tax_number'], unique=False)
        batch_op.create_index('ix_accounts_status', ['status', 'last_purchase_at'], unique=False)
        batch_op.create_index('ix_accounts_archive_state', ['archive_state'], unique=False)
    # Accounts opened before the archive existed were in use already: approved as they are.
    op.execute("UPDATE accounts SET archive_state = 'approved', name_key = lower(name)")

    op.create_table('account_contacts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('department_title', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('fax', sa.String(length=32), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_contacts_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_contacts'))
    )
    op.create_index('ix_account_contacts_account', 'account_contacts', ['account_id', 'position'])
    op.create_index('ix_account_contacts_phone', 'account_contacts', ['phone'])
    op.create_index('ix_account_contacts_mobile', 'account_contacts', ['mobile'])

    op.create_table('account_violations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_violations_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_violations'))
    )
    op.create_index('ix_account_violations_account', 'account_violations', ['account_id', 'occurred_on'])

    op.create_table('account_evaluations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('evaluator', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_evaluations_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_evaluations'))
    )
    op.create_index('ix_account_evaluations_account', 'account_evaluations', ['account_id', 'recorded_at'])

    op.create_table('account_change_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', _TS, nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', _TS, nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_change_requests_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_change_requests'))
    )
    op.create_index('ix_account_change_requests_account', 'account_change_requests', ['account_id', 'requested_at'])
    op.create_index('ix_account_change_requests_state', 'account_change_requests', ['state', 'requested_at'])

    op.create_table('account_exports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('fmt', sa.String(length=10), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_exports'))
    )

    op.create_table('grade_assessments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('old_grade', sa.String(length=1), nullable=True),
    sa.Column('grade', sa.String(length=1), nullable=False),
    sa.Column('coefficient', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_grade_assessments_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_assessments'))
    )
    op.create_index('ix_grade_assessments_account_at', 'grade_assessments', ['account_id', 'at', 'id'])

    op.create_table('points_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('referred_lead_code', sa.String(length=20), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_points_entries_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries')),
    sa.UniqueConstraint('account_id', 'source_key', name='uq_points_entries_source')
    )
    op.create_index('ix_points_entries_account_at', 'points_entries', ['account_id', 'at', 'id'])

    op.create_table('referred_leads',
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('lead_code', sa.String(length=20), nullable=False),
    sa.Column('registered_at', _TS, nullable=False),
    sa.Column('attended_at', _TS, nullable=True),
    sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_referred_leads'))
    )
    op.create_index('ix_referred_leads_account', 'referred_leads', ['account_id'])

    op.create_table('accounts_policy',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', _TS, nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts_policy'))
    )
    op.create_table('accounts_policy_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts_policy_changes'))
    )
    for table in APPEND_ONLY:
        make_append_only(op.get_bind(), table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        drop_append_only(op.get_bind(), table)
    for table in ('accounts_policy_changes', 'accounts_policy', 'referred_leads', 'points_entries',
                  'grade_assessments', 'account_exports', 'account_change_requests',
                  'account_evaluations', 'account_violations', 'account_contacts'):
        op.drop_table(table)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_archive_state')
        batch_op.drop_index('ix_accounts_status')
        batch_op.drop_index('ix_accounts_tax_number')
        batch_op.drop_index('ix_accounts_name_key')
        batch_op.drop_constraint(batch_op.f('uq_accounts_live_tax_number'), type_='unique')
        batch_op.drop_column('points_balance')
        batch_op.drop_column('archive_state')
        for name, _ in reversed(ACCOUNT_COLUMNS):
            batch_op.drop_column(name)
