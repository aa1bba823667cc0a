"""Fixtures for the wallet tests: a shop whose program offers the Apple pass, on an app configured
with the test certificate chain (tests/conftest.py: apple_certificates, apple_wallet)."""

import io
import zipfile

import pytest

from loyalty_portal.services import program_service
from tests.api.helpers import make_shop


@pytest.fixture
def apple_shop(db, frozen_time, apple_wallet):
    """A stamp program (10 stamps for a free coffee, PIN 1234, no cooldown) with the Apple pass
    switched on,
    and one card."""
    shop = make_shop("stamps", stamps_target=10, name="Coffee card", cooldown_minutes=0,
                     stamps_reward_description="A free coffee")
    program_service.update_program(shop.vendor.id, apple_wallet_enabled=True)
    return shop


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
