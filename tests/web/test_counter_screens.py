"""The counter screens of issue 15 without a browser: quantities, amounts checked as typed, the
second confirmation, the cashier's undo, search results with balances, the live customer card page
(ETag and 304), the owner's counter settings and the sign-out confirmation."""

import pytest

from loyalty_portal.models import Role
from loyalty_portal.services import stamp_service
from loyalty_portal.services.ledger import Actor
from loyalty_portal.web.cashier import STAFF_SESSION_KEY
from tests.factories import make_card, make_pin, make_program, make_user, make_vendor
from tests.web.screen_helpers import (
    HTMX,
    LANGUAGES,
    choose_language,
    hidden_value,
    sign_in,
    text,
    translated,
    translated_plural,
)


def _terminal(client, program_type="stamps", **settings):
    vendor = make_vendor()
    program = make_program(vendor, program_type, **settings)
    card = make_card(program, name="Marie Weber", email="marie@example.com")
    pin = make_pin(vendor, "Anna", "4827")
    sign_in(client, make_user(Role.STAFF, vendor))
    with client.session_transaction() as session:
        session[STAFF_SESSION_KEY] = pin.id
    return card


@pytest.fixture
def card(client, db, frozen_time):
    return _terminal(client, max_stamps_per_purchase=3)


@pytest.fixture
def points_card(client, db, frozen_time):
    return _terminal(client, "points", points_per_currency_unit=1,
                     max_purchase_amount_cents=20_000, confirm_purchase_above_cents=5_000)


def _pad(client, url, **params):
    response = client.get(url, query_string=params, headers=HTMX)
    assert response.status_code == 200, text(response)
    return text(response)


# Stamps -------------------------------------------------------------------------------------------


def test_the_card_offers_quantities_up_to_the_programs_maximum(client, card):
    body = text(client.get(f"/cashier/card/{card.id}", headers=HTMX))
    assert 'name="stamps" value="3"' in body and 'name="stamps" value="4"' not in body
    pad = _pad(client, f"/cashier/card/{card.id}/confirm/stamp", stamps=3)
    assert hidden_value(pad, "stamps") == "3"
    assert translated_plural("en", "Add %(num)s stamp for %(name)s",
                             "Add %(num)s stamps for %(name)s", 3, name="Marie Weber") in pad
    response = client.post(f"/cashier/card/{card.id}/stamp", headers=HTMX, data={
        "pin": "4827", "stamps": "3", "idempotency_key": hidden_value(pad, "idempotency_key")})
    assert "3 stamps added for Marie Weber." in text(response)
    too_many = client.get(f"/cashier/card/{card.id}/confirm/stamp", query_string={"stamps": 4},
                          headers=HTMX)
    assert too_many.status_code == 422


def test_a_full_card_puts_redeeming_first_with_the_focus(client, db, frozen_time):
    card = _terminal(client, stamps_target=1, cooldown_minutes=0)
    with client.session_transaction() as session:
        staff_pin_id = session[STAFF_SESSION_KEY]
    stamp_service.add_stamp(card.program.vendor_id, card.id,
                            actor=Actor(staff_pin_id=staff_pin_id, pin="4827"))
    body = text(client.get(f"/cashier/card/{card.id}", headers=HTMX))
    redeem = body.index(translated("en", "Redeem the reward"))
    add = body.index(translated("en", "Add a stamp"))
    assert redeem < add
    assert body.rfind("autofocus", 0, redeem) > body.rfind("</a>", 0, redeem)


# Points -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_amount_is_checked_as_it_is_typed_in_the_cashiers_language(
    client, points_card, locale
):
    choose_language(client, locale)
    url = f"/cashier/card/{points_card.id}/amount"
    decimal = "." if locale == "en" else ","  # amounts as the language writes them
    ok = text(client.get(url, query_string={"amount": f"12{decimal}50"}, headers=HTMX))
    assert translated_plural(locale, "= %(num)s point", "= %(num)s points", 12) in ok
    too_large = client.get(url, query_string={"amount": "9999"}, headers=HTMX)
    assert too_large.status_code == 200
    body = text(too_large)
    assert "200" in body and "cent" not in body.lower()
    refusal = translated(locale, "Enter the amount like %(example)s.", example=f"12{decimal}50")
    assert refusal in text(client.get(url, query_string={"amount": "12.5.0"}, headers=HTMX))
    assert translated(locale, "The purchase amount must be above zero.") in text(
        client.get(url, query_string={"amount": "0"}, headers=HTMX))
    assert translated(locale, "This purchase is too small to earn a point.") in text(
        client.get(url, query_string={"amount": f"0{decimal}50"}, headers=HTMX))


def test_an_amount_over_the_limit_never_reaches_the_pin_pad(client, points_card):
    response = client.get(f"/cashier/card/{points_card.id}/confirm/earn_points",
                          query_string={"amount": "9999"}, headers=HTMX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#messages"
    assert "€200.00" in text(response) and 'name="pin"' not in text(response)


def test_a_large_amount_asks_for_a_second_confirmation(client, points_card):
    url = f"/cashier/card/{points_card.id}/confirm/earn_points"
    question = _pad(client, url, amount="99.99")
    assert translated("en", "Is this amount right?") in question
    assert "€99.99" in question and "99 points" in question and 'name="pin"' not in question
    pad = _pad(client, url, amount="99.99", confirmed="1")
    assert hidden_value(pad, "confirmed") == "1"
    unconfirmed = client.post(f"/cashier/card/{points_card.id}/earn_points", headers=HTMX, data={
        "pin": "4827", "amount_cents": "9999", "idempotency_key": "k1"})
    assert unconfirmed.status_code == 422
    confirmed = client.post(f"/cashier/card/{points_card.id}/earn_points", headers=HTMX, data={
        "pin": "4827", "amount_cents": "9999", "confirmed": "1", "idempotency_key": "k2"})
    assert "99 points added for Marie Weber." in text(confirmed)


# Undo ---------------------------------------------------------------------------------------------


def test_the_cashier_undoes_the_last_stamp_from_the_result(client, card, db):
    pad = _pad(client, f"/cashier/card/{card.id}/confirm/stamp")
    result = text(client.post(f"/cashier/card/{card.id}/stamp", headers=HTMX, data={
        "pin": "4827", "idempotency_key": hidden_value(pad, "idempotency_key")}))
    # English in Luxembourg writes times en-GB style (24 hours).
    assert translated("en", "Undo the last action (%(time)s)", time="11:00") in result
    transaction_id = int(result.split("transaction_id=")[1].split('"')[0])
    undo_pad = _pad(client, f"/cashier/card/{card.id}/confirm/undo",
                    transaction_id=transaction_id)
    assert "Undo for Marie Weber" in undo_pad and "1 stamp at" in undo_pad
    done = client.post(f"/cashier/card/{card.id}/undo", headers=HTMX, data={
        "pin": "4827", "transaction_id": transaction_id,
        "idempotency_key": hidden_value(undo_pad, "idempotency_key")})
    assert done.status_code == 200
    assert "Undone for Marie Weber." in text(done)
    db.session.refresh(card)
    assert card.stamp_count == 0
    again = client.get(f"/cashier/card/{card.id}/confirm/undo",
                       query_string={"transaction_id": transaction_id}, headers=HTMX)
    assert again.status_code == 409


def test_no_undo_after_the_window(client, card, frozen_time):
    pad = _pad(client, f"/cashier/card/{card.id}/confirm/stamp")
    client.post(f"/cashier/card/{card.id}/stamp", headers=HTMX, data={
        "pin": "4827", "idempotency_key": hidden_value(pad, "idempotency_key")})
    frozen_time.advance(minutes=5, seconds=1)
    body = text(client.get(f"/cashier/card/{card.id}", headers=HTMX))
    assert "Undo the last action" not in body


# Search results ----------------------------------------------------------------------------------


def test_search_results_show_each_cards_balance(client, card):
    make_card(card.program, name="Marc Weber", email="marc@example.com")
    body = text(client.get("/cashier/find", query_string={"q": "Weber"}, headers=HTMX))
    assert body.count("0 of 10 stamps") == 2 and "result-list__balance" in body


# Customer card page ------------------------------------------------------------------------------


def test_the_live_card_page_answers_304_until_a_stamp_lands(client, card):
    url = f"/card/{card.public_token}/live"
    first = client.get(url, headers=HTMX)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    unchanged = client.get(url, headers={**HTMX, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    with client.session_transaction() as session:
        staff_pin_id = session[STAFF_SESSION_KEY]
    stamp_service.add_stamp(card.program.vendor_id, card.id,
                            actor=Actor(staff_pin_id=staff_pin_id, pin="4827"))
    changed = client.get(url, headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "1 of 10 stamps" in text(changed)
    french = client.get(f"{url}?lang=fr", headers={**HTMX, "If-None-Match":
                                                  changed.headers["ETag"]})
    assert french.status_code == 200  # another language is another page


def test_the_card_page_polls_its_live_part(client, card):
    body = text(client.get(f"/card/{card.public_token}"))
    assert f'hx-get="/card/{card.public_token}/live"' in body
    assert 'hx-trigger="every 5s"' in body


def test_a_points_card_says_how_many_points_to_the_next_reward(client, points_card):
    body = text(client.get(f"/card/{points_card.public_token}"))
    assert translated_plural("en", "%(num)s point to %(reward)s", "%(num)s points to %(reward)s",
                             10, reward="Coffee") in body


# Owner settings and signing out ------------------------------------------------------------------


def test_the_owner_sets_the_counter_limits_in_money_not_cents(client, db, frozen_time):
    vendor = make_vendor()
    program = make_program(vendor, "points")
    sign_in(client, make_user(Role.OWNER, vendor))
    page = text(client.get("/vendor/program"))
    assert translated("en", "Largest purchase amount a cashier may enter") in page
    assert 'value="1000.00"' in page
    response = client.post("/vendor/program", data={
        "max_purchase_amount_cents": "250", "confirm_purchase_above_cents": "49.90",
        "max_daily_points": "300", "max_stamps_per_purchase": "4", "counter_undo_minutes": "2",
        "program_type": "points", "name": program.name, "is_active": "y",
        "require_staff_pin": "y"})
    assert response.status_code == 303, text(response)
    db.session.refresh(program)
    assert (program.max_purchase_amount_cents, program.confirm_purchase_above_cents) == (
        25_000, 4_990)
    assert (program.max_daily_points, program.max_stamps_per_purchase,
            program.counter_undo_minutes) == (300, 4, 2)
    refused = client.post("/vendor/program", data={"max_purchase_amount_cents": "lots",
                                                   "name": program.name})
    assert refused.status_code == 422
    assert translated("en", "Enter an amount like 250.00, or leave it empty.") in text(refused)
    cleared = client.post("/vendor/program", data={"confirm_purchase_above_cents": "",
                                                   "max_daily_points": "", "name": program.name,
                                                   "is_active": "y", "require_staff_pin": "y",
                                                   "program_type": "points"})
    assert cleared.status_code == 303
    db.session.refresh(program)
    assert (program.confirm_purchase_above_cents, program.max_daily_points) == (None, None)


def test_signing_out_asks_for_confirmation(client, card):
    body = text(client.get("/cashier/"))
    assert "<details class=\"logout\">" in body
    assert translated("en", "Sign out of this terminal?") in body
    assert translated("en", "Yes, sign out") in body


def test_picking_a_locked_name_again_asks_the_server_once_more(client, db, frozen_time):
    from loyalty_portal.services import pin_service

    card = _terminal(client, pin_max_failed_attempts=1)
    with client.session_transaction() as session:
        staff_pin_id = session[STAFF_SESSION_KEY]
    locked = client.post(f"/cashier/card/{card.id}/stamp", headers=HTMX,
                         data={"pin": "0000", "idempotency_key": "k1"})
    assert locked.status_code == 423
    confirm = f"/cashier/card/{card.id}/confirm/stamp"
    assert 'name="pin"' not in text(client.get(confirm, headers=HTMX))
    pin_service.unlock_pin(card.program.vendor_id, staff_pin_id)  # the owner unlocks sooner
    assert 'name="pin"' not in text(client.get(confirm, headers=HTMX))  # this terminal still waits
    client.post("/cashier/staff", headers=HTMX, data={"staff_pin_id": staff_pin_id,
                                                      "next": confirm})
    assert 'name="pin"' in text(client.get(confirm, headers=HTMX))
