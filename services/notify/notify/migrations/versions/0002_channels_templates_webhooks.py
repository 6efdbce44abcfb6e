"""notify capabilities: messages, templates, preferences, policy, webhooks, greetings

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 04:17:36.300527
"""
from alembic import op
import sqlalchemy as sa
import servicedb.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_cards',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('owner_team', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('key_customer', sa.Boolean(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_title', sa.String(length=50), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('first_seen_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_customer_cards'))
    )
    with op.batch_alter_table('customer_cards', schema=None) as batch_op:
        batch_op.create_index('ix_customer_cards_owner', ['owner_id'], unique=False)

    op.create_table('greeting_drafts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('occasion', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('salutation', sa.String(length=100), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('customer_kind', sa.String(length=10), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_greeting_drafts')),
    sa.UniqueConstraint('occasion', 'account_id', name=op.f('uq_greeting_drafts_occasion_account_id'))
    )
    with op.batch_alter_table('greeting_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_greeting_drafts_owner', ['owner_id', 'created_at'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('recipient_id', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', servicedb.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', servicedb.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=True),
    sa.Column('source_event_id', sa.String(length=200), nullable=True),
    sa.Column('subject_type', sa.String(length=50), nullable=True),
    sa.Column('subject_id', sa.String(length=100), nullable=True),
    sa.Column('provider_ref', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_created_by', ['created_by', 'created_at'], unique=False)
        batch_op.create_index('ix_messages_recipient', ['recipient_id', 'created_at'], unique=False)
        batch_op.create_index('ix_messages_state_next', ['state', 'next_attempt_at'], unique=False)

    op.create_table('notify_policy',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_policy'))
    )
    op.create_table('notify_policy_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_policy_changes'))
    )
    op.create_table('preferences',
    sa.Column('user_id', sa.String(length=100), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_preferences'))
    )
    op.create_table('templates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('product_content', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_templates')),
    sa.UniqueConstraint('event_type', 'channel', 'language', name=op.f('uq_templates_event_type_channel_language'))
    )
    op.create_table('webhook_attempts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('endpoint_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('response_excerpt', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_attempts_delivery', ['delivery_id', 'attempt'], unique=False)
        batch_op.create_index('ix_webhook_attempts_endpoint', ['endpoint_id', 'at'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('endpoint_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', servicedb.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('endpoint_id', 'event_id', name=op.f('uq_webhook_deliveries_endpoint_id_event_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['endpoint_id', 'state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_endpoint', ['endpoint_id', 'created_at'], unique=False)

    op.create_table('webhook_endpoints',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('previous_secret', sa.String(length=100), nullable=True),
    sa.Column('previous_secret_until', servicedb.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('failing_since', servicedb.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('created_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', servicedb.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_events_created', ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_created')

    op.drop_table('webhook_events')
    op.drop_table('webhook_endpoints')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_endpoint')
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_attempts_endpoint')
        batch_op.drop_index('ix_webhook_attempts_delivery')

    op.drop_table('webhook_attempts')
    op.drop_table('templates')
    op.drop_table('preferences')
    op.drop_table('notify_policy_changes')
    op.drop_table('notify_policy')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_state_next')
        batch_op.drop_index('ix_messages_recipient')
        batch_op.drop_index('ix_messages_created_by')

    op.drop_table('messages')
    with op.batch_alter_table('greeting_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_greeting_drafts_owner')

    op.drop_table('greeting_drafts')
    with op.batch_alter_table('customer_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_cards_owner')

    op.drop_table('customer_cards')
