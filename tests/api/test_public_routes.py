"""What customers reach without an account: program info, enrolment, their card by token."""

from loyalty_portal.services import program_service
from tests.api.helpers import P, assert_error

JOIN = {"name": "Léa Martin", "email": "Lea@Example.com", "consent": True}


def test_a_programs_public_information(client, points_shop):
    body = client.get(f"{P}/programs/{points_shop.vendor.slug}").get_json()
    assert (body["vendor_slug"], body["program_type"], body["currency"]) == (
        points_shop.vendor.slug,
        "points",
        "EUR",
    )
    assert [r["id"] for r in body["rewards"]] == ["coffee", "cake"]
    assert "require_staff_pin" not in body
    assert_error(client.get(f"{P}/programs/nobody"), 404, "LOYALTY_PROGRAM_NOT_FOUND")
    program_service.deactivate_program(points_shop.vendor.id)
    assert_error(
        client.get(f"{P}/programs/{points_shop.vendor.slug}"), 409, "LOYALTY_PROGRAM_INACTIVE"
    )


def test_enrolment_records_consent_and_returns_the_card(client, shop, frozen_time):
    response = client.post(f"{P}/programs/{shop.vendor.slug}/enrol", json=JOIN)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["customer_name"], body["stamp_count"], body["is_active"]) == (
        "Léa Martin",
        0,
        True,
    )
    assert len(body["card_number"]) == 12 and body["public_token"]
    from loyalty_portal.services import card_service

    card = card_service.get_card_by_public_token(body["public_token"])
    assert card.customer.email == "lea@example.com"
    assert card.customer.consent_at == frozen_time.now


def test_enrolment_refusals(client, shop):
    url = f"{P}/programs/{shop.vendor.slug}/enrol"
    details = assert_error(
        client.post(url, json={**JOIN, "consent": False}), 422, "LOYALTY_VALIDATION_FAILED"
    )
    assert details["field"] == "consent"
    assert_error(
        client.post(url, json={"name": "No contact", "consent": True}),
        422,
        "LOYALTY_VALIDATION_FAILED",
    )
    assert_error(
        client.post(url, json={**JOIN, "email": "not-an-address"}), 422, "LOYALTY_VALIDATION_FAILED"
    )
    assert_error(client.post(url, json={"email": "x@example.com"}), 422, "VALIDATION_ERROR")
    client.post(url, json=JOIN)
    again = assert_error(client.post(url, json=JOIN), 409, "LOYALTY_CARD_ALREADY_EXISTS")
    assert again["card_id"]
    assert_error(
        client.post(f"{P}/programs/nobody/enrol", json=JOIN), 404, "LOYALTY_PROGRAM_NOT_FOUND"
    )


def test_enrolment_is_rate_limited_per_client(app_with, shop):
    limited = app_with(RATELIMIT_ENABLED=True, ENROL_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    url = f"{P}/programs/{shop.vendor.slug}/enrol"
    for n in range(2):
        assert client.post(url, json={**JOIN, "email": f"r{n}@example.com"}).status_code == 201
    response = client.post(url, json={**JOIN, "email": "r3@example.com"})
    assert_error(response, 429, "RATE_LIMITED")
    assert int(response.headers["Retry-After"]) > 0


def test_pin_attempts_are_rate_limited_per_client(app_with, shop):
    limited = app_with(RATELIMIT_ENABLED=True, PIN_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    url = f"/api/v1/vendor/loyalty/cards/{shop.card.id}/stamps"
    for _ in range(3):
        client.post(url, json=shop.pin_body(pin="0000"), headers=shop.key_headers)
    assert_error(
        client.post(url, json=shop.pin_body(), headers=shop.key_headers), 429, "RATE_LIMITED"
    )


def test_a_card_by_its_token_and_its_wallet_links(client, shop, app, request):
    token = shop.card.public_token
    body = client.get(f"{P}/cards/{token}").get_json()
    assert (body["card_number"], body["program"]["stamps_target"]) == (shop.card.card_number, 3)
    assert "email" not in str(body)
    links = client.get(f"{P}/cards/{token}/wallet").get_json()
    assert links["card_url"].endswith(f"/card/{token}")
    assert links["apple_wallet_url"] is None and links["google_wallet_url"] is None
    program_service.update_program(shop.vendor.id, apple_wallet_enabled=True)
    request.getfixturevalue("apple_wallet")
    assert client.get(f"{P}/cards/{token}/wallet").get_json()["apple_wallet_url"]
    assert_error(client.get(f"{P}/cards/not-a-token"), 404, "LOYALTY_CARD_NOT_FOUND")
    assert_error(client.get(f"{P}/cards/not-a-token/wallet"), 404, "LOYALTY_CARD_NOT_FOUND")
