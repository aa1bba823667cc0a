"""Customers and money with the libraries made for them: phone numbers in E.164 (phonenumbers),
e-mail addresses checked and normalised (email-validator), amounts typed in the request's
language (Babel) and held in the currency's own minor units."""

import pytest

from loyalty_portal.errors import LoyaltyCardAlreadyExists, ValidationError
from loyalty_portal.models import Role
from loyalty_portal.services import card_service, contacts, money, points_service, program_service
from loyalty_portal.services.ledger import Actor
from tests.api.helpers import V, sign_in
from tests.factories import make_card, make_program, make_user, make_vendor

NO_PIN = Actor()


@pytest.mark.parametrize(
    ("typed", "locale", "currency", "minor"),
    [
        ("9,99", "fr", "EUR", 999),
        ("9,99", "de", "EUR", 999),
        ("9,99", "lb", "EUR", 999),
        ("9.99", "en", "EUR", 999),
        ("1 234,50", "fr", "EUR", 123450),
        ("1.234,50", "de", "EUR", 123450),
        ("1,234.50", "en", "EUR", 123450),
        (" 12 ", "en", "EUR", 1200),
        ("500", "en", "JPY", 500),
        ("1.250", "en", "KWD", 1250),
        ("1,250", "fr", "BHD", 1250),
        ("0", "en", "EUR", 0),  # an amount; earning points refuses it as too small
    ],
)
def test_amounts_are_read_in_the_language_and_held_in_minor_units(typed, locale, currency, minor):
    assert money.parse_amount(typed, currency, locale) == minor


@pytest.mark.parametrize(
    ("typed", "locale", "currency"),
    [
        ("9,99", "en", "EUR"),  # a misplaced thousands separator in English
        ("9.99", "de", "EUR"),  # likewise in German
        ("500.5", "en", "JPY"),  # the yen has no minor unit
        ("1.2345", "en", "KWD"),  # three decimals at most
        ("0,001", "fr", "EUR"),
        ("", "en", "EUR"),
        ("abc", "en", "EUR"),
        ("-5", "en", "EUR"),
        ("1e3", "en", "EUR"),
        ("NaN", "en", "EUR"),
        ("100000000", "en", "EUR"),
        ("1,2,3", "en", "EUR"),
    ],
)
def test_what_is_not_an_amount_is_refused(app, typed, locale, currency):
    with app.app_context(), pytest.raises(ValidationError) as refused:
        money.parse_amount(typed, currency, locale)
    assert refused.value.details["field"] == "amount"


def test_the_refusal_shows_an_example_in_the_language_and_currency(app):
    with app.app_context():
        assert money.amount_example("EUR", "fr") == "12,50"
        assert money.amount_example("EUR", "en") == "12.50"
        assert money.amount_example("JPY", "en") == "1250"
        assert money.amount_example("KWD", "de") == "1,250"


@pytest.mark.parametrize(
    ("minor", "rate", "currency", "points"),
    [(1999, 1, "EUR", 19), (500, 1, "JPY", 500), (1250, 2, "KWD", 2), (999, 10, "BHD", 9)],
)
def test_points_per_currency_unit_use_the_currencys_minor_units(minor, rate, currency, points):
    assert money.points_for_amount(minor, rate, currency) == points


@pytest.mark.parametrize(
    ("currency", "timezone", "amount", "points"),
    [("JPY", "Asia/Tokyo", 500, 500), ("KWD", "Asia/Kuwait", 1250, 1), ("EUR", "UTC", 1250, 12)],
)
def test_earning_points_counts_whole_units_of_the_vendors_currency(
    db, frozen_time, currency, timezone, amount, points
):
    vendor = make_vendor(currency=currency, timezone=timezone)
    program = make_program(vendor, "points", points_per_currency_unit=1, require_staff_pin=False)
    card = make_card(program)
    result = points_service.earn_points(vendor.id, card.id, amount, actor=NO_PIN)
    assert (result.points_delta, result.purchase_amount_cents) == (points, amount)


def test_the_cashier_types_the_amount_in_their_language(client, db, frozen_time):
    vendor = make_vendor()
    program = make_program(vendor, "points", points_per_currency_unit=1, require_staff_pin=False)
    card = make_card(program)
    sign_in(client, make_user(Role.STAFF, vendor))
    url = f"/cashier/card/{card.id}/confirm/earn_points"
    french = client.get(url, query_string={"amount": "9,99", "lang": "fr"})
    assert french.status_code == 200
    assert 'name="amount_cents" value="999"' in french.get_data(as_text=True)
    english = client.get(url, query_string={"amount": "9,99", "lang": "en"})
    assert english.status_code == 422
    assert "Enter the amount like 12.50." in english.get_data(as_text=True)


# Phone numbers and e-mail addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["+352 621 123 456", "00352 621 123 456", "621 123 456", "621-123-456"]
)
def test_phone_numbers_become_e164_in_the_vendors_country(typed):
    assert contacts.normalise_phone(typed, contacts.phone_region("Europe/Luxembourg")) == (
        "+352621123456"
    )


def test_the_region_comes_from_the_time_zone_or_the_setting(app):
    assert contacts.phone_region("Europe/Paris") == "FR"
    with app.app_context():
        assert contacts.phone_region("UTC") is None
        app.config["PHONE_DEFAULT_REGION"] = "LU"
        assert contacts.phone_region("UTC") == "LU"


@pytest.mark.parametrize("typed", ["12", "+352 1", "not a number", "+999 123 456 789", "9" * 60])
def test_what_is_not_a_phone_number_is_refused(typed):
    with pytest.raises(ValidationError):
        contacts.normalise_phone(typed, "LU")


def test_one_customer_cannot_enrol_twice_under_two_spellings(db, frozen_time):
    program = make_program(make_vendor(timezone="Europe/Luxembourg"))
    card = make_card(program, phone="+352 621 123 456")
    assert card.customer.phone == "+352621123456"
    with pytest.raises(LoyaltyCardAlreadyExists):
        make_card(program, phone="621 123 456")
    make_card(program, email="Zoe@Example.com")
    with pytest.raises(LoyaltyCardAlreadyExists):
        make_card(program, email="zoe@example.COM")


def test_the_card_is_found_by_either_spelling(client, db, frozen_time):
    vendor = make_vendor(timezone="Europe/Luxembourg")
    program = make_program(vendor)
    card = make_card(program, phone="621 123 456", email="Zoe@Example.com")
    for typed in ("621 123 456", "+352621123456", "00352 621 123 456", "zoe@EXAMPLE.com"):
        assert card_service.lookup_card(vendor.id, typed).id == card.id
    owner = make_user(Role.OWNER, vendor)
    sign_in(client, owner)
    found = client.get(f"{V}/cards/lookup", query_string={"q": "+352 621 123 456"})
    assert found.status_code == 200 and found.get_json()["id"] == card.id


@pytest.mark.parametrize("typed", ["a@b", "zoe@@example.com", "zoe@example", "zoe example@x.lu"])
def test_what_is_not_an_e_mail_address_is_refused(typed):
    with pytest.raises(ValidationError) as refused:
        contacts.normalise_email(typed)
    assert refused.value.details["field"] == "email"


def test_enrolment_refuses_a_bad_address_with_the_field(db, frozen_time):
    program = make_program(make_vendor())
    with pytest.raises(ValidationError) as refused:
        card_service.enrol_customer(program, name="Zoé", email="zoe@@example.com", consent=True)
    assert refused.value.details["field"] == "email"
    program_service.get_program(program.vendor_id)  # nothing half-written
