"""Hardening: the ledger also refuses TRUNCATE (PostgreSQL), and customers' phone numbers are
stored in E.164 (+352621123456) so one customer cannot enrol twice under two spellings.

SQLite has no TRUNCATE (its DELETE trigger already guards the ledger).

Revision ID: 0006_hardening
Revises: 0003_pin_guessing
Create Date: 2026-12-03

"""
import logging

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_hardening'
down_revision = '0003_pin_guessing'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The function of 0001 raises for any operation; a statement-level trigger fires once
        # per TRUNCATE, also when another table's TRUNCATE ... CASCADE reaches the ledger.
        op.execute(
            "CREATE TRIGGER loyalty_transactions_no_truncate BEFORE TRUNCATE"
            " ON loyalty_transactions FOR EACH STATEMENT"
            " EXECUTE FUNCTION loyalty_transactions_immutable()"
        )
    normalise_phone_numbers()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER loyalty_transactions_no_truncate ON loyalty_transactions")
    # Phone numbers stay in E.164: every earlier version reads them as they are.


def normalise_phone_numbers():
    """E.164 for every stored phone, the region from the vendor's time zone. A number that does
    not parse, or whose E.164 form another customer of the vendor already has, is left as it
    was (and logged) rather than merged: two customers are never joined by a migration."""
    import phonenumbers
    from babel.core import get_global

    territories = get_global("zone_territories")
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT c.id, c.vendor_id, c.phone, v.timezone FROM customers c"
            " JOIN vendors v ON v.id = c.vendor_id WHERE c.phone IS NOT NULL ORDER BY c.id"
        )
    ).all()
    taken = {(vendor_id, phone) for _, vendor_id, phone, _ in rows}
    for customer_id, vendor_id, phone, timezone in rows:
        try:
            number = phonenumbers.parse(phone, territories.get(timezone))
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            log.warning("customer %s: phone number %r left as it is", customer_id, phone)
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 == phone:
            continue
        if (vendor_id, e164) in taken:
            log.warning("customer %s: %r is already another customer's %s", customer_id, phone, e164)
            continue
        bind.execute(
            sa.text("UPDATE customers SET phone = :phone WHERE id = :id"),
            {"phone": e164, "id": customer_id},
        )
        taken.discard((vendor_id, phone))
        taken.add((vendor_id, e164))
