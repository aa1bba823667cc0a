"""The counter's settings and rules over the vendor API (issue 15): program fields, stamps per
purchase, the largest amount, the daily points cap and the second confirmation."""

import pytest

from tests.api.helpers import V, assert_error


def earn(client, shop, **body):
    return client.post(f"{V}/cards/{shop.card.id}/points", json=shop.pin_body(**body),
                       headers=shop.key_headers)


def test_the_program_shows_and_changes_the_counter_settings(owner_client, shop):
    body = owner_client.get(f"{V}/program").get_json()
    assert (body["max_stamps_per_purchase"], body["max_purchase_amount_cents"]) == (5, 100_000)
    assert (body["max_daily_points"], body["confirm_purchase_above_cents"]) == (None, None)
    assert body["counter_undo_minutes"] == 5
    changed = owner_client.patch(f"{V}/program", json={
        "max_stamps_per_purchase": 3, "max_purchase_amount_cents": 20_000,
        "max_daily_points": 500, "confirm_purchase_above_cents": 5_000,
        "counter_undo_minutes": 0,
    })
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["max_daily_points"] == 500
    cleared = owner_client.patch(f"{V}/program", json={"max_daily_points": None})
    assert cleared.get_json()["max_daily_points"] is None


@pytest.mark.parametrize(
    "body",
    [{"max_stamps_per_purchase": 11}, {"max_purchase_amount_cents": 0},
     {"max_daily_points": 0}, {"confirm_purchase_above_cents": 1.5},
     {"counter_undo_minutes": 61}, {"counter_undo_minutes": None}],
)
def test_counter_settings_out_of_range_are_refused(owner_client, shop, body):
    assert_error(owner_client.patch(f"{V}/program", json=body), 422, "VALIDATION_ERROR")


def test_stamps_above_the_programs_maximum_per_purchase_are_refused(client, shop, owner_client):
    owner_client.patch(f"{V}/program", json={"max_stamps_per_purchase": 2})
    response = client.post(f"{V}/cards/{shop.card.id}/stamps",
                           json=shop.pin_body(stamps=3), headers=shop.key_headers)
    details = assert_error(response, 422, "LOYALTY_VALIDATION_FAILED")
    assert details["field"] == "stamps"
    ok = client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(stamps=2),
                     headers=shop.key_headers)
    assert ok.get_json()["stamps_delta"] == 2


def test_points_protection_over_http(client, points_shop):
    from loyalty_portal.services import program_service

    program_service.update_program(points_shop.vendor.id, max_purchase_amount_cents=20_000,
                                   confirm_purchase_above_cents=5_000, max_daily_points=100)
    details = assert_error(earn(client, points_shop, purchase_amount_cents=20_001), 422,
                           "PURCHASE_AMOUNT_TOO_LARGE")
    assert details["max_purchase_amount_cents"] == 20_000
    details = assert_error(earn(client, points_shop, purchase_amount_cents=9_999), 422,
                           "LARGE_PURCHASE_NOT_CONFIRMED")
    assert details["points"] == 99
    confirmed = earn(client, points_shop, purchase_amount_cents=9_999, large_amount_confirmed=True)
    assert confirmed.status_code == 200 and confirmed.get_json()["points_delta"] == 99
    response = earn(client, points_shop, purchase_amount_cents=200)
    details = assert_error(response, 429, "DAILY_POINTS_LIMIT")
    assert details["points_today"] == 99 and "Retry-After" in response.headers
    assert earn(client, points_shop, purchase_amount_cents=100).get_json()["points_balance"] == 100
