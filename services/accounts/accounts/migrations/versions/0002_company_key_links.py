"""company keys on accounts and lead links: conversions link to an existing account, no twin

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 07:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_key', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_accounts_company_key', ['company_key', 'status'], unique=False)
    op.create_table('lead_links',
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('lead_code', sa.String(length=20), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lead_links_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_lead_links'))
    )
    op.create_index('ix_lead_links_account', 'lead_links', ['account_id'], unique=False)
    _backfill_company_keys()


def _backfill_company_keys() -> None:
    """Accounts opened before this revision get their key; in Python so the rule is one."""
    from accounts.companies import company_key

    conn = op.get_bind()
    accounts = sa.table('accounts', sa.column('id', sa.String), sa.column('company', sa.String),
                        sa.column('company_key', sa.String))
    rows = conn.execute(sa.select(accounts.c.id, accounts.c.company).where(
        accounts.c.company.is_not(None), accounts.c.company_key.is_(None))).all()
    for account_id, company in rows:
        conn.execute(accounts.update().where(accounts.c.id == account_id)
                     .values(company_key=company_key(company)))


def downgrade() -> None:
    op.drop_index('ix_lead_links_account', table_name='lead_links')
    op.drop_table('lead_links')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_company_key')
        batch_op.drop_column('company_key')
