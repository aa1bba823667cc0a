"""The vendor's program, cards, statistics, staff PINs and API keys over HTTP."""

from loyalty_portal.services import api_key_service
from tests.api.helpers import V, assert_error
from tests.factories import make_card


def test_read_the_program(owner_client, shop):
    body = owner_client.get(f"{V}/program").get_json()
    assert (body["id"], body["program_type"], body["stamps_target"]) == (
        shop.program.id,
        "stamps",
        3,
    )
    assert (body["require_staff_pin"], body["cooldown_minutes"], body["max_daily_stamps"]) == (
        True,
        15,
        5,
    )


def test_update_the_anti_fraud_settings(owner_client):
    response = owner_client.patch(
        f"{V}/program", json={"cooldown_minutes": 5, "require_staff_pin": False}
    )
    assert response.status_code == 200
    assert (response.get_json()["cooldown_minutes"], response.get_json()["require_staff_pin"]) == (
        5,
        False,
    )


def test_update_refuses_bad_values_naming_the_field(owner_client):
    for body, field in (
        ({"cooldown_minutes": -1}, "cooldown_minutes"),
        ({"cooldown_minutes": 2.5}, "cooldown_minutes"),
        ({"card_text_color": "red"}, "card_text_color"),
        ({"vendor_id": 2}, "vendor_id"),
    ):
        details = assert_error(
            owner_client.patch(f"{V}/program", json=body), 422, "VALIDATION_ERROR"
        )
        assert list(details["fields"]) == [field]


def test_a_rule_only_the_service_knows_is_422_with_its_field(owner_client, shop):
    response = owner_client.patch(
        f"{V}/program", json={"logo_url": "http://insecure.example/x.png"}
    )
    assert assert_error(response, 422, "LOYALTY_VALIDATION_FAILED")["field"] == "logo_url"


def test_pausing_and_resuming_the_program(owner_client, client, shop):
    def stamp():
        url = f"{V}/cards/{shop.card.id}/stamps"
        return client.post(url, json=shop.pin_body(), headers=shop.key_headers)

    assert_error(
        owner_client.patch(f"{V}/program", json={"is_active": "paused"}), 422, "VALIDATION_ERROR"
    )
    response = owner_client.patch(f"{V}/program", json={"is_active": False})
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert_error(stamp(), 409, "LOYALTY_PROGRAM_INACTIVE")
    assert_error(client.get(f"/api/v1/loyalty/programs/{shop.vendor.slug}"), 409,
                 "LOYALTY_PROGRAM_INACTIVE")
    assert owner_client.patch(f"{V}/program", json={"is_active": True}).get_json()["is_active"]
    assert stamp().status_code == 200


def test_staff_cannot_pause_the_program(staff_client, shop):
    response = staff_client.patch(f"{V}/program", json={"is_active": False})
    assert_error(response, 403, "PERMISSION_DENIED")
    assert shop.program.is_active


def test_a_vendor_without_a_program_gets_404(client, db):
    from tests.api.helpers import sign_in
    from tests.factories import make_user, make_vendor

    sign_in(client, make_user("owner", make_vendor()))
    assert_error(client.get(f"{V}/program"), 404, "LOYALTY_PROGRAM_NOT_FOUND")
    assert_error(client.get(f"{V}/statistics"), 404, "LOYALTY_PROGRAM_NOT_FOUND")


def test_statistics(client, shop):
    client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers)
    body = client.get(f"{V}/statistics?days=7", headers=shop.key_headers).get_json()
    assert (body["total_cards"], body["stamps_issued"], body["active_cards_30_days"]) == (1, 1, 1)
    assert len(body["daily"]) == 7 and body["daily"][-1]["stamps_issued"] == 1
    assert_error(
        client.get(f"{V}/statistics?days=0", headers=shop.key_headers), 422, "VALIDATION_ERROR"
    )


def test_search_cards_with_paging(client, shop):
    for n in range(3):
        make_card(shop.program, name=f"Paula {n}", email=f"paula{n}@example.com")
    first = client.get(f"{V}/cards?q=paula&per_page=2", headers=shop.key_headers).get_json()
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (3, 1, 2, 2)
    second = client.get(f"{V}/cards?q=paula&per_page=2&page=2", headers=shop.key_headers).get_json()
    assert [c["customer"]["name"] for c in second["items"]] == ["Paula 0"]
    everyone = client.get(f"{V}/cards", headers=shop.key_headers).get_json()
    assert everyone["total"] == 4
    assert_error(
        client.get(f"{V}/cards?per_page=500", headers=shop.key_headers), 422, "VALIDATION_ERROR"
    )


def test_look_a_card_up_by_number_token_email_or_phone(client, shop):
    card = make_card(shop.program, name="Marc", email="marc@example.com", phone="+352 621 000 111")
    for query in (
        card.card_number,
        " ".join([card.card_number[:4], card.card_number[4:]]),
        card.public_token,
        f"https://example.test/card/{card.public_token}",
        "MARC@example.com",
        "+352621000111",
    ):
        response = client.get(
            f"{V}/cards/lookup", query_string={"q": query}, headers=shop.key_headers
        )
        assert response.get_json()["id"] == card.id, query
    missing = client.get(f"{V}/cards/lookup?q=nobody@example.com", headers=shop.key_headers)
    assert_error(missing, 404, "LOYALTY_CARD_NOT_FOUND")
    assert_error(client.get(f"{V}/cards/lookup", headers=shop.key_headers), 422, "VALIDATION_ERROR")


def test_card_detail_with_its_ledger_in_pages(client, shop, frozen_time):
    for _ in range(3):
        client.post(
            f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers
        )
        frozen_time.advance(minutes=15)
    body = client.get(f"{V}/cards/{shop.card.id}?limit=2", headers=shop.key_headers).get_json()
    assert body["card"]["stamp_count"] == 3
    ids = [tx["id"] for tx in body["transactions"]]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)
    rest = client.get(
        f"{V}/cards/{shop.card.id}?limit=2&before_id={ids[-1]}", headers=shop.key_headers
    ).get_json()
    assert len(rest["transactions"]) == 1 and rest["transactions"][0]["id"] < ids[-1]
    assert_error(
        client.get(f"{V}/cards/999999", headers=shop.key_headers), 404, "LOYALTY_CARD_NOT_FOUND"
    )


def test_block_and_unblock_a_card(owner_client, shop):
    assert (
        owner_client.patch(f"{V}/cards/{shop.card.id}", json={"is_active": False}).get_json()[
            "is_active"
        ]
        is False
    )
    assert (
        owner_client.patch(f"{V}/cards/{shop.card.id}", json={"is_active": True}).get_json()[
            "is_active"
        ]
        is True
    )
    assert_error(owner_client.patch(f"{V}/cards/{shop.card.id}", json={}), 422, "VALIDATION_ERROR")


def test_staff_pins_lifecycle(owner_client, shop):
    created = owner_client.post(f"{V}/pins", json={"name": "Luc", "pin": "5139"})
    assert created.status_code == 201
    pin_id = created.get_json()["id"]
    assert "pin_hash" not in created.get_json()
    names = [p["name"] for p in owner_client.get(f"{V}/pins").get_json()]
    assert names == ["Anna", "Luc"]
    assert (
        owner_client.patch(f"{V}/pins/{pin_id}", json={"name": "Lucas"}).get_json()["name"]
        == "Lucas"
    )
    assert owner_client.put(f"{V}/pins/{pin_id}/pin", json={"pin": "24680"}).status_code == 200
    assert owner_client.post(f"{V}/pins/{pin_id}/deactivate").get_json()["is_active"] is False
    assert [p["name"] for p in owner_client.get(f"{V}/pins").get_json()] == ["Anna"]
    everyone = owner_client.get(f"{V}/pins?include_inactive=true").get_json()
    assert [p["name"] for p in everyone] == ["Anna", "Lucas"]


def test_staff_pin_refusals(owner_client, shop):
    assert_error(
        owner_client.post(f"{V}/pins", json={"name": "Anna", "pin": "5139"}),
        422,
        "LOYALTY_VALIDATION_FAILED",
    )
    for pin in ("12", "abcd", "123456789"):
        details = assert_error(
            owner_client.post(f"{V}/pins", json={"name": "Zoe", "pin": pin}),
            422,
            "VALIDATION_ERROR",
        )
        assert list(details["fields"]) == ["pin"]
    assert_error(
        owner_client.put(f"{V}/pins/{shop.pin.id}/pin", json={"pin": "1"}), 422, "VALIDATION_ERROR"
    )
    assert_error(owner_client.post(f"{V}/pins/999999/unlock"), 404, "STAFF_PIN_NOT_FOUND")


def test_unlock_a_locked_pin(owner_client, client, shop):
    for _ in range(5):
        owner_client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(pin="0000"))
    locked = owner_client.get(f"{V}/lockouts").get_json()
    assert [(lock["scope"], lock["staff_pin_id"]) for lock in locked] == [
        ("pin_at_terminal", shop.pin.id)
    ]
    body = owner_client.post(f"{V}/pins/{shop.pin.id}/unlock").get_json()
    assert (body["failed_attempts"], body["locked_until"]) == (0, None)
    stamped = owner_client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body())
    assert stamped.status_code == 200


def test_api_keys_lifecycle(owner_client, client, shop, db):
    created = owner_client.post(f"{V}/api-keys", json={"name": "Kiosk"})
    assert created.status_code == 201
    body = created.get_json()
    secret, key = body["key"], body["api_key"]
    assert secret.startswith(key["key_prefix"]) and key["revoked_at"] is None
    listed = owner_client.get(f"{V}/api-keys").get_json()
    assert [k["name"] for k in listed] == ["Till 1", "Kiosk"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{V}/program", headers=headers).status_code == 200
    revoked = owner_client.delete(f"{V}/api-keys/{key['id']}").get_json()
    assert revoked["revoked_at"] is not None
    assert_error(client.get(f"{V}/program", headers=headers), 401, "INVALID_API_KEY")
    assert_error(owner_client.delete(f"{V}/api-keys/999999"), 404, "API_KEY_NOT_FOUND")
    assert_error(owner_client.post(f"{V}/api-keys", json={"name": ""}), 422, "VALIDATION_ERROR")
    assert all(k.key_hash != secret for k in api_key_service.list_keys(shop.vendor.id))
