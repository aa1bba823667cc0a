"""Getting a card back: a one-time link sent only to the enrolled address, and re-issuing a card's
link and QR code (balance and history kept, the old link gone at once)."""

import pytest
from sqlalchemy import select

from loyalty_portal.errors import (
    LinkAlreadyUsed,
    LinkExpired,
    LinkInvalid,
    LoyaltyCardNotFound,
    ValidationError,
    VendorNotFound,
)
from loyalty_portal.extensions import db
from loyalty_portal.models import OutboxMessage
from loyalty_portal.services import (
    card_link_service,
    card_service,
    customer_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_program


@pytest.fixture
def card(db, frozen_time):
    program = make_program(name="Coffee card")
    return make_card(program, name="Marie", email="marie@example.com", locale="de")


def token_in(smtp_server, message) -> str:
    return smtp_server.link_in(message).rsplit("/", 1)[1]


def test_the_link_goes_only_to_the_enrolled_address_in_the_customers_language(
    card, smtp_server
):
    slug = card.program.vendor.slug
    card_link_service.request_card_link(slug, "nobody@example.com")
    assert smtp_server.messages == []

    card_link_service.request_card_link(slug, " MARIE@example.com ")
    [message] = smtp_server.messages
    assert message["To"] == "marie@example.com" and message["Content-Language"] == "de"
    assert smtp_server.link_in(message).startswith("http://127.0.0.1:5000/card-link/")


def test_the_link_opens_the_card_once(card, smtp_server, frozen_time):
    card_link_service.request_card_link(card.program.vendor.slug, "marie@example.com")
    token = token_in(smtp_server, smtp_server.messages[0])

    assert card_link_service.open_card_link(token).id == card.id
    with pytest.raises(LinkAlreadyUsed):
        card_link_service.open_card_link(token)

    frozen_time.advance(seconds=1)
    card_link_service.request_card_link(card.program.vendor.slug, "marie@example.com")
    assert card_link_service.open_card_link(token_in(smtp_server, smtp_server.messages[1]))


def test_the_link_expires(card, smtp_server, frozen_time, app):
    card_link_service.request_card_link(card.program.vendor.slug, "marie@example.com")
    token = token_in(smtp_server, smtp_server.messages[0])
    frozen_time.advance(seconds=app.config["CARD_LINK_MAX_AGE"] + 1)
    with pytest.raises(LinkExpired):
        card_link_service.open_card_link(token)


def test_no_link_for_an_erased_customer_or_another_shop(card, smtp_server):
    other = make_program()
    card_link_service.request_card_link(other.vendor.slug, "marie@example.com")
    customer_service.erase_customer(card.program.vendor_id, card.customer_id)
    card_link_service.request_card_link(card.program.vendor.slug, "marie@example.com")
    assert smtp_server.messages == []


def test_a_bad_address_or_unknown_shop_is_refused(card):
    with pytest.raises(ValidationError):
        card_link_service.request_card_link(card.program.vendor.slug, "not an address")
    with pytest.raises(VendorNotFound):
        card_link_service.request_card_link("no-such-shop", "marie@example.com")


def test_reissuing_gives_a_new_link_keeps_the_balance_and_kills_the_old_links(
    card, smtp_server, frozen_time
):
    vendor_id = card.program.vendor_id
    transaction_service.adjust_balance(vendor_id, card.id, stamps_delta=3, reason="test",
                                       actor=Actor())
    old_token = card.public_token
    card_link_service.request_card_link(card.program.vendor.slug, "marie@example.com")
    recovery = token_in(smtp_server, smtp_server.messages[0])

    frozen_time.advance(seconds=1)
    reissued = card_link_service.reissue_card(vendor_id, card.id)

    assert reissued.public_token != old_token
    assert (reissued.stamp_count, reissued.card_number) == (3, card.card_number)
    assert card_service.get_card_by_public_token(reissued.public_token).id == card.id
    with pytest.raises(LoyaltyCardNotFound):
        card_service.get_card_by_public_token(old_token)
    with pytest.raises(LinkInvalid):
        card_link_service.open_card_link(recovery)
    assert len(transaction_service.card_history(card.id, limit=10)) == 1
    announced = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "card.changed", OutboxMessage.card_id == card.id)).all()
    assert [m.reason for m in announced][-1] == "card_reissued"
    announced = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "card.changed", OutboxMessage.card_id == card.id)).all()
    assert [m.reason for m in announced][-1] == "card_reissued"
