"""Apple's pass web service, status by status, as Wallet on a device calls it."""

import logging
from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy import func, select

from loyalty_portal.models import AppleDevice, AppleDeviceRegistration
from loyalty_portal.services.ledger import Actor
from loyalty_portal.services.stamp_service import add_stamp
from tests.api.helpers import assert_error
from tests.factories import make_card
from tests.wallets.conftest import unzip

W = "/api/v1/loyalty/apple/v1"
PASS_TYPE = "pass.test.loyalty-portal"
DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PUSH_TOKEN = "ab" * 32


def auth(card) -> dict:
    return {"Authorization": f"ApplePass {card.apple_auth_token}"}


def registration_url(card, device=DEVICE, pass_type=PASS_TYPE) -> str:
    return f"{W}/devices/{device}/registrations/{pass_type}/{card.apple_serial_number}"


def register(client, card, device=DEVICE, token=PUSH_TOKEN):
    return client.post(registration_url(card, device), json={"pushToken": token},
                       headers=auth(card))


def listing(client, device=DEVICE, since=None):
    query = {"passesUpdatedSince": since} if since is not None else {}
    return client.get(f"{W}/devices/{device}/registrations/{PASS_TYPE}", query_string=query)


def stamp(shop):
    add_stamp(shop.vendor.id, shop.card.id, actor=Actor(staff_pin_id=shop.pin.id, pin="4827"))


def test_register_201_then_200_and_the_device_keeps_one_push_token(client, apple_shop, db):
    card = apple_shop.card
    assert register(client, card).status_code == 201
    assert register(client, card).status_code == 200
    other = make_card(apple_shop.program)
    assert register(client, other, token="cd" * 32).status_code == 201
    [device] = db.session.scalars(select(AppleDevice)).all()
    assert device.push_token == "cd" * 32  # the latest registration's token, for every pass
    registrations = db.session.scalars(select(AppleDeviceRegistration)).all()
    assert {r.card_id for r in registrations} == {card.id, other.id}
    assert {r.pass_type_identifier for r in registrations} == {PASS_TYPE}


def test_register_refuses_a_wrong_or_missing_token_and_unknown_serials(client, apple_shop, db):
    card = apple_shop.card
    url = registration_url(card)
    body = {"pushToken": PUSH_TOKEN}
    assert_error(client.post(url, json=body), 401, "APPLE_PASS_UNAUTHORIZED")
    assert_error(client.post(url, json=body, headers={"Authorization": "ApplePass wrong"}),
                 401, "APPLE_PASS_UNAUTHORIZED")
    assert_error(client.post(url, json=body,
                             headers={"Authorization": f"Bearer {card.apple_auth_token}"}),
                 401, "APPLE_PASS_UNAUTHORIZED")
    other = make_card(apple_shop.program)
    assert_error(client.post(url, json=body, headers=auth(other)), 401, "APPLE_PASS_UNAUTHORIZED")
    unknown = f"{W}/devices/{DEVICE}/registrations/{PASS_TYPE}/no-such-serial"
    assert_error(client.post(unknown, json=body, headers=auth(card)), 401,
                 "APPLE_PASS_UNAUTHORIZED")
    assert_error(client.post(f"{W}/devices/{DEVICE}/registrations/{PASS_TYPE}/{'x' * 500}",
                             json=body, headers=auth(card)), 401, "APPLE_PASS_UNAUTHORIZED")
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 0


def test_register_refuses_bad_input_with_4xx(client, apple_shop, db):
    card = apple_shop.card
    url = registration_url(card)
    assert_error(client.post(registration_url(card, pass_type="pass.other"), json={
        "pushToken": PUSH_TOKEN}, headers=auth(card)), 404, "APPLE_PASS_NOT_FOUND")
    assert_error(client.post(registration_url(card, device="d" * 129),
                             json={"pushToken": PUSH_TOKEN}, headers=auth(card)),
                 404, "APPLE_PASS_NOT_FOUND")
    assert_error(client.post(url, json={}, headers=auth(card)), 422, "VALIDATION_ERROR")
    assert_error(client.post(url, json={"pushToken": "not hex/../"}, headers=auth(card)),
                 422, "VALIDATION_ERROR")
    assert_error(client.post(url, json={"pushToken": 12}, headers=auth(card)),
                 422, "VALIDATION_ERROR")
    not_json = client.post(url, data="pushToken=ab", headers={
        **auth(card), "Content-Type": "application/json"})
    assert 400 <= not_json.status_code < 500
    huge = client.post(url, data='{"pushToken": "' + "a" * 200_000 + '"}',
                       headers={**auth(card), "Content-Type": "application/json"})
    assert_error(huge, 413, "PAYLOAD_TOO_LARGE")
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 0


def test_unregister_200_and_a_device_without_passes_is_forgotten(client, apple_shop, db):
    card = apple_shop.card
    other = make_card(apple_shop.program)
    register(client, card)
    register(client, other)
    assert_error(client.delete(registration_url(card)), 401, "APPLE_PASS_UNAUTHORIZED")
    assert_error(client.delete(registration_url(card), headers=auth(other)), 401,
                 "APPLE_PASS_UNAUTHORIZED")
    assert client.delete(registration_url(card), headers=auth(card)).status_code == 200
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 1  # still holds `other`
    assert client.delete(registration_url(other), headers=auth(other)).status_code == 200
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 0
    assert db.session.scalar(select(func.count(AppleDeviceRegistration.id))) == 0
    # Again: nothing to forget, still 200.
    assert client.delete(registration_url(other), headers=auth(other)).status_code == 200


def test_serial_numbers_updated_since_a_tag(client, apple_shop, frozen_time):
    card = apple_shop.card
    assert listing(client).status_code == 204  # unknown device: no passes
    register(client, card)
    first = listing(client)
    assert first.status_code == 200
    body = first.get_json()
    assert body["serialNumbers"] == [card.apple_serial_number]
    tag = body["lastUpdated"]
    assert isinstance(tag, str) and tag
    assert listing(client, since=tag).status_code == 204  # nothing changed since

    frozen_time.advance(minutes=1)
    stamp(apple_shop)
    changed = listing(client, since=tag)
    assert changed.status_code == 200
    assert changed.get_json()["serialNumbers"] == [card.apple_serial_number]
    new_tag = changed.get_json()["lastUpdated"]
    assert new_tag != tag
    assert listing(client, since=new_tag).status_code == 204
    assert listing(client, since=tag).status_code == 200  # a tag from the past
    for garbage in ("garbage", "", "-5", "1e9", "9" * 400, "１２", str(int(new_tag) + 1000)):
        # Malformed, or from the future (never handed out): from the beginning.
        response = listing(client, since=garbage)
        assert response.status_code == 200, garbage  # from the beginning
        assert response.get_json()["serialNumbers"] == [card.apple_serial_number]
        # The watermark only grows; other transactions on the database may have moved it.
        assert int(response.get_json()["lastUpdated"]) >= int(new_tag)
        assert listing(client, since=response.get_json()["lastUpdated"]).status_code == 204
    assert client.get(f"{W}/devices/{DEVICE}/registrations/pass.other").status_code == 204


def test_serial_numbers_only_of_this_devices_passes(client, apple_shop):
    register(client, apple_shop.card)
    other = make_card(apple_shop.program)
    register(client, other, device="another-device")
    assert listing(client).get_json()["serialNumbers"] == [apple_shop.card.apple_serial_number]


def test_the_latest_pass_with_last_modified_304_and_head(client, apple_shop, frozen_time):
    card = apple_shop.card
    url = f"{W}/passes/{PASS_TYPE}/{card.apple_serial_number}"
    frozen_time.advance(minutes=1)
    response = client.get(url, headers=auth(card))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.apple.pkpass"
    assert "pass.json" in unzip(response.data)
    last_modified = response.headers["Last-Modified"]

    not_modified = client.get(url, headers={**auth(card), "If-Modified-Since": last_modified})
    assert not_modified.status_code == 304 and not_modified.data == b""
    later = format_datetime(response.last_modified + timedelta(hours=1), usegmt=True)
    assert client.get(url, headers={**auth(card), "If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(response.last_modified - timedelta(seconds=1), usegmt=True)
    assert client.get(url, headers={**auth(card), "If-Modified-Since": earlier}).status_code == 200
    garbage = client.get(url, headers={**auth(card), "If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200

    head = client.head(url, headers=auth(card))
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == "application/vnd.apple.pkpass"
    assert head.headers["Last-Modified"] == last_modified

    frozen_time.advance(minutes=1)
    stamp(apple_shop)
    frozen_time.advance(seconds=1)
    changed = client.get(url, headers={**auth(card), "If-Modified-Since": last_modified})
    assert changed.status_code == 200


def test_the_latest_pass_refuses_wrong_tokens_and_unknown_passes(client, apple_shop):
    card = apple_shop.card
    url = f"{W}/passes/{PASS_TYPE}/{card.apple_serial_number}"
    assert_error(client.get(url), 401, "APPLE_PASS_UNAUTHORIZED")
    assert_error(client.get(url, headers={"Authorization": "ApplePass nope"}), 401,
                 "APPLE_PASS_UNAUTHORIZED")
    assert client.head(url).status_code == 401
    assert_error(client.get(f"{W}/passes/{PASS_TYPE}/unknown", headers=auth(card)), 401,
                 "APPLE_PASS_UNAUTHORIZED")
    assert_error(client.get(f"{W}/passes/pass.other/{card.apple_serial_number}",
                            headers=auth(card)), 404, "APPLE_PASS_NOT_FOUND")


def test_a_pass_change_in_the_same_second_is_not_hidden_by_304(client, apple_shop, frozen_time):
    """Last-Modified has whole seconds: a device that fetched during the second of a change must
    get the next change of that second too."""
    card = apple_shop.card
    url = f"{W}/passes/{PASS_TYPE}/{card.apple_serial_number}"
    frozen_time.set("2026-03-02T10:05:00.100000")
    stamp(apple_shop)
    frozen_time.set("2026-03-02T10:05:00.300000")
    first = client.get(url, headers=auth(card))
    frozen_time.set("2026-03-02T10:05:00.600000")
    stamp(apple_shop)
    frozen_time.set("2026-03-02T10:05:00.900000")
    second = client.get(url, headers={**auth(card),
                                      "If-Modified-Since": first.headers["Last-Modified"]})
    assert second.status_code == 200


def test_the_log_goes_to_the_application_log(client, apple_wallet, db, caplog):
    with caplog.at_level(logging.WARNING, logger="loyalty_portal.services.apple_wallet_service"):
        response = client.post(f"{W}/log", json={"logs": ["Failed to download pass: 401"]})
    assert response.status_code == 200
    assert "Failed to download pass: 401" in caplog.text
    assert_error(client.post(f"{W}/log", json={"logs": "x"}), 422, "VALIDATION_ERROR")
    assert_error(client.post(f"{W}/log", json={"logs": ["x"] * 51}), 422, "VALIDATION_ERROR")
    response = client.post(f"{W}/log", data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_not_configured_answers_apple_wallet_not_configured(client, db, frozen_time):
    card = make_card()
    assert_error(client.get(f"{W}/passes/{PASS_TYPE}/{card.apple_serial_number}",
                            headers=auth(card)), 409, "APPLE_WALLET_NOT_CONFIGURED")
    assert_error(register(client, card), 409, "APPLE_WALLET_NOT_CONFIGURED")
    assert_error(listing(client), 409, "APPLE_WALLET_NOT_CONFIGURED")


def test_the_log_is_rate_limited_per_address(app_with):
    limited = app_with(RATELIMIT_ENABLED=True, APPLE_LOG_RATE_LIMIT="2 per minute",
                       RATELIMIT_STORAGE_URI="memory://")
    client = limited.test_client()
    for _ in range(2):
        assert client.post(f"{W}/log", json={"logs": ["x"]}).status_code == 200
    assert_error(client.post(f"{W}/log", json={"logs": ["x"]}), 429, "RATE_LIMITED")
