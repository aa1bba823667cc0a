"""The counter's limits: stamps per purchase, points protection and the cashier's undo window.

Revision ID: 0005_counter
Revises: 0001
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_counter'
down_revision = '0001'
branch_labels = None
depends_on = None

_CHECKS = {
    'stamps_per_purchase_positive': 'max_stamps_per_purchase >= 1',
    'max_purchase_amount_positive': 'max_purchase_amount_cents >= 1',
    'counter_undo_not_negative': 'counter_undo_minutes >= 0',
}


def upgrade():
    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_stamps_per_purchase', sa.Integer(), nullable=False,
                                      server_default='5'))
        batch_op.add_column(sa.Column('max_purchase_amount_cents', sa.Integer(), nullable=False,
                                      server_default='100000'))
        batch_op.add_column(sa.Column('max_daily_points', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirm_purchase_above_cents', sa.Integer(),
                                      nullable=True))
        batch_op.add_column(sa.Column('counter_undo_minutes', sa.Integer(), nullable=False,
                                      server_default='5'))
        for name, condition in _CHECKS.items():
            batch_op.create_check_constraint(op.f(f'ck_loyalty_programs_{name}'), condition)


def downgrade():
    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        for name in _CHECKS:
            batch_op.drop_constraint(op.f(f'ck_loyalty_programs_{name}'), type_='check')
        batch_op.drop_column('counter_undo_minutes')
        batch_op.drop_column('confirm_purchase_above_cents')
        batch_op.drop_column('max_daily_points')
        batch_op.drop_column('max_purchase_amount_cents')
        batch_op.drop_column('max_stamps_per_purchase')
