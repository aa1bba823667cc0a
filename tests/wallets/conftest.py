"""Fixtures for the wallet tests: a shop whose program offers the Apple pass, on an app configured
with the test certificate chain (tests/conftest.py: apple_certificates, apple_wallet)."""

import io
import zipfile

import pytest

from loyalty_portal.services import program_service
from tests.api.helpers import make_shop


@pytest.fixture
def apple_shop(db, frozen_time, apple_wallet):
    """A stamp program (10 stamps for a free coffee, PIN 4827, no cooldown) with the Apple pass
    switched on,
    and one card."""
    shop = make_shop("stamps", stamps_target=10, name="Coffee card", cooldown_minutes=0,
                     stamps_reward_description="A free coffee")
    program_service.update_program(shop.vendor.id, apple_wallet_enabled=True)
    return shop


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def apns_server(app, apple_wallet, apple_certificates, tmp_path):
    """A local APNs (HTTP/2, TLS, client certificate required) that the app pushes to."""
    from loyalty_portal.services.apple_certificates import load_credentials
    from tests.wallets.apns_server import ApnsServer

    chain = apple_certificates.chain
    server = ApnsServer(
        chain.root,
        chain.root_key,
        [apple_certificates.ca_file, apple_certificates.settings["APPLE_WWDR_CERTIFICATE"]],
        tmp_path,
    ).start()
    app.config.update(APPLE_APNS_URL=server.url, APPLE_APNS_TIMEOUT_SECONDS=5)
    app.extensions["apple_wallet"] = load_credentials(app.config)
    app.extensions.pop("apple_apns_client", None)
    yield server
    client = app.extensions.pop("apple_apns_client", None)
    if client is not None:
        client.close()
    server.stop()
