"""pipeline and follow-ups: lead stage/checklist/tracking columns, stage history, follow-up log,
reminders sent (cadence dedupe)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 07:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=40), server_default='identify',
                                      nullable=False))
        batch_op.add_column(sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('checklist', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('tracking_class', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('tracking_class_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_step', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('next_follow_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lost_reason', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cadence_due_at', sa.DateTime(timezone=True), nullable=True))
    # Converted leads were won; everything else starts in the first stage (the server default).
    op.execute("UPDATE leads SET stage = 'won', closed_at = converted_at WHERE status = 'converted'")
    op.create_index('ix_leads_cadence_due', 'leads', ['cadence_due_at'], unique=False,
                    postgresql_where=sa.text("status = 'open' AND merged_into IS NULL"))
    op.create_table('lead_stage_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_stage_history'))
    )
    op.create_index('ix_lead_stage_history_lead', 'lead_stage_history', ['lead_id', 'entered_at', 'id'],
                    unique=False)
    op.create_table('lead_follow_ups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('next_step', sa.String(length=500), nullable=True),
    sa.Column('next_date', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_follow_ups'))
    )
    op.create_index('ix_lead_follow_ups_lead_at', 'lead_follow_ups', ['lead_id', 'at', 'id'], unique=False)
    op.create_table('lead_reminders_sent',
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_lead_reminders_sent'))
    )
    op.create_index('ix_lead_reminders_sent_lead', 'lead_reminders_sent', ['lead_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lead_reminders_sent_lead', table_name='lead_reminders_sent')
    op.drop_table('lead_reminders_sent')
    op.drop_index('ix_lead_follow_ups_lead_at', table_name='lead_follow_ups')
    op.drop_table('lead_follow_ups')
    op.drop_index('ix_lead_stage_history_lead', table_name='lead_stage_history')
    op.drop_table('lead_stage_history')
    op.drop_index('ix_leads_cadence_due', table_name='leads')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for column in ('cadence_due_at', 'closed_at', 'lost_reason', 'next_follow_up_at', 'next_step',
                       'tracking_class_since', 'tracking_class', 'checklist', 'stage_entered_at',
                       'stage'):
            batch_op.drop_column(column)
