"""A cashier's lookup (card number, QR token, e-mail, phone) finds the right card, and on
PostgreSQL each kind is answered by index probes, not by reading every card: the plan of the
statement lookup_card runs has no sequential scan even where the planner would rather take one
on a small table (sequential scans are priced out for the check, so only an unavoidable one
shows up). benchmarks/lookup_bench.py times them at 100 000 cards."""

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


@pytest.mark.postgres_only
def test_each_kind_is_an_index_probe(shop):
    vendor_id, cards, phoned, _shared, _other = shop
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
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        _db.session.rollback()
        for table in ("loyalty_cards", "customers"):
            assert f"Seq Scan on {table}" not in plan, f"{kind}:\n{plan}"
        assert "loyalty_cards" in plan and "Index" in plan, f"{kind}:\n{plan}"
