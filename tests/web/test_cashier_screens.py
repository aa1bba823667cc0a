"""The cashier screen: finding a card, the staff picker, the PIN pad, every action and refusal,
as htmx fragments and as plain pages, in each language."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time

from loyalty_portal.models import Role
from loyalty_portal.web.cashier import STAFF_SESSION_KEY
from tests.factories import make_card, make_pin, make_program, make_user, make_vendor
from tests.web.screen_helpers import (
    HTMX,
    IN_LUXEMBOURG,
    LANGUAGES,
    choose_language,
    hidden_value,
    sign_in,
    text,
    translated,
    translated_plural,
)


@dataclass
class Counter:
    vendor: object
    program: object
    card: object
    pin: object


@pytest.fixture
def counter(client, db, frozen_time):
    """A staff terminal signed in at a stamp-card shop, with Anna's PIN already picked."""
    return _counter(client, "stamps")


@pytest.fixture
def points_counter(client, db, frozen_time):
    return _counter(client, "points", points_per_currency_unit=1)


def _counter(client, program_type, pick_staff=True, **settings) -> Counter:
    vendor = make_vendor()
    program = make_program(vendor, program_type, **settings)
    card = make_card(program, name="Marie Weber", email="marie@example.com")
    pin = make_pin(vendor, "Anna", "4827")
    sign_in(client, make_user(Role.STAFF, vendor))
    if pick_staff:
        with client.session_transaction() as session:
            session[STAFF_SESSION_KEY] = pin.id
    return Counter(vendor, program, card, pin)


def _confirm(client, card_id, action, **params):
    response = client.get(f"/cashier/card/{card_id}/confirm/{action}", query_string=params,
                          headers=HTMX)
    assert response.status_code == 200, text(response)
    return hidden_value(text(response), "idempotency_key")


def _stamp(client, card_id, pin="4827", key=None, headers=HTMX):
    key = key or _confirm(client, card_id, "stamp")
    return client.post(f"/cashier/card/{card_id}/stamp", data={"pin": pin, "idempotency_key": key},
                       headers=headers)


# Finding a card ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_cashier_page_and_start_fragment(client, counter, locale):
    choose_language(client, locale)
    page = text(client.get("/cashier/"))
    assert translated(locale, "Card number, QR code, name, e-mail or phone") in page
    assert 'id="cashier-panel"' in page and 'id="messages"' in page
    assert "/static/js/cashier.js" in page
    fragment = text(client.get("/cashier/", headers=HTMX))
    assert "<html" not in fragment
    hint = translated(locale, "Scan the customer's card or type its number, then press Enter.")
    assert hint in fragment


@pytest.mark.parametrize("locale", LANGUAGES)
def test_scanned_card_number_shows_the_card(client, counter, locale):
    choose_language(client, locale)
    number = counter.card.card_number
    spaced = " ".join(number[i:i + 4] for i in range(0, 12, 4))
    response = client.get("/cashier/find", query_string={"q": spaced}, headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert "Marie Weber" in body and "<html" not in body
    assert translated(locale, "Add a stamp") in body
    assert translated_plural(locale, "%(num)s of %(target)s stamp", "%(num)s of %(target)s stamps",
                             10, num=0, target=10) in body


def test_scanned_qr_token_and_plain_request_redirect_to_the_card_page(client, counter):
    response = client.get("/cashier/find", query_string={"q": counter.card.public_token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cashier/card/{counter.card.id}"
    page = text(client.get(response.headers["Location"]))
    assert "<html" in page and "Marie Weber" in page


@pytest.mark.parametrize("locale", LANGUAGES)
def test_search_by_part_of_a_name_lists_the_cards(client, counter, locale):
    make_card(counter.program, name="Marc Weber", email="marc@example.com")
    choose_language(client, locale)
    body = text(client.get("/cashier/find", query_string={"q": "weber"}, headers=HTMX))
    assert translated_plural(locale, "%(num)s card found", "%(num)s cards found", 2) in body
    assert "Marie Weber" in body and "Marc Weber" in body


@pytest.mark.parametrize("locale", LANGUAGES)
def test_unknown_card_is_a_message_that_replaces_the_previous_card(client, counter, locale):
    choose_language(client, locale)
    response = client.get("/cashier/find", query_string={"q": "nobody"}, headers=HTMX)
    assert response.status_code == 404
    # The panel (the previous card or list) is replaced: nothing can be done on the wrong card.
    assert response.headers["HX-Retarget"] == "#cashier-panel"
    assert translated(locale, "No card found for “%(query)s”.") % {"query": "nobody"} in text(
        response
    )
    assert "Marie Weber" not in text(response)


def test_another_vendors_card_is_not_found(client, counter):
    other = make_card(make_program(make_vendor()))
    assert client.get(f"/cashier/card/{other.id}", headers=HTMX).status_code == 404
    response = client.get("/cashier/find", query_string={"q": other.card_number}, headers=HTMX)
    assert response.status_code == 404


# Staff picker and PIN pad ------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_staff_picks_their_name_once_then_gets_the_pin_pad(client, db, frozen_time, locale):
    shop = _counter(client, "stamps", pick_staff=False)
    choose_language(client, locale)
    url = f"/cashier/card/{shop.card.id}/confirm/stamp"
    picker = text(client.get(url, headers=HTMX))
    assert translated(locale, "Who is at the counter?") in picker
    assert "Anna" in picker
    response = client.post("/cashier/staff", data={"staff_pin_id": shop.pin.id, "next": url},
                           headers=HTMX)
    assert response.status_code == 204
    assert f'"path": "{url}"' in response.headers["HX-Location"]
    pad = text(client.get(url, headers=HTMX))
    assert translated(locale, "%(name)s, enter your PIN", name="Anna") in pad
    assert 'type="password"' in pad and 'inputmode="numeric"' in pad
    assert re.fullmatch(r"[0-9a-f-]{36}", hidden_value(pad, "idempotency_key"))
    forgotten = client.post("/cashier/staff/forget", data={"next": url}, headers=HTMX)
    assert forgotten.status_code == 204
    assert translated(locale, "Who is at the counter?") in text(client.get(url, headers=HTMX))


def test_staff_of_another_vendor_cannot_be_picked(client, counter):
    stranger = make_pin(make_vendor(), "Eve", "7315")
    response = client.post("/cashier/staff", data={"staff_pin_id": stranger.id}, headers=HTMX)
    assert response.status_code == 404


def test_each_rendering_of_the_pad_has_a_new_idempotency_key(client, counter):
    assert _confirm(client, counter.card.id, "stamp") != _confirm(client, counter.card.id, "stamp")


def test_program_without_pin_confirms_with_one_tap(client, db, frozen_time):
    shop = _counter(client, "stamps", pick_staff=False, require_staff_pin=False)
    pad = text(client.get(f"/cashier/card/{shop.card.id}/confirm/stamp", headers=HTMX))
    assert 'name="pin"' not in pad and translated("en", "Confirm") in pad
    key = hidden_value(pad, "idempotency_key")
    response = client.post(f"/cashier/card/{shop.card.id}/stamp", data={"idempotency_key": key},
                           headers=HTMX)
    assert response.status_code == 200


# Stamps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_stamp_with_the_right_pin_shows_the_new_balance(client, counter, locale):
    choose_language(client, locale)
    response = _stamp(client, counter.card.id)
    assert response.status_code == 200
    body = text(response)
    assert translated(locale, "Stamp added for %(name)s.", name="Marie Weber") in body
    assert translated_plural(locale, "%(num)s of %(target)s stamp", "%(num)s of %(target)s stamps",
                             10, num=1, target=10) in body
    assert translated(locale, "Scan next card") in body and "data-scan-next" in body


def test_double_tap_counts_once(client, counter, db):
    key = _confirm(client, counter.card.id, "stamp")
    first = _stamp(client, counter.card.id, key=key)
    second = _stamp(client, counter.card.id, key=key)
    assert first.status_code == second.status_code == 200
    assert translated("en", "This was already recorded; nothing was counted twice.") in text(second)
    db.session.refresh(counter.card)
    assert counter.card.stamp_count == 1


@pytest.mark.parametrize("locale", LANGUAGES)
def test_cooldown_is_said_before_the_pin_and_still_refused_after_it(
    client, counter, frozen_time, locale
):
    choose_language(client, locale)
    assert _stamp(client, counter.card.id).status_code == 200
    frozen_time.advance(minutes=5)
    # Stamped at 10:00 UTC = 11:00 in Luxembourg; a 15-minute cooldown ends at 11:15 local time,
    # written the way the cashier's language writes times in Luxembourg.
    at = format_time(datetime(2026, 3, 2, 10, 15, tzinfo=UTC), "short",
                     tzinfo=ZoneInfo("Europe/Luxembourg"), locale=IN_LUXEMBOURG[locale])
    assert "11:15" in at or "11.15" in at
    # The card view says when, and offers no stamp (no PIN typed for nothing).
    card_page = text(client.get(f"/cashier/card/{counter.card.id}", headers=HTMX))
    assert translated(locale, "Next stamp possible at %(time)s", time=at) in card_page
    assert translated(locale, "Add a stamp") not in card_page
    expected = translated_plural(
        locale,
        "Too soon for another stamp on this card: wait %(num)s more minute (until %(time)s).",
        "Too soon for another stamp on this card: wait %(num)s more minutes (until %(time)s).",
        10, time=at,
    )
    # Asked for anyway (an old link): refused at the confirmation step, before the PIN pad.
    confirm = client.get(f"/cashier/card/{counter.card.id}/confirm/stamp", headers=HTMX)
    assert confirm.status_code == 429
    assert expected in text(confirm)
    # A pad that was already open: the rule holds under the lock too.
    response = _stamp(client, counter.card.id, key="pad-opened-before")
    assert response.status_code == 429
    assert response.headers["HX-Retarget"] == "#messages"
    assert int(response.headers["Retry-After"]) == 600
    assert expected in text(response)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_daily_limit_is_said_before_the_pin(client, db, frozen_time, locale):
    shop = _counter(client, "stamps", cooldown_minutes=0, max_daily_stamps=1)
    choose_language(client, locale)
    assert _stamp(client, shop.card.id).status_code == 200
    card_page = text(client.get(f"/cashier/card/{shop.card.id}", headers=HTMX))
    assert translated(
        locale, "Daily limit reached: %(num)s stamps today. Next stamp possible tomorrow.", num=1
    ) in card_page
    assert translated(locale, "Add a stamp") not in card_page
    confirm = client.get(f"/cashier/card/{shop.card.id}/confirm/stamp", headers=HTMX)
    assert confirm.status_code == 429
    response = _stamp(client, shop.card.id, key="pad-opened-before")
    assert response.status_code == 429
    assert translated(locale, "This card has reached its limit of %(limit)s stamps today.",
                      limit=1) in text(response)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_wrong_pin_says_attempts_left_then_locks_the_pad_until_a_local_time(
    client, counter, locale
):
    choose_language(client, locale)
    response = _stamp(client, counter.card.id, pin="9999")
    assert response.status_code == 403
    assert translated_plural(locale, "Wrong PIN. %(num)s attempt left.",
                             "Wrong PIN. %(num)s attempts left.", 4) in text(response)
    for _ in range(3):
        _stamp(client, counter.card.id, pin="9999")
    locked = _stamp(client, counter.card.id, pin="9999")
    assert locked.status_code == 423
    # The panel becomes the locked pad: locked at 10:00 UTC for 30 minutes, 11:30 in Luxembourg.
    assert locked.headers["HX-Retarget"] == "#cashier-panel"
    assert re.search(r"11[:.]30", text(locked))
    assert translated(locale, "Another staff member") in text(locked)
    assert 'name="pin"' not in text(locked)
    # Coming back to the confirmation shows the locked pad again: no digit can be sent.
    again = client.get(f"/cashier/card/{counter.card.id}/confirm/stamp", headers=HTMX)
    assert again.status_code == 200
    assert translated(locale, "PIN locked") in text(again) and 'name="pin"' not in text(again)
    still_locked = _stamp(client, counter.card.id, pin="4827", key="old-pad")
    assert still_locked.status_code == 423


def test_stamp_reward_is_redeemed_when_the_card_is_full(client, db, frozen_time):
    shop = _counter(client, "stamps", stamps_target=1, cooldown_minutes=0)
    assert _stamp(client, shop.card.id).status_code == 200
    card_page = text(client.get(f"/cashier/card/{shop.card.id}", headers=HTMX))
    assert translated("en", "Redeem the reward") in card_page
    key = _confirm(client, shop.card.id, "redeem_stamps")
    response = client.post(f"/cashier/card/{shop.card.id}/redeem_stamps",
                           data={"pin": "4827", "idempotency_key": key}, headers=HTMX)
    assert response.status_code == 200
    assert "A free coffee" in text(response)


def test_redeeming_too_early_is_refused(client, counter):
    key = _confirm(client, counter.card.id, "redeem_stamps")
    response = client.post(f"/cashier/card/{counter.card.id}/redeem_stamps",
                           data={"pin": "4827", "idempotency_key": key}, headers=HTMX)
    assert response.status_code == 409
    assert translated("en", "Not enough stamps: %(current)s of %(required)s.", current=0,
                      required=10) in text(response)


# Points ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_points_for_a_typed_amount(client, points_counter, locale, db):
    choose_language(client, locale)
    card_page = text(client.get(f"/cashier/card/{points_counter.card.id}", headers=HTMX))
    assert translated(locale, "Purchase amount (%(currency)s)", currency="EUR") in card_page
    pad = client.get(f"/cashier/card/{points_counter.card.id}/confirm/earn_points",
                     # Typed as the language writes it: 12.50 in English, 12,50 in the others.
                     query_string={"amount": "12.50" if locale == "en" else "12,50"},
                     headers=HTMX)
    body = text(pad)
    assert hidden_value(body, "amount_cents") == "1250"
    assert translated_plural(locale, "%(num)s point for %(name)s", "%(num)s points for %(name)s",
                             12, name="Marie Weber") in body
    response = client.post(f"/cashier/card/{points_counter.card.id}/earn_points", headers=HTMX,
                           data={"pin": "4827", "amount_cents": "1250",
                                 "idempotency_key": hidden_value(body, "idempotency_key")})
    assert response.status_code == 200
    added = translated_plural(locale, "%(num)s point added for %(name)s.",
                              "%(num)s points added for %(name)s.", 12, name="Marie Weber")
    assert added in text(response)
    db.session.refresh(points_counter.card)
    assert points_counter.card.points_balance == 12


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_badly_typed_amount_is_refused(client, points_counter, locale):
    choose_language(client, locale)
    response = client.get(f"/cashier/card/{points_counter.card.id}/confirm/earn_points",
                          # Three decimals, as the language writes them: the euro has two.
                          query_string={"amount": "12.505" if locale == "en" else "12,505"},
                          headers=HTMX)
    assert response.status_code == 422
    example = "12.50" if locale == "en" else "12,50"
    assert translated(locale, "Enter the amount like %(example)s.", example=example) in text(
        response
    )


@pytest.mark.parametrize("locale", LANGUAGES)
def test_affordable_catalogue_reward_is_redeemed(client, points_counter, locale, db):
    choose_language(client, locale)
    key = _confirm(client, points_counter.card.id, "earn_points", amount="10")
    client.post(f"/cashier/card/{points_counter.card.id}/earn_points", headers=HTMX,
                data={"pin": "4827", "amount_cents": "1000", "idempotency_key": key})
    card_page = text(client.get(f"/cashier/card/{points_counter.card.id}", headers=HTMX))
    assert translated(locale, "Redeem: %(reward)s", reward="Coffee") in card_page
    assert translated(locale, "Redeem: %(reward)s", reward="Cake") not in card_page
    assert translated(locale, "Affordable") in card_page
    key = _confirm(client, points_counter.card.id, "redeem_reward", reward_id="coffee")
    response = client.post(f"/cashier/card/{points_counter.card.id}/redeem_reward", headers=HTMX,
                           data={"pin": "4827", "reward_id": "coffee", "idempotency_key": key})
    assert response.status_code == 200
    assert translated(locale, "Reward redeemed for %(name)s: %(reward)s", name="Marie Weber",
                      reward="Coffee") in text(response)
    db.session.refresh(points_counter.card)
    assert points_counter.card.points_balance == 0


def test_unknown_reward_is_refused(client, points_counter):
    response = client.get(f"/cashier/card/{points_counter.card.id}/confirm/redeem_reward",
                          query_string={"reward_id": "caviar"}, headers=HTMX)
    assert response.status_code == 422


# Without JavaScript ------------------------------------------------------------------------------


def test_plain_form_posts_work_without_javascript(client, counter):
    pad = text(client.get(f"/cashier/card/{counter.card.id}/confirm/stamp"))
    assert "<html" in pad
    key = hidden_value(pad, "idempotency_key")
    response = _stamp(client, counter.card.id, key=key, headers={})
    assert response.status_code == 200
    assert "<html" in text(response)
    assert translated("en", "Stamp added for %(name)s.", name="Marie Weber") in text(response)
    referer = f"http://localhost/cashier/card/{counter.card.id}/confirm/stamp"
    refused = client.post(f"/cashier/card/{counter.card.id}/stamp", headers={"Referer": referer},
                          data={"pin": "4827", "idempotency_key": "another-key"})
    assert refused.status_code == 303
    assert refused.headers["Location"] == f"/cashier/card/{counter.card.id}/confirm/stamp"
    follow = text(client.get(refused.headers["Location"]))
    assert "message--error" in follow


def test_owner_may_use_the_cashier_screen(client, db, frozen_time):
    vendor = make_vendor()
    make_program(vendor)
    sign_in(client, make_user(Role.OWNER, vendor))
    assert client.get("/cashier/").status_code == 200
