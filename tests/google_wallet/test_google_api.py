"""Talking to Google's Wallet API over real HTTP (a local stand-in started by the tests): the
bearer token from the service account, inserts and patches, and every answer Google may give."""

import json

import pytest

from loyalty_portal.errors import GoogleWalletNotConfigured, GoogleWalletRequestFailed
from loyalty_portal.services import card_service, google_wallet_service, program_service
from tests.factories import make_card, make_program, make_vendor
from tests.google_wallet.fake_google import ISSUER_ID


@pytest.fixture
def card(google_app, db):
    program = make_program(make_vendor(), "stamps", google_wallet_enabled=True)
    return make_card(program)


def _calls(fake):
    return [(c.method, c.resource, c.status) for c in fake.calls]


def test_first_sync_inserts_the_class_then_the_object_and_remembers_both(card, fake_google, db):
    assert google_wallet_service.sync_card(card, create=True)
    assert _calls(fake_google) == [("POST", "loyaltyClass", 200), ("POST", "loyaltyObject", 200)]
    db.session.expire_all()
    class_id = f"{ISSUER_ID}.test-{card.program.vendor.slug}"
    assert card.program.google_class_id == class_id
    assert card.google_object_id == f"{ISSUER_ID}.test-card-{card.card_number}"
    stored = fake_google.objects[card.google_object_id]
    assert stored["classId"] == class_id
    assert stored["barcode"]["value"] == card.public_token
    # One token for all calls: google-auth caches it; the fake checked it on every call.
    assert fake_google.token_requests == 1


def test_a_card_never_added_to_google_is_left_alone(card, fake_google):
    assert google_wallet_service.sync_card(card) is False
    assert fake_google.calls == []


def test_later_syncs_patch_with_the_new_balance(card, fake_google, db):
    google_wallet_service.sync_card(card, create=True)
    card.stamp_count = 2  # as if stamped (the ledger is not the point here)
    db.session.commit()
    google_wallet_service.sync_card(card)
    patch = fake_google.api_calls("PATCH", "loyaltyObject")
    assert [c.status for c in patch] == [200]
    assert patch[0].body["loyaltyPoints"]["balance"] == {"string": "2 / 10"}
    assert fake_google.objects[card.google_object_id]["loyaltyPoints"]["balance"] == {
        "string": "2 / 10"
    }


def test_an_insert_answered_409_becomes_a_patch(card, fake_google, db):
    """The class and object exist at Google (an earlier database, a crash before we stored the
    ids): the insert's 409 means "exists", and the current state is patched in."""
    class_payload = google_wallet_service.class_payload(card.program)
    fake_google.classes[class_payload["id"]] = {**class_payload, "programName": "Old name"}
    object_payload = google_wallet_service.object_payload(card)
    fake_google.objects[object_payload["id"]] = {**object_payload, "accountName": "Old"}
    google_wallet_service.sync_card(card, create=True)
    assert _calls(fake_google) == [
        ("POST", "loyaltyClass", 409), ("PATCH", "loyaltyClass", 200),
        ("POST", "loyaltyObject", 409), ("PATCH", "loyaltyObject", 200),
    ]
    assert fake_google.classes[class_payload["id"]]["programName"] == card.program.name
    assert fake_google.objects[object_payload["id"]]["accountName"] == card.customer.name


def test_a_patch_answered_404_becomes_an_insert(card, fake_google, db):
    google_wallet_service.sync_card(card, create=True)
    fake_google.objects.clear()  # gone at Google
    fake_google.calls.clear()
    google_wallet_service.sync_card(card)
    assert _calls(fake_google) == [("PATCH", "loyaltyObject", 404), ("POST", "loyaltyObject", 200)]
    assert card.google_object_id in fake_google.objects


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retryable(card, fake_google, status):
    fake_google.fail_next("POST", "loyaltyClass", status, "Backend Error")
    with pytest.raises(GoogleWalletRequestFailed) as raised:
        google_wallet_service.sync_card(card, create=True)
    assert raised.value.retryable
    assert raised.value.http_status == status
    assert "Backend Error" in raised.value.message
    assert card.program.google_class_id is None and card.google_object_id is None
    # Trying again (what the outbox does) succeeds once Google is back.
    google_wallet_service.sync_card(card, create=True)
    assert card.google_object_id in fake_google.objects


@pytest.mark.parametrize("status", [400, 403])
def test_refusals_are_final_and_carry_googles_message(card, fake_google, status):
    message = "Invalid resource field value in the request."
    fake_google.fail_next("POST", "loyaltyObject", status, message)
    with pytest.raises(GoogleWalletRequestFailed) as raised:
        google_wallet_service.sync_card(card, create=True)
    assert not raised.value.retryable
    assert raised.value.details == {"provider": "google", "status": status, "retryable": False}
    assert message in str(raised.value)
    assert card.google_object_id is None


def test_a_payload_google_does_not_know_is_refused_by_the_fake_as_by_google(card, fake_google):
    """The stand-in validates against the discovery document too, so a wrong field name in the
    service would fail every test that talks to it."""
    payload = {**google_wallet_service.class_payload(card.program), "programColour": "#000000"}
    session = google_wallet_service._session(google_wallet_service.settings())
    response = session.post(f"{fake_google.api_base_url}/loyaltyClass", json=payload)
    assert response.status_code == 400
    assert 'Unknown name "programColour"' in response.json()["error"]["message"]


def test_an_expired_token_is_refreshed_by_google_auth(card, fake_google):
    google_wallet_service.sync_card(card, create=True)
    fake_google.expire_tokens()
    google_wallet_service.sync_card(card)
    assert [c.status for c in fake_google.api_calls("PATCH")] == [401, 200]
    assert fake_google.token_requests == 2


def test_an_unreachable_google_is_retryable(google_app, card, db):
    google_app.extensions["google_wallet"] = _with_base_url(google_app, "http://127.0.0.1:9/v1")
    with pytest.raises(GoogleWalletRequestFailed) as raised:
        google_wallet_service.sync_card(card, create=True)
    assert raised.value.retryable and raised.value.http_status is None


def test_a_token_endpoint_that_refuses_the_key_is_final(
    google_app, card, fake_google, service_account_file, tmp_path, db
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "other.json"
    info = json.loads(service_account_file.read_text())
    info["private_key"] = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    key_file.write_text(json.dumps(info))
    google_app.config["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"] = str(key_file)
    google_wallet_service.init_app(google_app)
    with pytest.raises(GoogleWalletRequestFailed) as raised:
        google_wallet_service.sync_card(card, create=True)
    assert not raised.value.retryable
    assert "access token refused" in raised.value.reason
    assert fake_google.refused_assertions and fake_google.calls == []


def test_a_program_change_patches_the_class_and_every_inserted_object(google_app, fake_google, db):
    program = make_program(make_vendor(), "stamps", google_wallet_enabled=True)
    saved, other_saved, never_saved = make_card(program), make_card(program), make_card(program)
    google_wallet_service.sync_card(saved, create=True)
    google_wallet_service.sync_card(other_saved, create=True)
    fake_google.calls.clear()
    program_service.update_program(program.vendor_id, stamps_target=8,
                                   card_background_color="#AA3300")
    google_wallet_service.sync_program(program)
    assert _calls(fake_google) == [("PATCH", "loyaltyClass", 200)] + [
        ("PATCH", "loyaltyObject", 200)
    ] * 2
    assert fake_google.classes[program.google_class_id]["hexBackgroundColor"] == "#AA3300"
    assert fake_google.objects[saved.google_object_id]["loyaltyPoints"]["balance"] == {
        "string": "0 / 8"
    }
    assert never_saved.google_object_id is None


def test_a_program_no_customer_added_to_google_makes_no_call(google_app, fake_google, db):
    program = make_program(make_vendor(), "stamps", google_wallet_enabled=True)
    google_wallet_service.sync_program(program)
    assert fake_google.calls == []


def test_a_blocked_card_becomes_inactive_at_google(card, fake_google, db):
    google_wallet_service.sync_card(card, create=True)
    card_service.set_card_active(card.program.vendor_id, card.id, False)
    google_wallet_service.sync_card(card)
    assert fake_google.objects[card.google_object_id]["state"] == "INACTIVE"


def test_without_settings_google_wallet_is_not_configured(app, db):
    card = make_card(make_program(make_vendor(), "stamps", google_wallet_enabled=True))
    assert not google_wallet_service.is_configured()
    with pytest.raises(GoogleWalletNotConfigured):
        google_wallet_service.sync_card(card, create=True)


def _with_base_url(app, url):
    from dataclasses import replace

    return replace(app.extensions["google_wallet"], api_base_url=url, timeout_seconds=2)
