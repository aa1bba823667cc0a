"""Every owner screen and htmx fragment renders, in each language, for the owner's own vendor."""

import pytest

from tests.web.owner_helpers import get, make_owner_shop, post
from tests.web.screen_helpers import LANGUAGES, sign_in, translated


@pytest.fixture
def points_shop(db, frozen_time):
    return make_owner_shop("points", points_per_currency_unit=2)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("path", "word"),
    [
        ("/vendor/", "What do you want to do?"),
        ("/vendor/program", "Program setup"),
        ("/vendor/staff", "Staff PINs"),
        ("/vendor/cards", "Cards"),
        ("/vendor/statistics", "Statistics"),
        ("/vendor/export", "Export transactions"),
        ("/vendor/api-keys", "API keys"),
        ("/vendor/poster", "Scan to join — free, no app needed."),
    ],
)
def test_each_page_in_each_language(app, owner, shop, path, word, language):
    response = get(owner, path, language)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in page
    assert translated(language, word) in page
    assert "<script>" not in page and "style=" not in page  # the CSP allows neither


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_about_one_thing_in_each_language(app, owner, shop, language):
    pages = {
        f"/vendor/staff/{shop.pin.id}": "Change the PIN",
        f"/vendor/cards/{shop.card.id}": "History",
        f"/vendor/transactions/{shop.transaction_id}/void": "Void the transaction",
    }
    for path, word in pages.items():
        response = get(owner, path, language)
        assert response.status_code == 200, path
        assert translated(language, word) in response.get_data(as_text=True), path


def test_dashboard_shows_the_programs_numbers(owner, shop):
    page = get(owner, "/vendor/").get_data(as_text=True)
    assert shop.program.name in page
    assert "/vendor/poster" in page and "/vendor/export" in page and "/vendor/api-keys" in page


def test_program_page_holds_the_saved_settings_and_a_preview(owner, shop):
    page = get(owner, "/vendor/program").get_data(as_text=True)
    assert 'value="8"' in page  # stamps target
    assert 'hx-trigger="input changed delay:300ms"' in page
    assert 'id="card-preview"' in page and "<svg" in page


def test_card_page_shows_the_customer_balance_and_history(owner, shop):
    page = get(owner, f"/vendor/cards/{shop.card.id}").get_data(as_text=True)
    assert "Marie Weber" in page
    assert f"/vendor/transactions/{shop.transaction_id}/void" in page
    assert "1 of 8 stamps" in page


def test_statistics_are_svg_charts_with_tables(owner, shop):
    page = get(owner, "/vendor/statistics").get_data(as_text=True)
    assert page.count('role="img"') >= 3
    assert page.count("<table>") >= 3
    assert "aria-labelledby=\"chart-issued-title chart-issued-desc\"" in page


def test_points_program_screens(app, client, points_shop):
    sign_in(client, points_shop.owner)
    program = get(client, "/vendor/program").get_data(as_text=True)
    assert 'name="rewards-0-reward_id"' in program and 'value="coffee"' in program
    assert "Points per day" in get(client, "/vendor/statistics").get_data(as_text=True)
    card = get(client, f"/vendor/cards/{points_shop.card.id}").get_data(as_text=True)
    assert "0 points" in card
    poster = get(client, "/vendor/poster").get_data(as_text=True)
    assert "2 points for every € you spend." in poster and "Coffee" in poster


# htmx fragments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_fragment_in_each_language(app, owner, shop, language):
    fragments = [
        (get, "/vendor/cards?q=marie", None, "Card number"),
        (get, f"/vendor/cards/{shop.card.id}?before={shop.transaction_id + 1}", None, "Stamp"),
        (get, "/vendor/program/rewards/row?index=4", None, "Add a reward"),
        (post, "/vendor/program/preview", {"name": "Café card", "card_background_color": "#FFFFFF",
                                           "card_text_color": "#FFFFFF"}, "Preview"),
        (post, f"/vendor/cards/{shop.card.id}/active", {"active": "0"}, "Unblock the card"),
        (post, f"/vendor/staff/{shop.pin.id}/unlock", None, "Manage"),
        (post, "/vendor/staff", {"name": "Luc", "pin": "5139"}, "Add a staff member"),
        (get, "/vendor/api-keys", None, "Create a key"),
    ]
    for call, path, data, word in fragments:
        args = (path, data) if call is post else (path,)
        response = call(owner, *args, language=language, htmx=True)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "<html" not in body, path
        assert translated(language, word) in body, path


def test_search_fragment_lists_matching_cards_only(owner, shop, db):
    from tests.factories import make_card

    make_card(shop.program, name="Jean Muller")
    body = get(owner, "/vendor/cards?q=muller", htmx=True).get_data(as_text=True)
    assert "Jean Muller" in body and "Marie Weber" not in body


def test_cards_are_paginated(owner, shop, db):
    from tests.factories import make_card

    for _ in range(25):
        make_card(shop.program)
    first = get(owner, "/vendor/cards").get_data(as_text=True)
    assert "Page 1 of 2" in first and "page=2" in first
    second = get(owner, "/vendor/cards?page=2", htmx=True).get_data(as_text=True)
    assert second.count("/vendor/cards/") == 1 and "Page 2 of 2" in second


def test_preview_follows_unsaved_colours_and_warns_on_low_contrast(owner, shop):
    body = post(owner, "/vendor/program/preview", {
        "name": "New name", "card_background_color": "#FFEE00", "card_text_color": "#FFFFFF",
    }, htmx=True).get_data(as_text=True)
    assert 'fill="#FFEE00"' in body and "New name" in body
    assert "hard to read" in body


def test_preview_keeps_the_saved_colour_while_one_is_half_typed(owner, shop):
    body = post(owner, "/vendor/program/preview", {"card_background_color": "#12"},
                htmx=True).get_data(as_text=True)
    assert f'fill="{shop.program.card_background_color}"' in body


def test_preview_without_htmx_is_the_whole_page(owner, shop):
    response = post(owner, "/vendor/program/preview", {"name": "Draft"})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)


def test_reward_row_fragment_moves_the_add_button_on(owner, shop):
    body = get(owner, "/vendor/program/rewards/row?index=4", htmx=True).get_data(as_text=True)
    assert 'name="rewards-4-name"' in body
    assert 'hx-swap-oob="true"' in body and "index=5" in body


def test_removed_reward_row_is_empty(owner, shop):
    response = get(owner, "/vendor/program/rewards/removed", htmx=True)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""


def test_poster_qr_code_is_an_svg_of_the_join_link(owner, shop, app):
    response = get(owner, "/vendor/poster/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    page = get(owner, "/vendor/poster").get_data(as_text=True)
    assert f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/join/{shop.vendor.slug}" in page
