"""Customer pages without an account: join, the card page, the lost-link page, privacy, theme."""

import re

import pytest

from loyalty_portal.services import program_service, stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin, make_program, make_vendor
from tests.web.screen_helpers import LANGUAGES, choose_language, text, translated, translated_plural


@pytest.fixture
def cafe(db):
    vendor = make_vendor(slug="cafe-test", name="Café Test")
    return make_program(vendor, "stamps", name="Coffee card", description="Ten stamps, one coffee.")


def _join(client, **fields):
    data = {"name": "Zoé Martin", "email": "zoe@example.com", "phone": "", "locale": "fr",
            "consent": "y", **fields}
    return client.post("/join/cafe-test", data=data)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_join_page_in_each_language(client, cafe, locale):
    response = client.get(f"/join/cafe-test?lang={locale}")
    assert response.status_code == 200
    body = text(response)
    assert translated(locale, "Join %(program)s", program="Coffee card") in body
    assert translated(locale, "Get my card") in body
    assert 'href="/privacy"' in body
    assert f'<option lang="{locale}" selected value="{locale}">' in body
    assert f'href="/theme/{cafe.id}.css"' in body


@pytest.mark.parametrize("locale", LANGUAGES)
def test_joining_leads_to_the_card_page_in_the_chosen_language(client, cafe, locale):
    response = _join(client, locale=locale)
    assert response.status_code == 303
    assert re.fullmatch(r"/card/[\w-]+", response.headers["Location"])
    page = client.get(response.headers["Location"])
    body = text(page)
    assert f'<html lang="{locale}">' in body
    assert translated(locale, "Show this at the counter") in body
    assert "<svg" in body and 'class="segno"' in body
    assert re.search(r"\d{4} \d{4} \d{4}", body)  # the card number, printed
    assert translated(locale, "Nothing yet: your first purchase will appear here.") in body
    assert translated(locale, "Add to Apple Wallet") not in body


@pytest.mark.parametrize("locale", LANGUAGES)
def test_refusals_are_shown_beside_the_field(client, cafe, locale):
    choose_language(client, locale)
    response = _join(client, email="not-an-address")
    assert response.status_code == 422
    assert translated(locale, "Enter a valid e-mail address.") in text(response)
    assert 'aria-invalid="true"' in text(response)
    assert 'value="Zoé Martin"' in text(response)  # nothing typed is lost
    response = _join(client, consent="")
    assert translated(locale, "Please accept the privacy notice to join.") in text(response)
    response = _join(client, email="", phone="")
    assert translated(locale, "Enter an e-mail address or a phone number.") in text(response)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_joining_twice_explains_how_to_recover_the_card(client, cafe, locale):
    _join(client)
    choose_language(client, locale)
    response = _join(client, name="Zoé again")
    assert response.status_code == 409
    body = text(response)
    assert translated(locale, "You already have a card") in body
    assert "/card/" not in body  # the link is never given to whoever types the address
    assert 'href="/join/cafe-test/card-link"' in body


def test_paused_program_refuses_to_enrol(client, cafe):
    program_service.deactivate_program(cafe.vendor_id)
    response = client.get("/join/cafe-test")
    assert response.status_code == 409
    assert translated("en", "The loyalty program is not active.") in text(response)
    assert client.get("/join/no-such-shop").status_code == 404


@pytest.mark.parametrize("locale", LANGUAGES)
def test_card_page_shows_progress_and_history(client, cafe, locale, frozen_time):
    card = make_card(cafe, name="Marie Weber")
    pin = make_pin(cafe.vendor, "Anna", "4827")
    stamp_service.add_stamp(cafe.vendor_id, card.id, actor=Actor(staff_pin_id=pin.id, pin="4827"))
    body = text(client.get(f"/card/{card.public_token}?lang={locale}"))
    assert translated_plural(locale, "%(num)s of %(target)s stamp", "%(num)s of %(target)s stamps",
                             10, num=1, target=10) in body
    assert translated(locale, "History") in body
    assert translated(locale, "Stamp") in body
    assert translated_plural(locale, "%(num)s stamp", "%(num)s stamps", 1, num="+1") in body
    assert body.count('class="stamp stamp--filled"') == 1


@pytest.mark.parametrize("locale", LANGUAGES)
def test_points_card_page_lists_the_affordable_rewards(client, db, locale):
    program = make_program(make_vendor(), "points")
    card = make_card(program)
    body = text(client.get(f"/card/{card.public_token}?lang={locale}"))
    assert translated_plural(locale, "%(num)s point", "%(num)s points", 0) in body
    assert "Coffee" in body and "Cake" in body
    assert translated(locale, "Affordable") not in body


def test_wallet_buttons_appear_only_when_configured(client, app, db, request):
    program = make_program(make_vendor(), "stamps")
    card = make_card(program)
    program_service.update_program(program.vendor_id, apple_wallet_enabled=True,
                                   google_wallet_enabled=True)
    body = text(client.get(f"/card/{card.public_token}"))
    assert "Add to Apple Wallet" not in body  # enabled, but the platform has no certificates
    request.getfixturevalue("apple_wallet")
    body = text(client.get(f"/card/{card.public_token}"))
    # Google's button needs the platform's service account (tests/google_wallet).
    assert "Add to Apple Wallet" in body and "Add to Google Wallet" not in body


@pytest.mark.parametrize("locale", LANGUAGES)
def test_unknown_card_link_is_a_404_page(client, db, locale):
    response = client.get(f"/card/not-a-token?lang={locale}")
    assert response.status_code == 404
    assert translated(locale, "Loyalty card not found.") in text(response)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_lost_card_page_sends_nothing_and_explains(client, db, locale):
    body = text(client.get(f"/lost-card?lang={locale}"))
    assert translated(locale, "I lost my card link") in body
    assert translated(locale, "Ask at the counter of the shop.") in body
    assert "<form" not in body.split("<main", 1)[1]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_privacy_notice(client, db, locale):
    body = text(client.get(f"/privacy?lang={locale}"))
    assert translated(locale, "Privacy notice") in body


def test_theme_stylesheet_carries_the_program_colours(client, db):
    program = make_program(make_vendor(), card_background_color="#123456",
                           card_text_color="#FFFFFF")
    response = client.get(f"/theme/{program.id}.css")
    assert response.mimetype == "text/css"
    assert f".loyalty-card--{program.id}" in text(response) and "#123456" in text(response)
