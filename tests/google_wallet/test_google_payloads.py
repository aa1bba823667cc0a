"""What the app sends Google: every LoyaltyClass and LoyaltyObject validates against Google's
published walletobjects v1 discovery document (unknown field names refused, as Google does)."""

import pytest

from loyalty_portal.services import card_service, customer_service, google_wallet_service
from loyalty_portal.services import program_service as programs
from tests.factories import make_card, make_program, make_vendor
from tests.google_wallet.discovery import PayloadInvalid, problems, required_fields, validate
from tests.google_wallet.fake_google import ISSUER_ID


def test_the_validator_reads_googles_document_and_refuses_what_google_refuses():
    assert required_fields("LoyaltyClass") == [
        "id", "issuerName", "programLogo", "programName", "reviewStatus"
    ]
    assert required_fields("LoyaltyObject") == ["classId", "id", "state"]
    good = {"id": f"{ISSUER_ID}.x", "classId": f"{ISSUER_ID}.c", "state": "ACTIVE"}
    validate("LoyaltyObject", good)
    assert problems("LoyaltyObject", {**good, "loyaltyPoint": {}}) == [
        "Unknown name \"loyaltyPoint\" at 'LoyaltyObject': Cannot find field."
    ]
    nested = {**good, "loyaltyPoints": {"balance": {"integer": 3}}}
    assert "Unknown name \"integer\"" in problems("LoyaltyObject", nested)[0]
    assert problems("LoyaltyObject", {**good, "state": "active"})  # deprecated alias
    assert problems("LoyaltyObject", {**good, "loyaltyPoints": {"balance": {"int": "3"}}})
    assert problems("LoyaltyObject", {**good, "loyaltyPoints": {"balance": {"int": 2**31}}})
    assert problems("LoyaltyObject", {"id": "x", "state": "ACTIVE"}) == [
        "LoyaltyObject.classId: required"
    ]
    validate("LoyaltyObject", {"id": "x"}, partial=True)
    with pytest.raises(PayloadInvalid):
        validate("LoyaltyClass", {"id": "x", "issuerName": "Shop"})


@pytest.fixture
def stamp_card(google_app, db):
    program = make_program(make_vendor(name="Café Lumière"), "stamps", stamps_target=10,
                           stamps_reward_description="A free coffee")
    return make_card(program, name="Ana Ferreira")


def test_a_stamp_programs_class(stamp_card):
    payload = google_wallet_service.class_payload(stamp_card.program)
    validate("LoyaltyClass", payload)
    vendor = stamp_card.program.vendor
    assert payload["id"] == f"{ISSUER_ID}.test-{vendor.slug}"
    assert (payload["issuerName"], payload["programName"]) == ("Café Lumière", "Café Lumière card")
    assert payload["hexBackgroundColor"] == "#1F3A5F"
    assert payload["programLogo"]["sourceUri"]["uri"] == (
        "https://loyalty.example.com/static/img/wallet-logo.png"
    )
    reward = payload["textModulesData"][0]
    assert reward["body"] == "A free coffee after 10 stamps"
    translations = {t["language"]: t["value"] for t in reward["localizedBody"]["translatedValues"]}
    assert set(translations) == {"fr", "de", "lb"}
    assert all("A free coffee" in value and "10" in value for value in translations.values())
    assert translations["fr"] != reward["body"]
    labels = payload["localizedAccountIdLabel"]
    assert labels["defaultValue"] == {"language": "en", "value": "Card number"}


def test_a_points_programs_class_lists_its_rewards(google_app, db):
    program = make_program(make_vendor(), "points", description="Points on every purchase.",
                           logo_url="https://shop.example/logo.png")
    payload = google_wallet_service.class_payload(program)
    validate("LoyaltyClass", payload)
    modules = {m["id"]: m for m in payload["textModulesData"]}
    assert modules["reward"]["body"] == "Coffee: 10 points\nCake: 50 points"
    assert modules["about"]["body"] == "Points on every purchase."
    assert payload["programLogo"]["sourceUri"]["uri"] == "https://shop.example/logo.png"


def test_a_program_without_rewards_clears_the_module(google_app, db):
    program = make_program(make_vendor(), "points", points_rewards=[])
    payload = google_wallet_service.class_payload(program)
    validate("LoyaltyClass", payload)
    assert payload["textModulesData"] is None  # null: a patch removes the old catalogue


def test_a_stamp_cards_object(stamp_card):
    payload = google_wallet_service.object_payload(stamp_card)
    validate("LoyaltyObject", payload)
    assert payload["id"] == f"{ISSUER_ID}.test-card-{stamp_card.card_number}"
    assert payload["classId"] == google_wallet_service.class_payload(stamp_card.program)["id"]
    assert payload["state"] == "ACTIVE"
    assert payload["accountName"] == "Ana Ferreira"
    assert payload["accountId"] == card_service.format_card_number(stamp_card.card_number)
    # The same QR code the cashier scans on the card page.
    assert payload["barcode"] == {
        "type": "QR_CODE", "value": stamp_card.public_token, "alternateText": payload["accountId"]
    }
    assert payload["loyaltyPoints"]["label"] == "Stamps"
    assert payload["loyaltyPoints"]["balance"] == {"string": "0 / 10"}
    assert payload["secondaryLoyaltyPoints"]["balance"] == {"int": 10}
    localized = payload["loyaltyPoints"]["localizedLabel"]["translatedValues"]
    assert {t["language"] for t in localized} == {"fr", "de", "lb"}
    assert payload["linksModuleData"]["uris"][0]["uri"] == (
        f"https://loyalty.example.com/card/{stamp_card.public_token}"
    )


def test_a_full_stamp_card_says_its_reward_is_available(stamp_card, db):
    stamp_card.stamp_count = 10
    payload = google_wallet_service.object_payload(stamp_card)
    validate("LoyaltyObject", payload)
    assert payload["secondaryLoyaltyPoints"]["balance"] == {"int": 0}
    assert payload["textModulesData"][0]["body"] == "Reward available: A free coffee"
    db.session.rollback()


def test_a_points_cards_object(google_app, db):
    card = make_card(make_program(make_vendor(), "points"))
    card.points_balance = 12
    payload = google_wallet_service.object_payload(card)
    validate("LoyaltyObject", payload)
    assert payload["loyaltyPoints"]["balance"] == {"int": 12}
    assert payload["loyaltyPoints"]["label"] == "Points"
    assert payload["secondaryLoyaltyPoints"]["label"] == "Points still needed"
    assert payload["secondaryLoyaltyPoints"]["balance"] == {"int": 38}  # to the cake
    assert payload["textModulesData"][0]["body"] == "Reward available: Coffee"
    db.session.rollback()


def test_a_points_card_without_rewards_has_no_secondary_points(google_app, db):
    card = make_card(make_program(make_vendor(), "points", points_rewards=[]))
    payload = google_wallet_service.object_payload(card)
    validate("LoyaltyObject", payload)
    assert payload["secondaryLoyaltyPoints"] is None and payload["textModulesData"] is None


def test_a_blocked_card_is_inactive_with_a_notice(stamp_card):
    vendor_id = stamp_card.program.vendor_id
    card = card_service.set_card_active(vendor_id, stamp_card.id, False)
    payload = google_wallet_service.object_payload(card)
    validate("LoyaltyObject", payload)
    assert payload["state"] == "INACTIVE"
    assert payload["textModulesData"][0]["id"] == "blocked"


def test_an_erased_customers_object_carries_no_name(stamp_card):
    customer_service.erase_customer(stamp_card.program.vendor_id, stamp_card.customer_id)
    payload = google_wallet_service.object_payload(stamp_card)
    validate("LoyaltyObject", payload)
    assert payload["accountName"] is None  # null: a patch removes the name at Google


def test_the_stored_ids_win_over_new_ones(stamp_card, db):
    programs.update_program(stamp_card.program.vendor_id, name="Renamed")
    stamp_card.program.google_class_id = f"{ISSUER_ID}.an-older-id"
    assert google_wallet_service.object_payload(stamp_card)["classId"] == f"{ISSUER_ID}.an-older-id"
    db.session.rollback()
