"""Customers' data rights: consent on enrolment, an export of everything held, and erasure that
keeps the card, balances and ledger intact and verifiable."""

from datetime import UTC, datetime

from sqlalchemy import select

from loyalty_portal.models import AppleDevice, AppleDeviceRegistration, Customer
from loyalty_portal.services import ledger_audit
from tests.api.helpers import V, assert_error


def add_device(db, card):
    device = AppleDevice(device_library_identifier="device-1", push_token="ab12")
    db.session.add(
        AppleDeviceRegistration(device=device, card_id=card.id, pass_type_identifier="pass.test")
    )
    db.session.commit()


def test_the_export_holds_everything_about_the_customer(owner_client, client, shop, db):
    client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers)
    add_device(db, shop.card)
    response = owner_client.get(f"{V}/customers/{shop.card.customer_id}")
    assert response.status_code == 200
    body = response.get_json()
    customer = body["customer"]
    assert customer["email"] == shop.card.customer.email
    assert customer["consent_at"] == "2026-03-02T10:00:00+00:00"
    assert customer["consent_text_version"]
    [record] = body["cards"]
    assert record["card"]["card_number"] == shop.card.card_number
    assert [tx["transaction_type"] for tx in record["transactions"]] == ["stamp_earned"]
    assert [d["device_library_identifier"] for d in record["apple_devices"]] == ["device-1"]


def test_erasure_anonymises_the_person_and_keeps_the_books(
    owner_client, client, shop, db, frozen_time
):
    client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers)
    add_device(db, shop.card)
    email = shop.card.customer.email
    response = owner_client.delete(f"{V}/customers/{shop.card.customer_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["email"], body["phone"], body["locale"]) == (
        "[erased]",
        None,
        None,
        None,
    )
    assert body["erased_at"] == frozen_time.now.isoformat()

    card = client.get(f"{V}/cards/{shop.card.id}", headers=shop.key_headers).get_json()
    assert card["card"]["stamp_count"] == 1 and len(card["transactions"]) == 1
    assert ledger_audit.verify_ledger() == []
    assert db.session.scalars(select(AppleDeviceRegistration)).all() == []
    assert db.session.scalars(select(AppleDevice)).all() == []  # it held no other pass
    lookup = client.get(f"{V}/cards/lookup", query_string={"q": email}, headers=shop.key_headers)
    assert_error(lookup, 404, "LOYALTY_CARD_NOT_FOUND")
    # The card still works at the counter.
    frozen_time.advance(minutes=15)
    again = client.post(
        f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers
    )
    assert again.status_code == 200


def test_erasing_twice_keeps_the_first_erasure(owner_client, shop, db, frozen_time):
    url = f"{V}/customers/{shop.card.customer_id}"
    first = owner_client.delete(url).get_json()
    frozen_time.advance(days=1)
    assert owner_client.delete(url).get_json() == first
    customer = db.session.get(Customer, shop.card.customer_id)
    assert customer.erased_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_unknown_customers_are_not_found(owner_client):
    assert_error(owner_client.get(f"{V}/customers/999999"), 404, "CUSTOMER_NOT_FOUND")
    assert_error(owner_client.delete(f"{V}/customers/999999"), 404, "CUSTOMER_NOT_FOUND")
