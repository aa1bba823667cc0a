"""Apple Wallet: devices with one push token each, registrations naming the pass type and the
card (Apple's pass web service model), and the shop's location for the pass.

The old apple_device_registrations table (a push token per registration) never held a row: no
route wrote it before this revision, so it is replaced rather than converted.

Revision ID: 0004_apple_wallet
Revises: 0002_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_apple_wallet"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("apple_device_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apple_device_registrations_card_id"))
        batch_op.drop_index(batch_op.f("ix_apple_device_registrations_device_library_identifier"))
    op.drop_table("apple_device_registrations")

    op.create_table(
        "apple_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_library_identifier", sa.String(length=128), nullable=False),
        sa.Column("push_token", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_devices")),
        sa.UniqueConstraint(
            "device_library_identifier", name=op.f("uq_apple_devices_device_library_identifier")
        ),
    )
    op.create_table(
        "apple_device_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("pass_type_identifier", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["apple_devices.id"],
            name=op.f("fk_apple_device_registrations_device_id_apple_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["loyalty_cards.id"],
            name=op.f("fk_apple_device_registrations_card_id_loyalty_cards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_device_registrations")),
        sa.UniqueConstraint(
            "device_id", "card_id", name=op.f("uq_apple_device_registrations_device_id_card_id")
        ),
    )
    with op.batch_alter_table("apple_device_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apple_device_registrations_card_id"), ["card_id"], unique=False
        )

    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shop_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("shop_longitude", sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        batch_op.drop_column("shop_longitude")
        batch_op.drop_column("shop_latitude")

    with op.batch_alter_table("apple_device_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apple_device_registrations_card_id"))
    op.drop_table("apple_device_registrations")
    op.drop_table("apple_devices")
    op.create_table(
        "apple_device_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_library_identifier", sa.String(length=128), nullable=False),
        sa.Column("push_token", sa.String(length=200), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["loyalty_cards.id"],
            name=op.f("fk_apple_device_registrations_card_id_loyalty_cards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_device_registrations")),
        sa.UniqueConstraint(
            "device_library_identifier",
            "card_id",
            name=op.f("uq_apple_device_registrations_device_library_identifier_card_id"),
        ),
    )
    with op.batch_alter_table("apple_device_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apple_device_registrations_card_id"), ["card_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_apple_device_registrations_device_library_identifier"),
            ["device_library_identifier"],
            unique=False,
        )
