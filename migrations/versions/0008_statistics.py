"""Statistics at a million ledger rows: a per-program, per-day summary kept by the ledger write
(program_daily_activity), filled here from the existing ledger; card indexes for a program's
new and active cards and the platform's new cards (the program-and-creation index replaces
the bare program index).

Revision ID: 0008_statistics
Revises: 0007_onboarding
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_statistics'
down_revision = '0007_onboarding'
branch_labels = None
depends_on = None

TOTALS = ('total_stamps_earned', 'total_stamps_redeemed', 'total_points_earned',
          'total_points_redeemed', 'total_rewards_redeemed')
# lifetime_totals.MOVES as of this revision: what each kind of row counts in its day.
_COUNTED = {
    'total_stamps_earned': "CASE WHEN t.transaction_type = 'stamp_earned'"
                           " THEN t.stamps_delta ELSE 0 END",
    'total_stamps_redeemed': "CASE WHEN t.transaction_type = 'stamp_reward_redeemed'"
                             " THEN -t.stamps_delta ELSE 0 END",
    'total_points_earned': "CASE WHEN t.transaction_type = 'points_earned'"
                           " THEN t.points_delta ELSE 0 END",
    'total_points_redeemed': "CASE WHEN t.transaction_type = 'points_reward_redeemed'"
                             " THEN -t.points_delta ELSE 0 END",
    'total_rewards_redeemed': "CASE WHEN t.transaction_type IN"
                              " ('stamp_reward_redeemed', 'points_reward_redeemed')"
                              " THEN 1 ELSE 0 END",
}


def upgrade():
    op.create_table(
        'program_daily_activity',
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('local_day', sa.Date(), nullable=False),
        sa.Column('utc_day', sa.Date(), nullable=False),
        sa.Column('slot', sa.Integer(), nullable=False),
        *[sa.Column(column, sa.Integer(), nullable=False) for column in TOTALS],
        sa.ForeignKeyConstraint(['program_id'], ['loyalty_programs.id'],
                                name=op.f('fk_program_daily_activity_program_id_loyalty_programs')),
        sa.PrimaryKeyConstraint('program_id', 'local_day', 'utc_day', 'slot',
                                name=op.f('pk_program_daily_activity')),
    )
    with op.batch_alter_table('program_daily_activity', schema=None) as batch_op:
        batch_op.create_index('ix_program_daily_activity_utc_day', ['utc_day'], unique=False)
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_cards_program_created', ['program_id', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_loyalty_cards_program_activity',
                              ['program_id', 'last_activity_at'], unique=False)
        batch_op.create_index('ix_loyalty_cards_created', ['created_at'], unique=False)
        batch_op.drop_index('ix_loyalty_cards_program_id')
    fill_from_ledger()


def fill_from_ledger():
    """One row per program, vendor's day and UTC day of the existing ledger (slot 0: the
    slots only spread today's concurrent writes)."""
    if op.get_bind().dialect.name == 'postgresql':
        local_day = 'CAST(timezone(v.timezone, t.created_at) AS date)'
        utc_day = "CAST(timezone('UTC', t.created_at) AS date)"
    else:  # the app registers loyalty_local_date on every SQLite connection (database.py)
        local_day = 'loyalty_local_date(t.created_at, v.timezone)'
        utc_day = 'date(t.created_at)'
    op.execute(
        f"INSERT INTO program_daily_activity (program_id, local_day, utc_day, slot,"
        f" {', '.join(TOTALS)})"
        f" SELECT t.program_id, {local_day}, {utc_day}, 0,"
        f" {', '.join(f'SUM({_COUNTED[column]})' for column in TOTALS)}"
        " FROM loyalty_transactions t"
        " JOIN loyalty_programs p ON p.id = t.program_id"
        " JOIN vendors v ON v.id = p.vendor_id"
        f" GROUP BY t.program_id, {local_day}, {utc_day}"
    )


def downgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_cards_program_id', ['program_id'], unique=False)
        batch_op.drop_index('ix_loyalty_cards_created')
        batch_op.drop_index('ix_loyalty_cards_program_activity')
        batch_op.drop_index('ix_loyalty_cards_program_created')
    op.drop_table('program_daily_activity')
