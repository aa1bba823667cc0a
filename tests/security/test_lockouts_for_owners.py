"""The owner sees the locks after wrong PINs and lifts them: staff screen and API; the cashier
sees which lock it is; trivial PINs are refused with their own code on both."""

from datetime import timedelta

import pytest

from loyalty_portal.errors import InvalidStaffPin, StaffPinLocked
from loyalty_portal.services import api_key_service, stamp_service
from loyalty_portal.services.ledger import Actor
from tests.api.helpers import V, assert_error, make_shop, sign_in
from tests.web.screen_helpers import text, translated


@pytest.fixture
def shop(db, frozen_time):
    return make_shop("stamps")


def lock_at(shop, terminal, pin_id=None):
    for _ in range(5):
        with pytest.raises((InvalidStaffPin, StaffPinLocked)):
            stamp_service.add_stamp(shop.vendor.id, shop.card.id, actor=Actor(
                staff_pin_id=pin_id or shop.pin.id, pin="0000", terminal=terminal))


def test_owner_api_lists_the_lockouts_and_lifts_them(client, shop, frozen_time):
    key = api_key_service.create_key(shop.vendor.id, "Till 2")
    lock_at(shop, f"key:{key.api_key.id}")
    sign_in(client, shop.owner)
    lockouts = client.get(f"{V}/lockouts").get_json()
    assert lockouts == [{
        "scope": "pin_at_terminal", "throttle_id": lockouts[0]["throttle_id"],
        "staff_pin_id": shop.pin.id, "staff_name": "Anna", "terminal": f"key:{key.api_key.id}",
        "terminal_name": "API key Till 2", "lock_level": 1,
        "locked_until": (frozen_time.now + timedelta(minutes=30)).isoformat(),
    }]
    other = make_shop("stamps")
    stranger = client.application.test_client()
    sign_in(stranger, other.owner)
    assert stranger.get(f"{V}/lockouts").get_json() == []
    assert_error(stranger.post(f"{V}/lockouts/{lockouts[0]['throttle_id']}/unlock"),
                 404, "LOCKOUT_NOT_FOUND")
    assert client.post(f"{V}/lockouts/{lockouts[0]['throttle_id']}/unlock").status_code == 204
    assert client.get(f"{V}/lockouts").get_json() == []
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(),
                       headers=headers).status_code == 200


def test_lockouts_are_for_owners_only(client, shop):
    assert_error(client.get(f"{V}/lockouts", headers=shop.key_headers), 403, "PERMISSION_DENIED")
    sign_in(client, shop.staff)
    assert_error(client.get(f"{V}/lockouts"), 403, "PERMISSION_DENIED")


def test_the_api_says_which_lock_and_until_when(client, shop, frozen_time):
    url = f"{V}/cards/{shop.card.id}/stamps"
    for remaining in (4, 3, 2, 1):
        details = assert_error(client.post(url, json=shop.pin_body(pin="0000"),
                                           headers=shop.key_headers), 403, "INVALID_STAFF_PIN")
        assert details == {"remaining_attempts": remaining}
    response = client.post(url, json=shop.pin_body(pin="0000"), headers=shop.key_headers)
    details = assert_error(response, 423, "STAFF_PIN_LOCKED")
    assert details == {"locked_until": "2026-03-02T10:30:00Z", "lock_scope": "pin_at_terminal"}
    assert response.headers["Retry-After"] == "1800"
    assert "at this terminal" in response.get_json()["message"]


def test_owner_screen_shows_the_lockouts_and_unlocks_them(client, shop, frozen_time):
    lock_at(shop, f"user:{shop.staff.id}")
    sign_in(client, shop.owner)
    page = text(client.get("/vendor/staff"))
    assert "Locks after wrong PINs" in page and "Anna's PIN" in page
    assert f"Login {shop.staff.email}" in page
    throttle_id = client.get(f"{V}/lockouts").get_json()[0]["throttle_id"]
    done = client.post(f"/vendor/staff/lockouts/{throttle_id}/unlock")
    assert done.status_code == 303
    page = text(client.get("/vendor/staff"))
    assert "The lock is lifted." in page and "No PIN and no terminal is locked." in page


def test_owner_screen_in_french(client, shop, frozen_time):
    lock_at(shop, f"user:{shop.staff.id}")
    sign_in(client, shop.owner)
    page = text(client.get("/vendor/staff", headers={"Accept-Language": "fr"}))
    assert translated("fr", "Locks after wrong PINs") in page


def test_cashier_screen_says_the_pin_is_locked_at_this_terminal(client, shop, frozen_time):
    sign_in(client, shop.staff)
    with client.session_transaction() as session:
        session["cashier_staff_pin_id"] = shop.pin.id
    for _ in range(5):
        response = client.post(f"/cashier/card/{shop.card.id}/stamp", data={"pin": "0000"},
                               headers={"HX-Request": "true"})
    assert response.status_code == 423
    assert "Anna's PIN is locked at this terminal" in text(response)
    assert "still works at other terminals" in text(response)


@pytest.mark.parametrize("pin", ["1234", "0000", "2580"])
def test_trivial_pins_are_refused_on_the_api_and_the_screen(client, shop, pin):
    sign_in(client, shop.owner)
    details = assert_error(client.post(f"{V}/pins", json={"name": "Luc", "pin": pin}),
                           422, "STAFF_PIN_TOO_SIMPLE")
    assert details["field"] == "pin"
    assert_error(client.put(f"{V}/pins/{shop.pin.id}/pin", json={"pin": pin}),
                 422, "STAFF_PIN_TOO_SIMPLE")
    response = client.post("/vendor/staff", data={"name": "Luc", "pin": pin})
    assert response.status_code == 422
    assert "too easy to guess" in text(response)


@pytest.mark.parametrize(("pin", "status"), [("48271593", 201), ("482715930", 422),
                                             ("4827\n", 422)])
def test_pin_length_boundaries_on_the_api(client, shop, pin, status):
    sign_in(client, shop.owner)
    assert client.post(f"{V}/pins", json={"name": "Luc", "pin": pin}).status_code == status


def test_cashier_screen_says_the_whole_terminal_is_locked(client, shop, frozen_time):
    from tests.factories import make_pin

    luc = make_pin(shop.vendor, "Luc", "5139")
    lock_at(shop, f"user:{shop.staff.id}")  # Anna: 5 wrong, locked at this terminal
    for _ in range(5):  # Luc: 5 more, the terminal's tenth
        with pytest.raises((InvalidStaffPin, StaffPinLocked)):
            stamp_service.add_stamp(shop.vendor.id, shop.card.id, actor=Actor(
                staff_pin_id=luc.id, pin="0000", terminal=f"user:{shop.staff.id}"))
    sign_in(client, shop.staff)
    with client.session_transaction() as session:
        session["cashier_staff_pin_id"] = luc.id
    response = client.post(f"/cashier/card/{shop.card.id}/stamp", data={"pin": "5139"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 423
    assert "locked until" in text(response) and "for every staff member" in text(response)
    assert "Another staff member" not in text(response)
