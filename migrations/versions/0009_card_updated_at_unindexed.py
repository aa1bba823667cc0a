"""loyalty_cards.updated_at loses its index: no query reads cards by it (the Apple listing uses
the change tag since 0004_apple_wallet), while every balance change moved an entry in it.

Revision ID: 0009_card_updated_at_unindexed
Revises: 0008_statistics
Create Date: 2026-12-03

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_card_updated_at_unindexed'
down_revision = '0008_statistics'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_cards_updated_at')


def downgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_cards_updated_at', ['updated_at'], unique=False)
