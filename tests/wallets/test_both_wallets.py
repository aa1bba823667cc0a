"""A card in both wallets: one stamp at the counter reaches each of them exactly once, after
commit, through the outbox worker — one APNs push per iPhone holding the pass (local HTTP/2 APNs)
and one patch of the Google object carrying the new balance (local Google Wallet API)."""

from loyalty_portal.models import OutboxStatus
from loyalty_portal.services import program_service, wallet_service
from tests.core.outbox_helpers import drain, messages
from tests.google_wallet import conftest as google_fixtures
from tests.wallets.test_apple_end_to_end import stamp_at_the_counter
from tests.wallets.test_apple_web_service import register

# The local Google's fixtures (tests/google_wallet/conftest.py), usable in this module.
service_account_key = google_fixtures.service_account_key
_google_server = google_fixtures._google_server
fake_google = google_fixtures.fake_google
service_account_file = google_fixtures.service_account_file
google_app = google_fixtures.google_app


IPHONE, IPAD = "a1b2c3d4e5f60718293a4b5c6d7e8f90", "0f9e8d7c6b5a49382716050403020100"
IPHONE_TOKEN, IPAD_TOKEN = "ab" * 32, "cd" * 32


def test_a_stamp_reaches_each_device_and_google_exactly_once(
    client, google_app, apple_shop, apns_server, fake_google, frozen_time, db
):
    card = apple_shop.card
    program_service.update_program(apple_shop.vendor.id, google_wallet_enabled=True)
    links = wallet_service.links_for(card)
    assert links.apple_wallet_url and links.google_wallet_url  # both buttons on the card page
    # The customer's pass is on two Apple devices and in Google Wallet.
    assert register(client, card, IPHONE, IPHONE_TOKEN).status_code == 201
    assert register(client, card, IPAD, IPAD_TOKEN).status_code == 201
    assert client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet/google").status_code \
        == 303
    drain(google_app)
    apns_server.received.clear()
    fake_google.calls.clear()

    frozen_time.advance(minutes=1)
    stamp_at_the_counter(client, apple_shop)
    assert apns_server.received == [] and fake_google.calls == []  # nothing inside the request
    drain(google_app)

    pushes = apns_server.wait_for(2)
    assert sorted(push.path for push in pushes) == sorted(
        [f"/3/device/{IPHONE_TOKEN}", f"/3/device/{IPAD_TOKEN}"]
    )
    (patch,) = fake_google.api_calls()
    assert (patch.method, patch.resource, patch.status) == ("PATCH", "loyaltyObject", 200)
    db.session.expire_all()
    assert patch.resource_id == card.google_object_id
    assert patch.body["loyaltyPoints"]["balance"] == {"string": "1 / 10"}
    assert patch.body["secondaryLoyaltyPoints"]["balance"] == {"int": 9}
    # One delivery per wallet, both done; nothing left to send.
    deliveries = [m for m in messages() if m.kind in ("apple.pass_update", "google.wallet_update")
                  and m.card_id == card.id]
    assert {m.status for m in deliveries} == {OutboxStatus.DELIVERED}
    drain(google_app)
    assert len(apns_server.received) == 2 and len(fake_google.calls) == 1


def test_google_down_does_not_push_the_iphones_again(
    client, google_app, apple_shop, apns_server, fake_google, frozen_time, db
):
    """Each wallet retries on its own: Google's 503 leaves the Apple push delivered once."""
    card = apple_shop.card
    program_service.update_program(apple_shop.vendor.id, google_wallet_enabled=True)
    register(client, card, IPHONE, IPHONE_TOKEN)
    client.get(f"/api/v1/loyalty/cards/{card.public_token}/wallet/google")
    drain(google_app)
    apns_server.received.clear()
    fake_google.calls.clear()

    fake_google.fail_next("PATCH", "loyaltyObject", 503, "Backend Error")
    frozen_time.advance(minutes=1)
    stamp_at_the_counter(client, apple_shop)
    drain(google_app)
    assert len(apns_server.wait_for(1)) == 1
    frozen_time.advance(minutes=5)
    drain(google_app)
    assert [c.status for c in fake_google.api_calls("PATCH")] == [503, 200]
    assert len(apns_server.received) == 1
