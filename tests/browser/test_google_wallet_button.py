"""A customer on an Android phone taps "Add to Google Wallet" on the card page: the button looks
and reads as Google's guidelines say, in the page's language, and the tap lands on Google's save
page with a link naming the card's pass, which now exists at (the local stand-in for) Google."""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import make_shop
from tests.google_wallet.fake_google import (
    ISSUER_ID,
    SAVE_PREFIX,
    SERVICE_ACCOUNT_EMAIL,
    FakeGoogleWallet,
    google_settings,
    make_service_account_key,
    verified_claims,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def google(live_server, tmp_path):
    """Google Wallet configured on the live server, against a local stand-in for Google."""
    from loyalty_portal.services import google_wallet_service

    key = make_service_account_key()
    fake = FakeGoogleWallet(ISSUER_ID, SERVICE_ACCOUNT_EMAIL, key.public_key_pem).start()
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(key.json_for(fake.token_uri)))
    settings = google_settings(fake, key_file)
    settings["PUBLIC_BASE_URL"] = live_server.url
    live_server.app.config.update(settings)
    google_wallet_service.init_app(live_server.app)
    yield fake, key
    fake.stop()


@pytest.mark.parametrize(
    ("lang", "wording"), [("fr", "Ajouter à Google Wallet"), ("en", "Add to Google Wallet")]
)
def test_a_customer_adds_the_card_to_google_wallet(live_server, google, new_page, lang, wording):
    fake, key = google
    shop = live_server.run(make_shop, google_wallet_enabled=True)
    page = new_page(width=390, height=844)
    reached_google = []

    def google_save_page(route):
        reached_google.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Google Wallet</title>")

    page.route("https://pay.google.com/**", google_save_page)
    page.goto(f"{live_server.url}/card/{shop.public_token}?lang={lang}")
    button = page.get_by_role("link", name=wording)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["height"] >= 48  # Google's minimum touch target for the button
    violations = Axe().run(page).response["violations"]
    assert not [v["id"] for v in violations if v["impact"] in ("serious", "critical")]

    button.click()
    page.wait_for_url(f"{SAVE_PREFIX}**")
    _, claims = verified_claims(reached_google[0], key.public_key_pem)
    (reference,) = claims["payload"]["loyaltyObjects"]
    assert claims["origins"] == [live_server.url]
    assert reference["id"] in fake.objects
    assert fake.objects[reference["id"]]["barcode"]["value"] == shop.public_token
