"""The Apple pass on screens: the card page's badge, and the owner's switch, shop position and
pass preview."""

import re

import pytest

from loyalty_portal.services import program_service
from tests.api.helpers import V, assert_error
from tests.web.owner_helpers import get, make_owner_shop, post
from tests.web.screen_helpers import sign_in
from tests.web.test_vendor_actions import program_form

LANGUAGES = ("en", "fr", "de", "lb")


@pytest.fixture
def owner_shop(client, db, frozen_time):
    shop = make_owner_shop("stamps", stamps_target=8)
    sign_in(client, shop.owner)
    return shop


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_card_page_badge_downloads_the_pass_in_the_page_language(client, apple_shop,
                                                                     language):
    from tests.web.screen_helpers import translated

    page = client.get(f"/card/{apple_shop.card.public_token}?lang={language}").get_data(
        as_text=True)
    assert 'class="apple-wallet-badge"' in page
    assert translated(language, "Add to Apple Wallet") in page
    link = f"/api/v1/loyalty/cards/{apple_shop.card.public_token}/wallet/apple"
    assert link in page
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.apple.pkpass"


def test_no_badge_when_the_program_has_no_apple_pass(client, apple_shop):
    program_service.update_program(apple_shop.vendor.id, apple_wallet_enabled=False)
    page = client.get(f"/card/{apple_shop.card.public_token}").get_data(as_text=True)
    assert "apple-wallet-badge" not in page


def test_the_owner_switches_the_pass_on_and_sets_the_shop_position(client, owner_shop, db,
                                                                   apple_wallet):
    response = post(client, "/vendor/program", program_form(
        owner_shop.program, apple_wallet_enabled="y", shop_latitude="49.6116",
        shop_longitude="6.1319"))
    assert response.status_code == 303
    db.session.refresh(owner_shop.program)
    program = owner_shop.program
    assert program.apple_wallet_enabled is True
    assert (program.shop_latitude, program.shop_longitude) == (49.6116, 6.1319)

    page = get(client, "/vendor/program").get_data(as_text=True)
    [checkbox] = re.findall(r'<input[^>]*name="apple_wallet_enabled"[^>]*>', page)
    assert "checked" in checkbox
    assert 'value="49.6116"' in page

    response = post(client, "/vendor/program", program_form(
        owner_shop.program, shop_latitude="", shop_longitude=""))
    assert response.status_code == 303
    db.session.refresh(owner_shop.program)
    assert (program.apple_wallet_enabled, program.shop_latitude) == (False, None)


def test_a_wrong_position_is_refused_next_to_its_field(client, owner_shop, db, apple_wallet):
    for value, message in (("91", "Must be a number from -90 to 90, or empty."),
                           ("north", "Must be a number from -90 to 90, or empty.")):
        response = post(client, "/vendor/program", program_form(
            owner_shop.program, shop_latitude=value))
        page = response.get_data(as_text=True)
        assert response.status_code == 422, value
        assert page.index(message) < page.index('name="shop_latitude"')
    db.session.refresh(owner_shop.program)
    assert owner_shop.program.shop_latitude is None


def test_the_preview_shows_the_pass_when_apple_wallet_is_set_up(client, owner_shop, request):
    page = get(client, "/vendor/program").get_data(as_text=True)
    assert "In Apple Wallet" not in page
    assert "not set up on this platform" in page
    request.getfixturevalue("apple_wallet")
    fragment = post(client, "/vendor/program/preview", program_form(
        owner_shop.program, name="Bean counter", card_background_color="#112233"),
        htmx=True).get_data(as_text=True)
    assert "In Apple Wallet" in fragment
    assert "Bean counter" in fragment and 'fill="#112233"' in fragment
    assert "3 / 8" in fragment


def test_the_vendor_api_switches_the_pass_on_and_sets_the_shop_position(client, apple_shop):
    sign_in(client, apple_shop.owner)
    response = client.patch(f"{V}/program", json={
        "apple_wallet_enabled": True, "shop_latitude": 49.6116, "shop_longitude": 6.1319})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["apple_wallet_enabled"], body["shop_latitude"], body["shop_longitude"]) == (
        True, 49.6116, 6.1319)
    for bad in ({"shop_latitude": 91}, {"shop_longitude": -181}, {"shop_latitude": "north"}):
        assert_error(client.patch(f"{V}/program", json=bad), 422, "VALIDATION_ERROR")
    cleared = client.patch(f"{V}/program", json={"shop_latitude": None, "shop_longitude": None})
    assert cleared.get_json()["shop_latitude"] is None
