"""public web forms (hashed keys, per-form rate limit) and their submissions

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23 07:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_forms',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('owner_team', sa.String(length=100), nullable=True),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('key_rotated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_forms'))
    )
    op.create_index('ix_web_forms_team', 'web_forms', ['owner_team', 'created_at'], unique=False)
    op.create_table('web_form_submissions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('form_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['web_forms.id'], name=op.f('fk_web_form_submissions_form_id_web_forms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_form_submissions'))
    )
    op.create_index('ix_web_form_submissions_form_at', 'web_form_submissions', ['form_id', 'at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_web_form_submissions_form_at', table_name='web_form_submissions')
    op.drop_table('web_form_submissions')
    op.drop_index('ix_web_forms_team', table_name='web_forms')
    op.drop_table('web_forms')
