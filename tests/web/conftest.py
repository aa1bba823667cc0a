"""Fixtures of the owner-screen tests: a stamp shop with its owner, and the owner signed in."""

import pytest

from tests.web.owner_helpers import make_owner_shop
from tests.web.screen_helpers import sign_in


@pytest.fixture
def shop(db, frozen_time):
    return make_owner_shop("stamps", stamps_target=8)


@pytest.fixture
def owner(client, shop):
    sign_in(client, shop.owner)
    return client
