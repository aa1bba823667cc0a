"""A cashier's lookup (card number, QR token, e-mail, phone) finds the right card, and on
PostgreSQL each kind is answered by index probes, not by reading the shop's cards: the plan of
the statement lookup_card runs, with 5 000 cards in the shop (loaded in bulk and analysed, so
the planner chooses as it would in a real shop), probes the unique indexes of the card number
and the token and, for a contact, the customer's card. benchmarks/lookup_bench.py times them
at 100 000 cards."""

import pytest
from sqlalchemy import event

from loyalty_portal.errors import LoyaltyCardNotFound
from loyalty_portal.extensions import db as _db
from loyalty_portal.services import card_service
from tests.factories import make_card, make_program, make_vendor


@pytest.fixture
def shop(db):
    program = make_program(make_vendor(timezone="Europe/Luxembourg"))
    cards = [make_card(program) for _ in range(3)]
    phoned = make_card(program, phone="+352 621 123 456")
    other_shop = make_card(make_program(make_vendor()), email="shared@example.com")
    shared = make_card(program, email="shared@example.com")
    return program.vendor_id, cards, phoned, shared, other_shop


def typed_forms(card) -> dict[str, str]:
    number = card.card_number
    return {
        "card number": f"{number[:4]} {number[4:8]}-{number[8:]}",
        "QR token": f"https://loyalty.example/c/{card.public_token}/",
        "e-mail": (card.customer.email or "").upper(),
        "phone": card.customer.phone and "621 123 456",
    }


def test_each_kind_finds_the_vendors_own_card(shop):
    vendor_id, cards, phoned, shared, other_shop = shop
    for card in [*cards, phoned, shared]:
        for kind, typed in typed_forms(card).items():
            if typed:
                assert card_service.lookup_card(vendor_id, typed).id == card.id, kind
    # The same e-mail at another shop is another customer: each shop finds its own.
    assert card_service.lookup_card(other_shop.program.vendor_id, "shared@example.com").id \
        == other_shop.id
    with pytest.raises(LoyaltyCardNotFound):
        card_service.lookup_card(vendor_id, other_shop.card_number)
    with pytest.raises(LoyaltyCardNotFound):
        card_service.lookup_card(vendor_id, "nobody@example.com")


def load_cards(program_id: int, vendor_id: int, count: int) -> None:
    from sqlalchemy import text

    _db.session.execute(
        text(
            "INSERT INTO customers (vendor_id, name, email, phone, created_at)"
            " SELECT :vendor, 'Bulk ' || g, 'bulk' || g || '@example.com',"
            " '+35269100' || lpad(g::text, 4, '0'), now() FROM generate_series(1, :n) g"
        ),
        {"vendor": vendor_id, "n": count},
    )
    _db.session.execute(
        text(
            "INSERT INTO loyalty_cards (program_id, customer_id, card_number, public_token,"
            " stamp_count, points_balance, total_stamps_earned, total_stamps_redeemed,"
            " total_points_earned, total_points_redeemed, total_rewards_redeemed, is_active,"
            " created_at, updated_at, apple_serial_number, apple_auth_token)"
            " SELECT :program, c.id, lpad((800000000000 + c.id)::text, 12, '0'),"
            " md5('bulk' || c.id), 0, 0, 0, 0, 0, 0, 0, true, now(), now(), md5('s' || c.id), 'x'"
            " FROM customers c WHERE c.name LIKE 'Bulk %'"
        ),
        {"program": program_id},
    )
    _db.session.commit()
    _db.session.connection().exec_driver_sql("ANALYZE loyalty_cards, customers, loyalty_programs")
    _db.session.commit()


@pytest.mark.postgres_only
def test_each_kind_is_an_index_probe(shop):
    vendor_id, cards, phoned, _shared, _other = shop
    load_cards(cards[0].program_id, vendor_id, 5000)
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM loyalty_cards" in statement:
            statements.append((statement, parameters))

    engine = _db.engine
    for kind, typed in [
        ("card number", typed_forms(cards[0])["card number"]),
        ("QR token", typed_forms(cards[1])["QR token"]),
        ("e-mail", typed_forms(cards[2])["e-mail"]),
        ("phone", "621 123 456"),
    ]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            card_service.lookup_card(vendor_id, typed)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert len(statements) == 1, kind
        statement, parameters = statements[0]
        connection = _db.session.connection()
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        _db.session.rollback()
        for table in ("loyalty_cards", "customers"):
            assert f"Seq Scan on {table}" not in plan, f"{kind}:\n{plan}"
        # Each condition is its own index probe (a BitmapOr), not a filter over every card
        # (which a full index scan could hide from the check above).
        probes = ["uq_loyalty_cards_card_number", "uq_loyalty_cards_public_token"]
        if kind in ("e-mail", "phone"):
            column = {"e-mail": "email", "phone": "phone"}[kind]
            probes += ["ix_loyalty_cards_customer_id", f"uq_customers_vendor_{column}"]
        for index in probes:
            assert f"Index Scan on {index}" in plan or f"Index Scan using {index}" in plan, (
                f"{kind}: no probe of {index}:\n{plan}"
            )
        assert "SubPlan" not in plan, f"{kind}:\n{plan}"
