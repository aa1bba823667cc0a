"""Pushes to a local APNs over HTTP/2 with the pass certificate as client certificate: what
APNs receives, and what its refusals do to the registrations."""

import ssl

import httpx
import pytest
from sqlalchemy import func, select

from loyalty_portal.errors import WalletIntegrationError
from loyalty_portal.models import AppleDevice, AppleDeviceRegistration
from loyalty_portal.services import apple_wallet_service
from tests.factories import make_card
from tests.wallets.test_apple_web_service import PUSH_TOKEN, register


def test_a_push_is_an_empty_background_notification_over_http2(client, apple_shop, apns_server):
    register(client, apple_shop.card)
    register(client, apple_shop.card, device="second-device", token="cd" * 32)
    assert apple_wallet_service.push_card_update(apple_shop.card.id) == 2
    pushes = apns_server.wait_for(2)
    assert sorted(push.path for push in pushes) == [
        f"/3/device/{PUSH_TOKEN}", f"/3/device/{'cd' * 32}"
    ]
    for push in pushes:
        assert push.http_version == "2"
        assert push.headers["apns-topic"] == "pass.test.loyalty-portal"
        assert push.headers["apns-push-type"] == "background"
        assert push.body == b"{}"


def test_a_card_without_devices_pushes_nothing(client, apple_shop, apns_server):
    assert apple_wallet_service.push_card_update(apple_shop.card.id) == 0
    assert apns_server.received == []


def test_the_server_requires_the_client_certificate(apns_server, apple_certificates):
    """The double really checks what APNs checks: no certificate, no push."""
    context = ssl.create_default_context(cafile=apple_certificates.ca_file)
    with httpx.Client(http2=True, verify=context) as bare, pytest.raises(httpx.HTTPError):
        bare.post(f"{apns_server.url}/3/device/{PUSH_TOKEN}", content=b"{}")
    assert apns_server.received == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_429_and_5xx_ask_for_a_retry_and_keep_the_device(client, apple_shop, apns_server, db,
                                                        status):
    register(client, apple_shop.card)
    apns_server.answer(status, "TooManyRequests" if status == 429 else "InternalServerError")
    with pytest.raises(WalletIntegrationError) as raised:
        apple_wallet_service.push_card_update(apple_shop.card.id)
    assert str(status) in raised.value.message
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 1
    assert apple_wallet_service.push_card_update(apple_shop.card.id) == 1  # the retry


@pytest.mark.parametrize("status, reason", [(410, "Unregistered"), (400, "BadDeviceToken")])
def test_a_dead_token_forgets_the_device(client, apple_shop, apns_server, db, status, reason):
    register(client, apple_shop.card)
    other = make_card(apple_shop.program)
    register(client, other)
    apns_server.answer(status, reason)
    assert apple_wallet_service.push_card_update(apple_shop.card.id) == 0
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 0
    assert db.session.scalar(select(func.count(AppleDeviceRegistration.id))) == 0


def test_another_refusal_keeps_the_device_and_does_not_retry(client, apple_shop, apns_server, db):
    register(client, apple_shop.card)
    apns_server.answer(403, "BadCertificate")
    assert apple_wallet_service.push_card_update(apple_shop.card.id) == 0
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 1


def test_apns_unreachable_asks_for_a_retry(client, app, apple_shop, apns_server):
    register(client, apple_shop.card)
    apns_server.stop()
    with pytest.raises(WalletIntegrationError):
        apple_wallet_service.push_card_update(apple_shop.card.id)
