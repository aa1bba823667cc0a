"""The "Add to Google Wallet" button: the signed save link, the public API route behind it, the
card page, the owner's switch, the settings and `flask loyalty google check`."""

import pytest

from loyalty_portal.services import google_wallet_service, program_service
from tests.api.helpers import assert_error
from tests.factories import make_card, make_program, make_vendor
from tests.google_wallet.discovery import validate
from tests.google_wallet.fake_google import (
    ISSUER_ID,
    SERVICE_ACCOUNT_EMAIL,
    google_settings,
    verified_claims,
)
from tests.web.screen_helpers import text


@pytest.fixture
def card(google_app, db):
    program = make_program(make_vendor(), "stamps", google_wallet_enabled=True)
    return make_card(program, name="Ana")


def test_the_button_inserts_the_pass_then_sends_the_customer_to_google(
    client, card, fake_google, service_account_key, db
):
    response = client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet/google")
    assert response.status_code == 303
    header, claims = verified_claims(response.location, service_account_key.public_key_pem)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": service_account_key.key_id}
    db.session.expire_all()
    assert claims == {
        "iss": SERVICE_ACCOUNT_EMAIL,
        "aud": "google",
        "typ": "savetowallet",
        "origins": ["https://loyalty.example.com"],
        # By reference: the object exists at Google, so the link stays short.
        "payload": {"loyaltyObjects": [
            {"id": card.google_object_id, "classId": card.program.google_class_id}
        ]},
    }
    assert card.google_object_id in fake_google.objects
    assert len(response.location) < 1500
    # A second tap makes no call to Google: the object is known to exist.
    fake_google.calls.clear()
    again = client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet/google")
    assert again.status_code == 303 and fake_google.calls == []


def test_when_google_is_down_the_link_carries_the_whole_pass(
    client, card, fake_google, service_account_key, db
):
    fake_google.fail_next("POST", "loyaltyClass", 503, "Service unavailable")
    response = client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet/google")
    assert response.status_code == 303
    _, claims = verified_claims(response.location, service_account_key.public_key_pem)
    payload = claims["payload"]
    validate("LoyaltyClass", payload["loyaltyClasses"][0])
    validate("LoyaltyObject", payload["loyaltyObjects"][0])
    assert payload["loyaltyObjects"][0]["barcode"]["value"] == card.public_token
    db.session.expire_all()
    assert card.google_object_id is None  # not known to exist yet: the worker will insert it


def test_a_refusal_by_google_is_a_502_with_its_code(client, card, fake_google):
    fake_google.fail_next("POST", "loyaltyClass", 403, "Issuer not permitted")
    response = client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet/google")
    details = assert_error(response, 502, "GOOGLE_WALLET_REQUEST_FAILED")
    assert details == {"provider": "google", "status": 403, "retryable": False}
    assert "Issuer not permitted" in response.get_json()["message"]


def test_not_configured_answers_google_wallet_not_configured(client, app, db):
    card = make_card(make_program(make_vendor(), "stamps", google_wallet_enabled=True))
    url = f"/api/v1/loyalty/cards/{card.public_token}/wallet/google"
    assert_error(client.get(url), 409, "GOOGLE_WALLET_NOT_CONFIGURED")
    assert client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet").get_json()[
        "google_wallet_url"
    ] is None
    assert_error(client.get("/api/v1/loyalty/cards/nope/wallet/google"), 404,
                 "LOYALTY_CARD_NOT_FOUND")


def test_a_program_with_google_off_answers_not_configured(client, google_app, fake_google, db):
    card = make_card(make_program(make_vendor(), "stamps"))
    url = f"/api/v1/loyalty/cards/{card.public_token}/wallet/google"
    assert_error(client.get(url), 409, "GOOGLE_WALLET_NOT_CONFIGURED")
    assert fake_google.calls == []


def test_the_wallet_links_name_the_button_target(client, card):
    links = client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet").get_json()
    assert links["google_wallet_url"] == (
        f"https://loyalty.example.com/api/v1/loyalty/cards/{card.public_token}/wallet/google"
    )


@pytest.mark.parametrize(
    ("locale", "wording"),
    [("en", "Add to Google Wallet"), ("fr", "Ajouter à Google Wallet"),
     ("de", "Zu Google Wallet hinzufügen")],
)
def test_the_card_page_shows_googles_button_in_the_pages_language(client, card, locale, wording):
    page = client.get(f"/card/{card.public_token}?lang={locale}")
    html = page.get_data(as_text=True)
    assert 'class="google-wallet-button"' in html
    assert f"/api/v1/loyalty/cards/{card.public_token}/wallet/google" in html
    assert wording in text(page)


def test_the_card_page_hides_the_button_when_the_program_has_google_off(client, card, db):
    program_service.update_program(card.program.vendor_id, google_wallet_enabled=False)
    assert "google-wallet-button" not in client.get(f"/card/{card.public_token}").get_data(
        as_text=True
    )


def test_google_check_reports_a_working_setup(google_app, fake_google):
    result = google_app.test_cli_runner().invoke(args=["loyalty", "google", "check"])
    assert result.exit_code == 0, result.output
    assert SERVICE_ACCOUNT_EMAIL in result.output
    assert fake_google.token_uri in result.output
    assert "OK: the service account may issue passes for 'Loyalty Portal test issuer'" in (
        result.output
    )
    assert [(c.method, c.resource, c.resource_id) for c in fake_google.calls] == [
        ("GET", "issuer", ISSUER_ID)
    ]


def test_google_check_reports_googles_refusal(google_app, fake_google):
    fake_google.fail_next("GET", "issuer", 403, "The caller does not have permission")
    result = google_app.test_cli_runner().invoke(args=["loyalty", "google", "check"])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "The caller does not have permission" in result.output


def test_google_check_without_settings(app):
    result = app.test_cli_runner().invoke(args=["loyalty", "google", "check"])
    assert result.exit_code == 1 and "not configured" in result.output


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": ""}, "needs both"),
        ({"GOOGLE_WALLET_ISSUER_ID": "issuer-name"}, "must be the digits"),
        ({"GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": "/nonexistent.json"}, "not a usable"),
        ({"GOOGLE_WALLET_ID_PREFIX": "bad prefix!"}, "GOOGLE_WALLET_ID_PREFIX"),
    ],
)
def test_wrong_settings_stop_the_app_at_start_up(
    db_url, fake_google, service_account_file, change, complaint
):
    from loyalty_portal import create_app
    from loyalty_portal.services.google_wallet_service import GoogleWalletConfigurationError

    config = {"SQLALCHEMY_DATABASE_URI": db_url, "TESTING": True,
              **google_settings(fake_google, service_account_file), **change}
    with pytest.raises(GoogleWalletConfigurationError, match=complaint):
        create_app(config)


def test_the_owner_switches_google_wallet_on(client, google_app, db):
    from loyalty_portal.models import Role
    from tests.factories import make_user
    from tests.web.screen_helpers import sign_in

    program = make_program(make_vendor(), "stamps")
    sign_in(client, make_user(Role.OWNER, program.vendor))
    page = client.get("/vendor/program")
    assert "Offer the card in Google Wallet" in text(page)
    assert "Add to Google Wallet" in text(page)  # what customers will see
    form = {
        "program_type": "stamps", "name": program.name, "description": "",
        "stamps_target": program.stamps_target, "stamps_reward_description": "A coffee",
        "points_per_currency_unit": 1, "cooldown_minutes": 15, "max_daily_stamps": 5,
        "require_staff_pin": "y", "pin_max_failed_attempts": 5, "pin_lockout_minutes": 30,
        "card_background_color": "#1F3A5F", "card_text_color": "#FFFFFF", "logo_url": "",
        "is_active": "y", "google_wallet_enabled": "y",
    }
    assert client.post("/vendor/program", data=form).status_code == 303
    db.session.expire_all()
    assert program.google_wallet_enabled and google_wallet_service.is_offered(program)
    del form["google_wallet_enabled"]
    assert client.post("/vendor/program", data=form).status_code == 303
    db.session.expire_all()
    assert not program.google_wallet_enabled


def test_the_owner_is_told_when_the_platform_has_no_google_wallet(client, app, db):
    from loyalty_portal.models import Role
    from tests.factories import make_user
    from tests.web.screen_helpers import sign_in

    program = make_program(make_vendor(), "stamps")
    sign_in(client, make_user(Role.OWNER, program.vendor))
    assert "Google Wallet is not set up on this platform yet" in text(
        client.get("/vendor/program")
    )
