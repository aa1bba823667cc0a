"""PIN guessing: wrong-PIN counters per terminal (pin_throttles) and escalating locks.

Revision ID: 0003_pin_guessing
Revises: 0005_counter
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003_pin_guessing'
down_revision = '0004_apple_wallet'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pin_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('terminal', sa.String(length=64), nullable=False),
    sa.Column('staff_pin_id', sa.Integer(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('lock_level', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_flight', sa.Integer(), nullable=False),
    sa.Column('in_flight_since', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_pin_id'], ['staff_pins.id'], name=op.f('fk_pin_throttles_staff_pin_id_staff_pins')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_pin_throttles_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pin_throttles')),
    sa.UniqueConstraint('key', name=op.f('uq_pin_throttles_key'))
    )
    with op.batch_alter_table('pin_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pin_throttles_staff_pin_id'), ['staff_pin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pin_throttles_vendor_id'), ['vendor_id'], unique=False)

    with op.batch_alter_table('staff_pins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lock_level', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('staff_pins', schema=None) as batch_op:
        batch_op.drop_column('lock_level')

    with op.batch_alter_table('pin_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pin_throttles_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_pin_throttles_staff_pin_id'))

    op.drop_table('pin_throttles')
