"""Initial schema: vendors, users, customers, the five loyalty tables and API keys.

The ledger (loyalty_transactions) gets triggers that refuse UPDATE and DELETE on both databases.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vendors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('default_locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendors')),
    sa.UniqueConstraint('slug', name=op.f('uq_vendors_slug'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_text_version', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_customers_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('uq_customers_vendor_email', ['vendor_id', 'email'], unique=True)
        batch_op.create_index('uq_customers_vendor_phone', ['vendor_id', 'phone'], unique=True)

    op.create_table('loyalty_programs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('program_type', sa.Enum('stamps', 'points', name='programtype', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('stamps_target', sa.Integer(), nullable=False),
    sa.Column('stamps_reward_description', sa.String(length=200), nullable=False),
    sa.Column('points_per_currency_unit', sa.Integer(), nullable=False),
    sa.Column('points_rewards', sa.JSON(), nullable=False),
    sa.Column('require_staff_pin', sa.Boolean(), nullable=False),
    sa.Column('cooldown_minutes', sa.Integer(), nullable=False),
    sa.Column('max_daily_stamps', sa.Integer(), nullable=False),
    sa.Column('pin_max_failed_attempts', sa.Integer(), nullable=False),
    sa.Column('pin_lockout_minutes', sa.Integer(), nullable=False),
    sa.Column('card_background_color', sa.String(length=7), nullable=False),
    sa.Column('card_text_color', sa.String(length=7), nullable=False),
    sa.Column('logo_url', sa.String(length=500), nullable=True),
    sa.Column('apple_wallet_enabled', sa.Boolean(), nullable=False),
    sa.Column('google_wallet_enabled', sa.Boolean(), nullable=False),
    sa.Column('google_class_id', sa.String(length=200), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cooldown_minutes >= 0', name=op.f('ck_loyalty_programs_cooldown_not_negative')),
    sa.CheckConstraint('max_daily_stamps >= 1', name=op.f('ck_loyalty_programs_daily_limit_positive')),
    sa.CheckConstraint('pin_lockout_minutes >= 1', name=op.f('ck_loyalty_programs_pin_lockout_positive')),
    sa.CheckConstraint('pin_max_failed_attempts >= 1', name=op.f('ck_loyalty_programs_pin_attempts_positive')),
    sa.CheckConstraint('points_per_currency_unit >= 0', name=op.f('ck_loyalty_programs_points_rate_not_negative')),
    sa.CheckConstraint('stamps_target >= 1', name=op.f('ck_loyalty_programs_stamps_target_positive')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_loyalty_programs_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_programs')),
    sa.UniqueConstraint('google_class_id', name=op.f('uq_loyalty_programs_google_class_id')),
    sa.UniqueConstraint('vendor_id', name=op.f('uq_loyalty_programs_vendor_id'))
    )
    op.create_table('staff_pins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('pin_hash', sa.String(length=100), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_staff_pins_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_pins')),
    sa.UniqueConstraint('vendor_id', 'name', name=op.f('uq_staff_pins_vendor_id_name'))
    )
    with op.batch_alter_table('staff_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_pins_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'owner', 'staff', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('is_active_user', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role = 'admin' AND vendor_id IS NULL) OR (role <> 'admin' AND vendor_id IS NOT NULL)", name=op.f('ck_users_vendor_matches_role')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_users_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_api_keys_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_api_keys_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('loyalty_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('card_number', sa.String(length=20), nullable=False),
    sa.Column('public_token', sa.String(length=64), nullable=False),
    sa.Column('stamp_count', sa.Integer(), nullable=False),
    sa.Column('points_balance', sa.Integer(), nullable=False),
    sa.Column('total_stamps_earned', sa.Integer(), nullable=False),
    sa.Column('total_stamps_redeemed', sa.Integer(), nullable=False),
    sa.Column('total_points_earned', sa.Integer(), nullable=False),
    sa.Column('total_points_redeemed', sa.Integer(), nullable=False),
    sa.Column('total_rewards_redeemed', sa.Integer(), nullable=False),
    sa.Column('last_stamp_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('apple_serial_number', sa.String(length=64), nullable=False),
    sa.Column('apple_auth_token', sa.String(length=64), nullable=False),
    sa.Column('google_object_id', sa.String(length=200), nullable=True),
    sa.CheckConstraint('points_balance >= 0', name=op.f('ck_loyalty_cards_points_balance_not_negative')),
    sa.CheckConstraint('stamp_count >= 0', name=op.f('ck_loyalty_cards_stamp_count_not_negative')),
    sa.CheckConstraint('total_stamps_earned >= 0 AND total_stamps_redeemed >= 0 AND total_points_earned >= 0 AND total_points_redeemed >= 0 AND total_rewards_redeemed >= 0', name=op.f('ck_loyalty_cards_totals_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_cards_customer_id_customers')),
    sa.ForeignKeyConstraint(['program_id'], ['loyalty_programs.id'], name=op.f('fk_loyalty_cards_program_id_loyalty_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_cards')),
    sa.UniqueConstraint('apple_serial_number', name=op.f('uq_loyalty_cards_apple_serial_number')),
    sa.UniqueConstraint('card_number', name=op.f('uq_loyalty_cards_card_number')),
    sa.UniqueConstraint('customer_id', 'program_id', name=op.f('uq_loyalty_cards_customer_id_program_id')),
    sa.UniqueConstraint('google_object_id', name=op.f('uq_loyalty_cards_google_object_id')),
    sa.UniqueConstraint('public_token', name=op.f('uq_loyalty_cards_public_token'))
    )
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_cards_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_cards_program_id'), ['program_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_cards_updated_at'), ['updated_at'], unique=False)

    op.create_table('apple_device_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_library_identifier', sa.String(length=128), nullable=False),
    sa.Column('push_token', sa.String(length=200), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['loyalty_cards.id'], name=op.f('fk_apple_device_registrations_card_id_loyalty_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apple_device_registrations')),
    sa.UniqueConstraint('device_library_identifier', 'card_id', name=op.f('uq_apple_device_registrations_device_library_identifier_card_id'))
    )
    with op.batch_alter_table('apple_device_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apple_device_registrations_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_apple_device_registrations_device_library_identifier'), ['device_library_identifier'], unique=False)

    op.create_table('loyalty_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('transaction_type', sa.Enum('stamp_earned', 'stamp_reward_redeemed', 'points_earned', 'points_reward_redeemed', 'void', 'adjustment', name='transactiontype', native_enum=False, length=32), nullable=False),
    sa.Column('stamps_delta', sa.Integer(), nullable=False),
    sa.Column('points_delta', sa.Integer(), nullable=False),
    sa.Column('stamps_balance_after', sa.Integer(), nullable=False),
    sa.Column('points_balance_after', sa.Integer(), nullable=False),
    sa.Column('staff_pin_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('purchase_amount_cents', sa.Integer(), nullable=True),
    sa.Column('reward_id', sa.String(length=64), nullable=True),
    sa.Column('reward_name', sa.String(length=200), nullable=True),
    sa.Column('voids_transaction_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('purchase_amount_cents IS NULL OR purchase_amount_cents >= 0', name=op.f('ck_loyalty_transactions_purchase_amount_not_negative')),
    sa.CheckConstraint('stamps_balance_after >= 0 AND points_balance_after >= 0', name=op.f('ck_loyalty_transactions_balances_after_not_negative')),
    sa.ForeignKeyConstraint(['card_id'], ['loyalty_cards.id'], name=op.f('fk_loyalty_transactions_card_id_loyalty_cards')),
    sa.ForeignKeyConstraint(['program_id'], ['loyalty_programs.id'], name=op.f('fk_loyalty_transactions_program_id_loyalty_programs')),
    sa.ForeignKeyConstraint(['staff_pin_id'], ['staff_pins.id'], name=op.f('fk_loyalty_transactions_staff_pin_id_staff_pins')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_loyalty_transactions_user_id_users')),
    sa.ForeignKeyConstraint(['voids_transaction_id'], ['loyalty_transactions.id'], name=op.f('fk_loyalty_transactions_voids_transaction_id_loyalty_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_transactions')),
    sa.UniqueConstraint('voids_transaction_id', name=op.f('uq_loyalty_transactions_voids_transaction_id'))
    )
    with op.batch_alter_table('loyalty_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_transactions_card_created', ['card_id', 'created_at'], unique=False)
        batch_op.create_index('ix_loyalty_transactions_program_created', ['program_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_transactions_staff_pin_id'), ['staff_pin_id'], unique=False)
        batch_op.create_index('uq_loyalty_transactions_program_idempotency_key', ['program_id', 'idempotency_key'], unique=True)
    create_ledger_guards()


def downgrade():
    drop_ledger_guards()
    with op.batch_alter_table('loyalty_transactions', schema=None) as batch_op:
        batch_op.drop_index('uq_loyalty_transactions_program_idempotency_key')
        batch_op.drop_index(batch_op.f('ix_loyalty_transactions_staff_pin_id'))
        batch_op.drop_index('ix_loyalty_transactions_program_created')
        batch_op.drop_index('ix_loyalty_transactions_card_created')

    op.drop_table('loyalty_transactions')
    with op.batch_alter_table('apple_device_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apple_device_registrations_device_library_identifier'))
        batch_op.drop_index(batch_op.f('ix_apple_device_registrations_card_id'))

    op.drop_table('apple_device_registrations')
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_cards_updated_at'))
        batch_op.drop_index(batch_op.f('ix_loyalty_cards_program_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_cards_customer_id'))

    op.drop_table('loyalty_cards')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_vendor_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_vendor_id'))

    op.drop_table('users')
    with op.batch_alter_table('staff_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_pins_vendor_id'))

    op.drop_table('staff_pins')
    op.drop_table('loyalty_programs')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('uq_customers_vendor_phone')
        batch_op.drop_index('uq_customers_vendor_email')

    op.drop_table('customers')
    op.drop_table('vendors')


def create_ledger_guards():
    """Ledger rows are immutable: the database refuses edits even from outside the ORM."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION loyalty_transactions_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'loyalty_transactions rows are immutable (% refused)', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER loyalty_transactions_immutable BEFORE UPDATE OR DELETE"
            " ON loyalty_transactions FOR EACH ROW EXECUTE FUNCTION loyalty_transactions_immutable()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER loyalty_transactions_no_{operation.lower()} BEFORE {operation}"
                " ON loyalty_transactions BEGIN"
                " SELECT RAISE(ABORT, 'loyalty_transactions rows are immutable'); END"
            )


def drop_ledger_guards():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER loyalty_transactions_immutable ON loyalty_transactions")
        op.execute("DROP FUNCTION loyalty_transactions_immutable()")
    else:
        op.execute("DROP TRIGGER loyalty_transactions_no_update")
        op.execute("DROP TRIGGER loyalty_transactions_no_delete")
