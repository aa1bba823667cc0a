"""Stamping, earning, redeeming and voiding over HTTP: the happy paths, every refusal with its
status, and retries with an Idempotency-Key."""

from datetime import timedelta

from sqlalchemy import func, select

from loyalty_portal.models import LoyaltyTransaction
from loyalty_portal.services import card_service
from tests.api.helpers import V, assert_error
from tests.factories import make_card


def stamp(client, shop, headers=None, **body):
    return client.post(
        f"{V}/cards/{shop.card.id}/stamps",
        json=shop.pin_body(**body),
        headers={**shop.key_headers, **(headers or {})},
    )


def ledger_rows(db) -> int:
    return db.session.scalar(select(func.count(LoyaltyTransaction.id)))


def test_a_stamp_returns_the_new_balance(client, shop):
    response = stamp(client, shop)
    assert response.status_code == 200
    body = response.get_json()
    assert body["transaction_type"] == "stamp_earned"
    assert (body["stamps_delta"], body["stamp_count"], body["stamps_target"]) == (1, 1, 3)
    assert body["reward_available"] is False
    assert "Idempotent-Replayed" not in response.headers


def test_a_retry_with_the_same_idempotency_key_changes_nothing_and_returns_the_same_body(
    client, shop, db, frozen_time
):
    first = stamp(client, shop, headers={"Idempotency-Key": "till1-0001"})
    frozen_time.advance(minutes=20)  # past the cooldown: a second stamp would be allowed
    retry = stamp(client, shop, headers={"Idempotency-Key": "till1-0001"})
    assert first.status_code == retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert ledger_rows(db) == 1
    assert card_service.get_card(shop.vendor.id, shop.card.id).stamp_count == 1


def test_an_idempotency_key_reused_for_another_operation_is_a_conflict(client, shop):
    stamp(client, shop, headers={"Idempotency-Key": "k1"})
    response = client.post(
        f"{V}/cards/{shop.card.id}/stamps/redeem",
        json=shop.pin_body(),
        headers={**shop.key_headers, "Idempotency-Key": "k1"},
    )
    assert_error(response, 409, "IDEMPOTENCY_KEY_REUSED")


def test_an_empty_idempotency_key_is_refused(client, shop):
    assert_error(stamp(client, shop, headers={"Idempotency-Key": ""}), 422, "VALIDATION_ERROR")


def test_no_pin_when_the_program_requires_one(client, shop):
    response = client.post(f"{V}/cards/{shop.card.id}/stamps", json={}, headers=shop.key_headers)
    assert_error(response, 400, "STAFF_PIN_REQUIRED")


def test_a_wrong_pin_says_how_many_attempts_are_left(client, shop):
    details = assert_error(stamp(client, shop, pin="9999"), 403, "INVALID_STAFF_PIN")
    assert details == {"remaining_attempts": 4}


def test_the_fifth_wrong_pin_locks_with_retry_after(client, shop):
    for _ in range(4):
        stamp(client, shop, pin="9999")
    response = stamp(client, shop, pin="9999")
    details = assert_error(response, 423, "STAFF_PIN_LOCKED")
    assert details["locked_until"]
    assert response.headers["Retry-After"] == str(30 * 60)
    assert_error(stamp(client, shop), 423, "STAFF_PIN_LOCKED")  # even the right PIN, now


def test_an_unknown_pin_id_is_not_found(client, shop):
    assert_error(stamp(client, shop, staff_pin_id=999999), 404, "STAFF_PIN_NOT_FOUND")


def test_cooldown_is_429_with_retry_after(client, shop, frozen_time):
    stamp(client, shop)
    frozen_time.advance(minutes=10)
    response = stamp(client, shop)
    details = assert_error(response, 429, "STAMP_COOLDOWN")
    assert details["minutes_left"] == 5
    assert response.headers["Retry-After"] == "300"


def test_the_daily_limit_is_429_until_local_midnight(client, shop, frozen_time):
    frozen_time.set("2026-03-02T08:00:00+00:00")
    for _ in range(5):
        assert stamp(client, shop).status_code == 200
        frozen_time.advance(minutes=15)
    response = stamp(client, shop)
    assert_error(response, 429, "DAILY_STAMP_LIMIT")
    # 09:15 UTC; Luxembourg's midnight is 23:00 UTC.
    assert response.headers["Retry-After"] == str(
        int(timedelta(hours=13, minutes=45).total_seconds())
    )


def test_a_blocked_card_refuses_stamps(client, shop):
    card_service.set_card_active(shop.vendor.id, shop.card.id, False)
    assert_error(stamp(client, shop), 409, "LOYALTY_CARD_INACTIVE")


def test_an_inactive_program_refuses_stamps(client, shop):
    from loyalty_portal.services import program_service

    program_service.deactivate_program(shop.vendor.id)
    assert_error(stamp(client, shop), 409, "LOYALTY_PROGRAM_INACTIVE")


def test_points_on_a_stamp_program_is_the_wrong_type(client, shop):
    response = client.post(
        f"{V}/cards/{shop.card.id}/points",
        json=shop.pin_body(purchase_amount_cents=500),
        headers=shop.key_headers,
    )
    assert_error(response, 409, "WRONG_PROGRAM_TYPE")


def test_redeeming_the_stamp_reward(client, shop, frozen_time):
    redeem = f"{V}/cards/{shop.card.id}/stamps/redeem"
    details = assert_error(
        client.post(redeem, json=shop.pin_body(), headers=shop.key_headers),
        409,
        "INSUFFICIENT_STAMPS",
    )
    assert details == {"current_stamps": 0, "required_stamps": 3}
    for _ in range(3):
        stamp(client, shop)
        frozen_time.advance(minutes=15)
    response = client.post(redeem, json=shop.pin_body(), headers=shop.key_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["transaction_type"], body["stamps_delta"], body["stamp_count"]) == (
        "stamp_reward_redeemed",
        -3,
        0,
    )
    assert body["reward_name"] == "A free coffee"


def test_several_stamps_for_one_purchase_and_their_bounds(client, shop):
    assert stamp(client, shop, stamps=2).get_json()["stamp_count"] == 2
    details = assert_error(stamp(client, shop, stamps=11), 422, "VALIDATION_ERROR")
    assert details["location"] == "json" and "stamps" in details["fields"]


def test_non_integral_numbers_are_refused(client, shop):
    for value in (1.5, "1", True):
        details = assert_error(stamp(client, shop, stamps=value), 422, "VALIDATION_ERROR")
        assert "stamps" in details["fields"]


def test_unknown_body_fields_are_refused(client, shop):
    details = assert_error(stamp(client, shop, bonus=5), 422, "VALIDATION_ERROR")
    assert "bonus" in details["fields"]


def test_earning_points(client, points_shop):
    shop = points_shop
    response = client.post(
        f"{V}/cards/{shop.card.id}/points",
        json=shop.pin_body(purchase_amount_cents=1250),
        headers=shop.key_headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["points_delta"], body["points_balance"], body["purchase_amount_cents"]) == (
        12,
        12,
        1250,
    )


def test_earning_points_refusals(client, points_shop):
    shop = points_shop
    url = f"{V}/cards/{shop.card.id}/points"
    assert_error(
        client.post(url, json=shop.pin_body(), headers=shop.key_headers), 422, "VALIDATION_ERROR"
    )
    assert_error(
        client.post(url, json=shop.pin_body(purchase_amount_cents=0), headers=shop.key_headers),
        422,
        "VALIDATION_ERROR",
    )
    too_small = client.post(
        url, json=shop.pin_body(purchase_amount_cents=50), headers=shop.key_headers
    )
    assert (
        assert_error(too_small, 422, "LOYALTY_VALIDATION_FAILED")["field"]
        == "purchase_amount_cents"
    )


def test_redeeming_a_points_reward(client, points_shop):
    shop = points_shop
    url = f"{V}/cards/{shop.card.id}/points/redeem"
    assert_error(
        client.post(url, json=shop.pin_body(reward_id="coffee"), headers=shop.key_headers),
        409,
        "INSUFFICIENT_POINTS",
    )
    assert_error(
        client.post(url, json=shop.pin_body(reward_id="caviar"), headers=shop.key_headers),
        422,
        "INVALID_REWARD",
    )
    client.post(
        f"{V}/cards/{shop.card.id}/points",
        json=shop.pin_body(purchase_amount_cents=1500),
        headers=shop.key_headers,
    )
    response = client.post(url, json=shop.pin_body(reward_id="coffee"), headers=shop.key_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["points_delta"], body["points_balance"], body["reward_id"]) == (-10, 5, "coffee")


def test_voiding_a_transaction(client, shop, owner_client):
    transaction_id = stamp(client, shop).get_json()["transaction_id"]
    url = f"{V}/transactions/{transaction_id}/void"
    assert_error(owner_client.post(url, json={}), 422, "VALIDATION_ERROR")
    response = owner_client.post(url, json={"reason": "Stamped the wrong card"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["transaction_type"], body["stamps_delta"], body["voids_transaction_id"]) == (
        "void",
        -1,
        transaction_id,
    )
    assert_error(
        owner_client.post(url, json={"reason": "again"}), 409, "TRANSACTION_ALREADY_VOIDED"
    )
    void_of_void = f"{V}/transactions/{body['transaction_id']}/void"
    assert_error(
        owner_client.post(void_of_void, json={"reason": "x"}), 409, "TRANSACTION_NOT_VOIDABLE"
    )
    assert_error(
        owner_client.post(f"{V}/transactions/999999/void", json={"reason": "x"}),
        404,
        "TRANSACTION_NOT_FOUND",
    )


def adjust(client, card_id, headers=None, **body):
    return client.post(f"{V}/cards/{card_id}/adjust", json=body, headers=headers or {})


def test_adjusting_a_balance(owner_client, shop, db):
    response = adjust(
        owner_client, shop.card.id, {"Idempotency-Key": "adj-1"}, stamps_delta=2, reason="Forgot"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["transaction_type"], body["stamps_delta"], body["stamp_count"]) == (
        "adjustment",
        2,
        2,
    )
    retry = adjust(
        owner_client, shop.card.id, {"Idempotency-Key": "adj-1"}, stamps_delta=2, reason="Forgot"
    )
    assert retry.get_json() == body and retry.headers["Idempotent-Replayed"] == "true"
    row = db.session.get(LoyaltyTransaction, body["transaction_id"])
    assert (row.reason, row.user_id, row.staff_pin_id) == ("Forgot", shop.owner.id, None)
    removed = adjust(owner_client, shop.card.id, stamps_delta=-2, points_delta=5, reason="Moved")
    assert (removed.get_json()["stamp_count"], removed.get_json()["points_balance"]) == (0, 5)


def test_an_adjustment_works_on_a_blocked_card_in_a_paused_program(owner_client, shop):
    from loyalty_portal.services import program_service

    card_service.set_card_active(shop.vendor.id, shop.card.id, False)
    program_service.deactivate_program(shop.vendor.id)
    assert adjust(owner_client, shop.card.id, stamps_delta=1, reason="Gift").status_code == 200


def test_adjustment_refusals(owner_client, shop):
    card = shop.card.id
    for body in (
        {"stamps_delta": 1},
        {"stamps_delta": 1, "reason": ""},
        {"stamps_delta": 1001, "reason": "x"},
        {"points_delta": -1001, "reason": "x"},
        {"stamps_delta": 1.5, "reason": "x"},
        {"stamps_delta": 1, "reason": "x", "staff_pin_id": 1},
    ):
        assert_error(adjust(owner_client, card, **body), 422, "VALIDATION_ERROR")
    for body, field in (
        ({"reason": "nothing"}, "stamps_delta"),
        ({"stamps_delta": -1, "reason": "x"}, "stamps_delta"),
        ({"stamps_delta": 1, "reason": "   "}, "reason"),
    ):
        details = assert_error(adjust(owner_client, card, **body), 422, "LOYALTY_VALIDATION_FAILED")
        assert details["field"] == field
    assert_error(
        adjust(owner_client, 999999, stamps_delta=1, reason="x"), 404, "LOYALTY_CARD_NOT_FOUND"
    )
    adjust(owner_client, card, {"Idempotency-Key": "k1"}, stamps_delta=1, reason="x")
    other = make_card(shop.program).id
    assert_error(
        adjust(owner_client, other, {"Idempotency-Key": "k1"}, stamps_delta=1, reason="x"),
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_an_adjustment_is_the_owners_alone(client, shop, staff_client):
    body = {"stamps_delta": 1, "reason": "x"}
    assert_error(adjust(staff_client, shop.card.id, **body), 403, "PERMISSION_DENIED")
    assert_error(adjust(client, shop.card.id, shop.key_headers, **body), 403, "PERMISSION_DENIED")
    assert card_service.get_card(shop.vendor.id, shop.card.id).stamp_count == 0


def test_the_ledger_row_records_who_and_from_where(client, shop, db):
    stamp(client, shop, headers={"User-Agent": "till-app/1.0"})
    row = db.session.scalar(select(LoyaltyTransaction))
    assert (row.staff_pin_id, row.user_agent, row.client_ip) == (
        shop.pin.id,
        "till-app/1.0",
        "127.0.0.1",
    )


def test_the_hand_written_body_is_the_schemas_dump(db, shop, points_shop, frozen_time):
    """api/vendor.py answers balance changes with schemas.vendor.balance_change_body (fast);
    it must stay exactly what BalanceChangeSchema, the documented shape, would dump."""
    from loyalty_portal.api.schemas.vendor import BalanceChangeSchema, balance_change_body
    from loyalty_portal.services import points_service, stamp_service, transaction_service
    from loyalty_portal.services.ledger import Actor

    pin = Actor(staff_pin_id=shop.pin.id, pin="4827")
    stamped = stamp_service.add_stamp(shop.vendor.id, shop.card.id, actor=pin)
    voided = transaction_service.void_transaction(
        shop.vendor.id, stamped.transaction_id, "typo", actor=Actor(user_id=shop.owner.id)
    )
    points_pin = Actor(staff_pin_id=points_shop.pin.id, pin="4827")
    vendor_id, card_id = points_shop.vendor.id, points_shop.card.id
    earned = points_service.earn_points(vendor_id, card_id, 2000, actor=points_pin)
    frozen_time.advance(minutes=20)
    redeemed = points_service.redeem_reward(
        vendor_id, card_id, "coffee", actor=points_pin, idempotency_key="r-1"
    )
    replayed = points_service.redeem_reward(
        vendor_id, card_id, "coffee", actor=points_pin, idempotency_key="r-1"
    )
    assert replayed.replayed
    for result in (stamped, voided, earned, redeemed, replayed):
        assert balance_change_body(result) == BalanceChangeSchema().dump(result)
