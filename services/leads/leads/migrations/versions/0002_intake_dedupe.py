"""intake channels and explainable dedupe: company keys, visits, merges, account companies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 07:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('show_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('referrer_type', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('referrer_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('merged_into', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_leads_company_key', ['company_key'], unique=False)
    op.create_index('ix_leads_email_lower', 'leads', [sa.text('lower(email)')], unique=False)
    op.create_table('visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    op.create_index('ix_visits_lead_at', 'visits', ['lead_id', 'at'], unique=False)
    op.create_table('merges',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('survivor_id', sa.String(length=36), nullable=False),
    sa.Column('merged_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merges'))
    )
    op.create_index('ix_merges_merged', 'merges', ['merged_id', 'at'], unique=False)
    op.create_index('ix_merges_survivor', 'merges', ['survivor_id', 'at'], unique=False)
    op.create_table('account_companies',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('company_key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.String(length=100), nullable=True),
    sa.Column('owner_team', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_companies'))
    )
    op.create_index('ix_account_companies_company_key', 'account_companies', ['company_key'],
                    unique=False)
    if postgres:
        # Trigram search for the authorized list; dedupe itself needs only the btrees above.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_leads_company_key_trgm ON leads "
                   "USING gin (company_key gin_trgm_ops) WHERE merged_into IS NULL")
        op.execute("CREATE INDEX ix_account_companies_company_key_trgm ON account_companies "
                   "USING gin (company_key gin_trgm_ops)")
    _backfill_company_keys()


def _backfill_company_keys() -> None:
    """Leads registered before this revision get their key; done in Python so the rule is one."""
    from leads.intake.matching import company_key

    conn = op.get_bind()
    leads = sa.table('leads', sa.column('id', sa.String), sa.column('company', sa.String),
                     sa.column('company_key', sa.String))
    rows = conn.execute(sa.select(leads.c.id, leads.c.company).where(
        leads.c.company.is_not(None), leads.c.company_key.is_(None))).all()
    for lead_id, company in rows:
        conn.execute(leads.update().where(leads.c.id == lead_id)
                     .values(company_key=company_key(company)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_account_companies_company_key_trgm")
        op.execute("DROP INDEX IF EXISTS ix_leads_company_key_trgm")
    op.drop_index('ix_account_companies_company_key', table_name='account_companies')
    op.drop_table('account_companies')
    op.drop_index('ix_merges_survivor', table_name='merges')
    op.drop_index('ix_merges_merged', table_name='merges')
    op.drop_table('merges')
    op.drop_index('ix_visits_lead_at', table_name='visits')
    op.drop_table('visits')
    op.drop_index('ix_leads_email_lower', table_name='leads')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_company_key')
        batch_op.drop_column('merged_into')
        batch_op.drop_column('referrer_id')
        batch_op.drop_column('referrer_type')
        batch_op.drop_column('show_name')
        batch_op.drop_column('company_key')
