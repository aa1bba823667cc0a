"""Onboarding: suspended vendors, invited users (no password yet), card-link recovery, program
texts per language.

Revision ID: 0007_onboarding
Revises: 0006_hardening
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_onboarding'
down_revision = '0006_hardening'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('activity_alerts_sent_for', sa.Date(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_set_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True))
    # Everyone who exists already chose their password.
    op.execute("UPDATE users SET password_set_at = created_at")

    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_recovered_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.drop_column('translations')

    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_column('link_recovered_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('invited_at')
        batch_op.drop_column('password_set_at')

    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.drop_column('activity_alerts_sent_for')
        batch_op.drop_column('suspended_at')
