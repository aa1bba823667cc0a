"""Dates and numbers follow the language and the region: Luxembourg's ways by default (fr_LU,
de_LU, lb_LU, and en-GB style for English: day first, 24-hour clock), the browser's region when it
asks for one with the language (en-US)."""

from datetime import UTC, datetime

import pytest

from loyalty_portal.i18n import select_locale
from loyalty_portal.services import stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin, make_program, make_vendor
from tests.web.screen_helpers import text

# Monday 2 March 2026, 13:05 UTC is 14:05 in Luxembourg.
STAMPED_AT = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en", "en_GB"),
        ("en-GB,en;q=0.8", "en_GB"),
        ("en-US,en;q=0.9", "en_US"),
        ("fr", "fr_LU"),
        ("fr-FR,fr;q=0.9", "fr_FR"),
        ("de-DE", "de_DE"),
        ("lb", "lb_LU"),
        ("lu", "lb_LU"),  # the common mistake for Luxembourgish
        ("en-ZZ", "en_GB"),  # a region CLDR does not know: the platform's region decides
        ("es-ES", "en_GB"),  # a language we do not offer: English, written the Luxembourg way
    ],
)
def test_the_locale_is_the_language_with_its_region(app, accept_language, expected):
    with app.test_request_context("/", headers={"Accept-Language": accept_language}):
        assert select_locale() == expected


def test_the_language_chosen_on_the_page_keeps_the_browsers_region(app):
    with app.test_request_context("/?lang=en", headers={"Accept-Language": "fr-FR, en-US;q=0.5"}):
        assert select_locale() == "en_US"
    with app.test_request_context("/?lang=de", headers={"Accept-Language": "en-US"}):
        assert select_locale() == "de_LU"


def test_the_platform_region_is_a_setting(app):
    app.config["LOCALE_REGION"] = "CH"
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert select_locale() == "de_CH"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert select_locale() == "en_CH"


@pytest.fixture
def stamped_card(db, frozen_time):
    vendor = make_vendor(slug="cafe-region", name="Café Region", timezone="Europe/Luxembourg")
    program = make_program(vendor, "stamps", name="Coffee card")
    card = make_card(program, name="Marie Weber")
    pin = make_pin(vendor, "Anna", "4827")
    frozen_time.set(STAMPED_AT)
    stamp_service.add_stamp(vendor.id, card.id, actor=Actor(staff_pin_id=pin.id, pin="4827"))
    return card


@pytest.mark.parametrize(
    ("accept_language", "written", "not_written"),
    [
        ("en", "02/03/2026, 14:05", "PM"),
        ("en-US,en;q=0.9", "3/2/26, 2:05\u202fPM", "02/03/2026"),  # CLDR: narrow space
        ("fr", "02/03/2026 14:05", "PM"),
        ("de", "02.03.26, 14:05", "PM"),
        ("lb", "02.03.26 14:05", "PM"),
    ],
)
def test_the_card_history_writes_dates_the_way_the_region_does(
    client, stamped_card, accept_language, written, not_written
):
    body = text(client.get(f"/card/{stamped_card.public_token}",
                           headers={"Accept-Language": accept_language}))
    body = body.replace(stamped_card.public_token, "")  # random letters: it may hold "PM"
    assert written in body
    assert not_written not in body


@pytest.mark.parametrize(
    ("accept_language", "written"),
    [("en", "1,234"), ("en-US", "1,234"), ("de", "1.234"), ("fr", "1.234"), ("fr-FR", "1\u202f234"),
     ("lb", "1.234")],
)
def test_numbers_are_grouped_the_way_the_region_does(db, client, accept_language, written):
    vendor = make_vendor(slug="shop-points", name="Points shop")
    program = make_program(vendor, "points")
    card = make_card(program, name="Jo Weber")
    card.points_balance = 1234
    db.session.commit()
    body = text(client.get(f"/card/{card.public_token}",
                           headers={"Accept-Language": accept_language}))
    assert written in body
