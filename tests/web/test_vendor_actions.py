"""What the owner screens change: each goes through one service; refusals land next to the field."""

import csv
import io

import pytest
from sqlalchemy import select

from loyalty_portal.models import ApiKey, LoyaltyTransaction, StaffPin
from loyalty_portal.services import pin_service, program_service
from tests.web.owner_helpers import get, make_owner_shop, post
from tests.web.screen_helpers import sign_in


def program_form(program, **changes) -> dict:
    data = {
        "program_type": str(program.program_type), "name": program.name,
        "description": program.description, "stamps_target": program.stamps_target,
        "stamps_reward_description": program.stamps_reward_description,
        "points_per_currency_unit": program.points_per_currency_unit,
        "cooldown_minutes": program.cooldown_minutes, "max_daily_stamps": program.max_daily_stamps,
        "require_staff_pin": "y", "pin_max_failed_attempts": program.pin_max_failed_attempts,
        "pin_lockout_minutes": program.pin_lockout_minutes,
        "card_background_color": program.card_background_color,
        "card_text_color": program.card_text_color, "logo_url": "", "is_active": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# Program setup -----------------------------------------------------------------------------------


def test_saving_the_program_changes_its_settings(owner, shop, db):
    response = post(owner, "/vendor/program", program_form(
        shop.program, cooldown_minutes="30", require_staff_pin=None,
        card_background_color="#123abc",
    ))
    assert response.status_code == 303
    program = program_service.get_program(shop.vendor.id)
    db.session.refresh(program)
    assert (program.cooldown_minutes, program.require_staff_pin) == (30, False)
    assert program.card_background_color == "#123ABC"


def test_pausing_and_resuming_the_program(owner, shop, db):
    page = get(owner, "/vendor/program").get_data(as_text=True)
    assert "Program active" in page and "voids and balance adjustments still work" in page
    assert post(owner, "/vendor/program", program_form(shop.program, is_active=None)).status_code \
        == 303
    db.session.refresh(shop.program)
    assert shop.program.is_active is False
    assert "The program is paused" in get(owner, "/vendor/").get_data(as_text=True)
    post(owner, "/vendor/program", program_form(shop.program))
    db.session.refresh(shop.program)
    assert shop.program.is_active is True
    assert "The program is open" in get(owner, "/vendor/").get_data(as_text=True)


def test_a_refused_setting_is_shown_next_to_its_field(owner, shop, db):
    response = post(owner, "/vendor/program", program_form(shop.program, cooldown_minutes="9999"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error_at = page.rindex("Must be a whole number from 0 to 1440.")  # the summary has it too
    assert page.index('id="cooldown_minutes-errors"') < error_at
    assert error_at < page.index('name="cooldown_minutes"')
    assert program_service.get_program(shop.vendor.id).cooldown_minutes == 15


def test_rewards_catalogue_rows_are_saved_and_blank_rows_ignored(client, db, frozen_time):
    shop = make_owner_shop("points")
    sign_in(client, shop.owner)
    response = post(client, "/vendor/program", program_form(shop.program, **{
        "rewards-0-reward_id": "coffee", "rewards-0-name": "Coffee", "rewards-0-points_cost": "12",
        "rewards-0-active": "y",
        "rewards-3-reward_id": "muffin", "rewards-3-name": "Muffin", "rewards-3-points_cost": "15",
        "rewards-4-reward_id": "", "rewards-4-name": "", "rewards-4-points_cost": "",
    }))
    assert response.status_code == 303
    program = program_service.get_program(shop.vendor.id)
    db.session.refresh(program)
    assert program.points_rewards == [
        {"id": "coffee", "name": "Coffee", "points_cost": 12, "active": True},
        {"id": "muffin", "name": "Muffin", "points_cost": 15, "active": False},
    ]


def test_a_bad_reward_row_is_marked_where_it_is(client, db, frozen_time):
    shop = make_owner_shop("points")
    sign_in(client, shop.owner)
    response = post(client, "/vendor/program", program_form(shop.program, **{
        "rewards-0-reward_id": "coffee", "rewards-0-name": "Coffee", "rewards-0-points_cost": "12",
        "rewards-1-reward_id": "cake", "rewards-1-name": "Cake", "rewards-1-points_cost": "0",
    }))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error_at = page.rindex("A reward costs at least 1 point.")  # the summary has it too
    assert page.index('id="rewards-1-points_cost-errors"') < error_at


def test_program_type_cannot_change_while_cards_hold_stamps(owner, shop):
    response = post(owner, "/vendor/program", program_form(shop.program, program_type="points"))
    assert response.status_code == 422
    message = "The program type cannot change while cards hold a balance."
    assert message in response.get_data(as_text=True)


# Staff PINs --------------------------------------------------------------------------------------


def test_creating_a_pin_without_htmx_redirects_back(owner, shop, db):
    response = post(owner, "/vendor/staff", {"name": "Luc", "pin": "5139"})
    assert response.status_code == 303
    assert [p.name for p in pin_service.list_pins(shop.vendor.id)] == ["Anna", "Luc"]


def test_creating_a_pin_with_htmx_says_so_in_the_fragment(owner, shop):
    body = post(owner, "/vendor/staff", {"name": "Luc", "pin": "5139"}, htmx=True)
    assert "Luc can now use their PIN." in body.get_data(as_text=True)


def test_a_bad_pin_is_refused_next_to_the_field(owner, shop):
    response = post(owner, "/vendor/staff", {"name": "Luc", "pin": "12"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.index('id="pin-errors"') < body.index("A PIN is 4 to 8 digits.")


def test_a_duplicate_name_is_refused(owner, shop):
    response = post(owner, "/vendor/staff", {"name": "Anna", "pin": "5139"}, htmx=True)
    assert response.status_code == 422
    assert "Another staff member already has this name." in response.get_data(as_text=True)


def test_rename_and_change_pin(owner, shop, db):
    assert post(owner, f"/vendor/staff/{shop.pin.id}/name", {"name": "Anna B."}).status_code == 303
    assert post(owner, f"/vendor/staff/{shop.pin.id}/pin", {"pin": "9174"}).status_code == 303
    staff_pin = db.session.get(StaffPin, shop.pin.id)
    db.session.refresh(staff_pin)
    assert staff_pin.name == "Anna B."
    assert pin_service.pin_matches("9174", staff_pin.pin_hash)


def test_rename_refusal_rerenders_the_page(owner, shop):
    response = post(owner, f"/vendor/staff/{shop.pin.id}/name", {"name": ""})
    assert response.status_code == 422
    assert "A staff name is 1 to 100 characters." in response.get_data(as_text=True)


def test_unlock_and_deactivate(owner, shop, db, frozen_time):
    staff_pin = db.session.get(StaffPin, shop.pin.id)
    staff_pin.failed_attempts = 5
    staff_pin.locked_until = frozen_time.now.replace(hour=23)
    db.session.commit()
    assert "Locked until" in get(owner, "/vendor/staff").get_data(as_text=True)
    row = post(owner, f"/vendor/staff/{shop.pin.id}/unlock", htmx=True).get_data(as_text=True)
    assert row.startswith(f'<tr id="staff-pin-{shop.pin.id}">') and "Locked" not in row
    row = post(owner, f"/vendor/staff/{shop.pin.id}/deactivate", htmx=True).get_data(as_text=True)
    assert "Deactivated" in row
    db.session.refresh(staff_pin)
    assert staff_pin.failed_attempts == 0 and staff_pin.locked_until is None
    assert staff_pin.is_active is False


# Cards and voids ---------------------------------------------------------------------------------


def test_block_and_unblock_a_card(owner, shop, db):
    body = post(owner, f"/vendor/cards/{shop.card.id}/active", {"active": "0"}, htmx=True)
    assert "Unblock the card" in body.get_data(as_text=True)
    db.session.refresh(shop.card)
    assert shop.card.is_active is False
    response = post(owner, f"/vendor/cards/{shop.card.id}/active", {"active": "1"})
    assert response.status_code == 303
    db.session.refresh(shop.card)
    assert shop.card.is_active is True


def test_void_with_a_reason(owner, shop, db):
    response = post(owner, f"/vendor/transactions/{shop.transaction_id}/void",
                    {"reason": "Stamped the wrong card"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/vendor/cards/{shop.card.id}")
    void = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.voids_transaction_id == shop.transaction_id))
    assert (void.reason, void.user_id, void.stamps_delta) == (
        "Stamped the wrong card", shop.owner.id, -1)
    page = get(owner, f"/vendor/cards/{shop.card.id}").get_data(as_text=True)
    assert "Voided" in page and f"/vendor/transactions/{shop.transaction_id}/void" not in page


def test_void_needs_a_reason_shown_next_to_the_field(owner, shop):
    response = post(owner, f"/vendor/transactions/{shop.transaction_id}/void", {"reason": " "})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.index('id="reason-errors"') < body.index("Give a reason of 1 to 500 characters.")


def test_voiding_twice_is_refused_with_the_message(owner, shop):
    path = f"/vendor/transactions/{shop.transaction_id}/void"
    post(owner, path, {"reason": "Once"})
    response = post(owner, path, {"reason": "Twice"}, htmx=True)
    assert response.status_code == 409
    assert "already been voided" in response.get_data(as_text=True)


def adjustment_form(owner, shop) -> dict:
    page = get(owner, f"/vendor/cards/{shop.card.id}").get_data(as_text=True)
    key = page.split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    return {"delta": "2", "reason": "Stamps forgotten yesterday", "idempotency_key": key}


def test_adjust_a_balance_without_htmx(owner, shop, db):
    response = post(owner, f"/vendor/cards/{shop.card.id}/adjust", adjustment_form(owner, shop))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/vendor/cards/{shop.card.id}")
    row = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == "adjustment"))
    assert (row.stamps_delta, row.reason, row.user_id, row.client_ip) == (
        2, "Stamps forgotten yesterday", shop.owner.id, "127.0.0.1")
    page = get(owner, f"/vendor/cards/{shop.card.id}").get_data(as_text=True)
    assert "The balance is adjusted." in page and "Stamps forgotten yesterday" in page


def test_adjust_with_htmx_swaps_balance_and_history_and_a_double_submit_counts_once(
        owner, shop, db):
    data = adjustment_form(owner, shop)
    path = f"/vendor/cards/{shop.card.id}/adjust"
    first = post(owner, path, data, htmx=True)
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and "<html" not in body
    assert "The balance is adjusted." in body and "Stamps forgotten yesterday" in body
    assert data["idempotency_key"] not in body  # the next adjustment gets a new key
    assert post(owner, path, data, htmx=True).status_code == 200
    db.session.refresh(shop.card)
    assert shop.card.stamp_count == 3  # the shop's stamp and one adjustment of 2


def test_adjust_points_on_a_points_program(client, db, frozen_time):
    shop = make_owner_shop("points")
    sign_in(client, shop.owner)
    data = {**adjustment_form(client, shop), "delta": "50"}
    assert "Points to add" in get(client, f"/vendor/cards/{shop.card.id}").get_data(as_text=True)
    assert post(client, f"/vendor/cards/{shop.card.id}/adjust", data).status_code == 303
    db.session.refresh(shop.card)
    assert (shop.card.points_balance, shop.card.stamp_count) == (50, 0)


@pytest.mark.parametrize("changes,message", [
    ({"delta": "-5"}, "A balance cannot go below zero."),
    ({"delta": "0"}, "An adjustment must change a balance."),
    ({"delta": "5000"}, "Must be a whole number from -1000 to 1000."),
    ({"delta": "many"}, "Must be a whole number from -1000 to 1000."),
    ({"reason": " "}, "Give a reason of 1 to 500 characters."),
])
def test_a_refused_adjustment_is_shown_next_to_its_field(owner, shop, db, changes, message):
    data = {**adjustment_form(owner, shop), **changes}
    for htmx in (False, True):
        response = post(owner, f"/vendor/cards/{shop.card.id}/adjust", data, htmx=htmx)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        field = "reason" if "reason" in changes else "delta"
        assert body.index(f'id="{field}-errors"') < body.index(message)
        assert ("<html" in body) is not htmx
    db.session.refresh(shop.card)
    assert shop.card.stamp_count == 1


def test_history_pages_with_show_older(owner, shop, db, frozen_time):
    from loyalty_portal.services import transaction_service
    from loyalty_portal.services.ledger import Actor

    for n in range(55):
        transaction_service.adjust_balance(shop.vendor.id, shop.card.id, stamps_delta=1,
                                           reason=f"Gift {n}", actor=Actor(user_id=shop.owner.id))
    page = get(owner, f"/vendor/cards/{shop.card.id}").get_data(as_text=True)
    assert page.count("Gift ") == 50 and "Show older" in page
    before = page.split("before=")[1].split('"')[0]
    rest = get(owner, f"/vendor/cards/{shop.card.id}?before={before}", htmx=True)
    rest = rest.get_data(as_text=True)
    assert rest.count("Gift ") == 5 and "Show older" not in rest


# Export ------------------------------------------------------------------------------------------


def test_export_downloads_csv_of_the_days_asked(owner, shop):
    response = get(owner, "/vendor/export?date_from=2026-03-01&date_to=2026-03-02")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["transaction_id"] for row in rows] == [str(shop.transaction_id)]
    empty = get(owner, "/vendor/export?date_from=2026-03-03&date_to=2026-03-04")
    assert empty.get_data(as_text=True).count("\n") == 1


def test_export_refuses_a_reversed_range_next_to_the_field(owner, shop):
    response = get(owner, "/vendor/export?date_from=2026-03-05&date_to=2026-03-01")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.index('id="date_to-errors"') < body.rindex("The end date is before the start date.")


def test_export_asks_for_both_dates(owner, shop):
    response = get(owner, "/vendor/export?date_from=&date_to=2026-03-01")
    assert response.status_code == 422 and "Enter a date." in response.get_data(as_text=True)


# API keys ----------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_then_listed_and_revoked(owner, shop, db):
    body = post(owner, "/vendor/api-keys", {"name": "Till 1"}, htmx=True).get_data(as_text=True)
    key = db.session.scalar(select(ApiKey).where(ApiKey.vendor_id == shop.vendor.id))
    secret = body.split('id="new-key" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith(key.key_prefix)
    listing = get(owner, "/vendor/api-keys").get_data(as_text=True)
    assert "Till 1" in listing and secret not in listing
    revoked = post(owner, f"/vendor/api-keys/{key.id}/revoke", htmx=True).get_data(as_text=True)
    assert "Revoked" in revoked
    db.session.refresh(key)
    assert key.revoked_at is not None


def test_a_key_needs_a_name(owner, shop):
    response = post(owner, "/vendor/api-keys", {"name": ""})
    assert response.status_code == 422
    assert "A key name is 1 to 100 characters." in response.get_data(as_text=True)


@pytest.mark.parametrize(("locale", "local_time"), [
    ("en", "02/03/2026 11:00"), ("fr", "02/03/2026 11:00"), ("de", "02.03.2026 11:00"),
    ("lb", "02.03.2026 11:00"),
])
def test_the_excel_export_has_a_bom_semicolons_and_local_dates(owner, shop, locale, local_time):
    response = get(owner, "/vendor/export?date_from=2026-03-01&date_to=2026-03-02&flavour=excel",
                   language=locale)
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["transaction_id"] == str(shop.transaction_id)
    assert rows[0]["created_at_local"] == local_time


def test_export_presets_name_the_vendors_days(owner, shop):
    body = get(owner, "/vendor/export").get_data(as_text=True)
    # Monday 2 March 2026: last month is February, this week starts today.
    assert "date_from=2026-02-01&amp;date_to=2026-02-28&amp;flavour=excel" in body
    assert "date_from=2026-03-02&amp;date_to=2026-03-02" in body
    assert "Last month" in body
