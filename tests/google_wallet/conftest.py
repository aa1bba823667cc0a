"""Google Wallet fixtures: a service-account key made for the test session, a local stand-in for
Google's token endpoint and Wallet API (fake_google.py), and the app configured to use both.

- `service_account_key`: the RSA key and the service account's JSON (session-wide).
- `fake_google`: the local Google (session-wide server, emptied for each test).
- `google_app`: `app` with GOOGLE_WALLET_* settings pointing at `fake_google`.
"""

import json

import pytest

from tests.google_wallet.fake_google import (
    ISSUER_ID,
    SERVICE_ACCOUNT_EMAIL,
    FakeGoogleWallet,
    ServiceAccountKey,
    google_settings,
    make_service_account_key,
)


@pytest.fixture(scope="session")
def service_account_key() -> ServiceAccountKey:
    return make_service_account_key()


@pytest.fixture(scope="session")
def _google_server(service_account_key):
    server = FakeGoogleWallet(ISSUER_ID, SERVICE_ACCOUNT_EMAIL, service_account_key.public_key_pem)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_google(_google_server) -> FakeGoogleWallet:
    _google_server.reset()
    yield _google_server
    _google_server.reset()


@pytest.fixture
def service_account_file(tmp_path, service_account_key, fake_google):
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(service_account_key.json_for(fake_google.token_uri)))
    return path


@pytest.fixture
def google_app(app, fake_google, service_account_file):
    """The app, with Google Wallet configured against the local fake Google."""
    from loyalty_portal.services import google_wallet_service

    app.config.update(google_settings(fake_google, service_account_file))
    google_wallet_service.init_app(app)
    return app
