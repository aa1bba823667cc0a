"""Google Wallet fixtures: a service-account key made for the test session, a local stand-in for
Google's token endpoint and Wallet API (fake_google.py), and the app configured to use both.

- `service_account_key`: the RSA key and the service account's JSON (session-wide).
- `fake_google`: the local Google (session-wide server, emptied for each test).
- `google_app`: `app` with GOOGLE_WALLET_* settings pointing at `fake_google`.
"""

import json
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google_wallet.fake_google import FakeGoogleWallet

ISSUER_ID = "3388000000012345678"
SERVICE_ACCOUNT_EMAIL = "loyalty-wallet@loyalty-portal-test.iam.gserviceaccount.com"


@dataclass(frozen=True)
class ServiceAccountKey:
    private_key_pem: str
    public_key_pem: str
    key_id: str = "test-key-1"

    def json_for(self, token_uri: str) -> dict:
        return {
            "type": "service_account",
            "project_id": "loyalty-portal-test",
            "private_key_id": self.key_id,
            "private_key": self.private_key_pem,
            "client_email": SERVICE_ACCOUNT_EMAIL,
            "client_id": "100000000000000000001",
            "token_uri": token_uri,
        }


@pytest.fixture(scope="session")
def service_account_key() -> ServiceAccountKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ServiceAccountKey(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        public_key_pem=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


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


def google_settings(fake, key_file) -> dict:
    return {
        "GOOGLE_WALLET_ISSUER_ID": ISSUER_ID,
        "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": str(key_file),
        "GOOGLE_WALLET_API_BASE_URL": fake.api_base_url,
        "GOOGLE_WALLET_ID_PREFIX": "test",
        "GOOGLE_WALLET_TIMEOUT_SECONDS": 5,
        "PUBLIC_BASE_URL": "https://loyalty.example.com",
    }


@pytest.fixture
def google_app(app, fake_google, service_account_file):
    """The app, with Google Wallet configured against the local fake Google."""
    from loyalty_portal.services import google_wallet_service

    app.config.update(google_settings(fake_google, service_account_file))
    google_wallet_service.init_app(app)
    return app
