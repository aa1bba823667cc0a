"""The transactional outbox (outbox_messages) and each card's change tag.

Revision ID: 0002_outbox
Revises: 0005_counter
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002_outbox'
down_revision = '0005_counter'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('program_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('coalesce_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('pending', 'delivered', 'dead', name='outboxstatus', native_enum=False, length=16), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_change_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_pending_due_at', ['due_at'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_outbox_messages_done_status_delivered_at', ['status', 'delivered_at'], unique=False, sqlite_where=sa.text("status <> 'pending'"), postgresql_where=sa.text("status <> 'pending'"))
        batch_op.create_index('uq_outbox_messages_pending_kind_coalesce_key', ['kind', 'coalesce_key'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_tag', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_loyalty_cards_change_tag'), ['change_tag'], unique=False)



def downgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_cards_change_tag'))
        batch_op.drop_column('change_tag')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('uq_outbox_messages_pending_kind_coalesce_key', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_outbox_messages_done_status_delivered_at', sqlite_where=sa.text("status <> 'pending'"), postgresql_where=sa.text("status <> 'pending'"))
        batch_op.drop_index('ix_outbox_messages_pending_due_at', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.drop_table('outbox_messages')
